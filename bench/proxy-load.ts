/**
 * Child process of the proxy benchmark: the load generator, autocannon's programmatic API in its own
 * process (never the proxy's). The parent calls `run({url, rate?, seconds?, amount?, connections})`
 * per phase and gets requests, failures (socket errors + timeouts + non-2xx) and latency in ms;
 * `headers` are sent on every request, and `countHeader` counts the responses by that header's value.
 */
import { createRequire } from 'node:module';
import { serveOps } from './proxy-ipc.ts';

interface Histogram {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}
interface Result {
  requests: { total: number };
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
// autocannon ships no types; this is the part of its result we read
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: object) => Promise<Result>;

export interface LoadOptions {
  url: string;
  rate?: number;
  seconds?: number;
  amount?: number;
  connections: number;
  headers?: Record<string, string>;
  countHeader?: string;
}
export type LoadResult = Awaited<ReturnType<typeof runLoad>>;

async function runLoad(o: LoadOptions) {
  const byHeader: Record<string, number> = {};
  const name = o.countHeader?.toLowerCase();
  const count = (_status: number, _body: string, _ctx: unknown, headers: Record<string, unknown>) => {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    const v = key === undefined ? '(none)' : String(headers[key]);
    byHeader[v] = (byHeader[v] ?? 0) + 1;
  };
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    ...(o.rate ? { overallRate: o.rate } : {}),
    ...(o.amount ? { amount: o.amount } : { duration: o.seconds ?? 5 }),
    timeout: 10,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(name ? { requests: [{ method: 'GET', onResponse: count }] } : {}),
  });
  const l = r.latency;
  return {
    requests: r.requests.total,
    durationSeconds: r.duration,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    failed: r.errors + r.timeouts + r.non2xx,
    latency: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.mean },
    byHeader,
  };
}

serveOps({ run: (o: LoadOptions) => runLoad(o) });
