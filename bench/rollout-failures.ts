/**
 * Rollout benchmark, part 1: requests failed at 300 requests/s through a real `local` host while
 * traffic moves the way the rollout controller moves it: weights 10 -> 50 -> 100, an abort (100/0,
 * then stopVersion of the canary), a blue-green switch (header-route preview, then 0/100 at once),
 * and a drain (stopVersion of a version just set to weight 0 while its requests are in flight).
 * The host starts and ends each phase with v1 = 100 and v2 ready at weight 0.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult } from './proxy-load.ts';
import type { BenchHost } from './rollout-host.ts';
import { progress } from './util.ts';

export type LoadFn = (o: { url: string; rate?: number; seconds?: number; amount?: number; connections?: number; headers?: Record<string, string>; countHeader?: string }) => Promise<LoadResult>;

export const RATE = 300;
/** every request waits this long in the instance, so requests are in flight when traffic moves */
const DELAY_MS = 50;
const CONNECTIONS = 50;
/** the phases that stop a version: long requests, so the stop has some to wait for (300/s x 0.4 s) */
const STOP_DELAY_MS = 400;
const STOP_CONNECTIONS = 200;
const PREVIEW = { header: 'x-stagegate-preview', value: '1' } as const;

export interface PhaseFailures {
  phase: string;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** the proxy's own count of answers >= 500 or cut responses (stats().totals.failed) */
  proxyFailed: number;
  proxyRetries: number;
  /** stopVersion's result, for the phases that stop a version */
  stop?: { drained: boolean; inFlight: number; waitedMs: number; inFlightAtStart: number };
}

type Step = (host: BenchHost) => Promise<unknown>;
interface Phase {
  name: string;
  before: Step;
  /** run at 1/(n+1), 2/(n+1), ... of the load's duration */
  during: Step[];
  after: Step;
  /** extra requests per second with the preview header (taken out of the 300) */
  previewRate?: number;
  /** a phase that stops a version */
  stops?: boolean;
}

const traffic = (weights: Record<string, number>, preview = false): Step => (h) => h.client.setTraffic({ weights, ...(preview ? { headerRoutes: [{ ...PREVIEW, version: 'v2' }] } : {}) });
const stop = (v: string): Step => (h) => h.client.stopVersion(v, { drainTimeoutMs: 10_000 });
const reset: Step = (h) => traffic({ v1: 100, v2: 0 })(h);
/** steps one after the other; the last one's result */
const seq =
  (...steps: Step[]): Step =>
  async (h) => {
    let r: unknown;
    for (const s of steps) r = await s(h);
    return r;
  };
const put = (v: string): Step => (h) => h.put(v);
/**
 * wait (up to 2 s) until the proxy has requests of `v` in flight: autocannon's rate limit sends each
 * connection's share of a second at the tick, so there are moments with nothing in flight
 */
const busy =
  (v: string): Step =>
  async (h) => {
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      const s = (await h.client.stats()) as { versions: Record<string, { inFlight: number }> };
      if ((s.versions[v]?.inFlight ?? 0) >= 5) return;
      await sleep(5);
    }
  };

const phases: Phase[] = [
  { name: 'weights 10 -> 50 -> 100', before: reset, during: [traffic({ v1: 90, v2: 10 }), traffic({ v1: 50, v2: 50 }), traffic({ v1: 0, v2: 100 })], after: reset },
  {
    name: 'abort (100/0, then stopVersion of the canary)',
    before: traffic({ v1: 50, v2: 50 }),
    during: [seq(busy('v2'), traffic({ v1: 100, v2: 0 }), stop('v2'))],
    after: seq(put('v2'), reset),
    stops: true,
  },
  { name: 'blue-green switch (preview route, then 0/100)', before: traffic({ v1: 100, v2: 0 }, true), during: [traffic({ v1: 0, v2: 100 })], after: reset, previewRate: 30 },
  {
    name: 'drain (stopVersion of a weight-0 version with requests in flight)',
    before: traffic({ v1: 50, v2: 50 }),
    during: [seq(busy('v1'), traffic({ v1: 0, v2: 100 }), stop('v1'))],
    after: seq(put('v1'), reset),
    stops: true,
  },
];

/** the in-flight count the proxy's last `drain-started` event names ("... no new requests, N in flight") */
async function inFlightAtDrain(host: BenchHost): Promise<number> {
  const started = (await host.client.events(0)).filter((e) => e.type === 'drain-started').at(-1);
  return Number(/(\d+) in flight/.exec(started?.message ?? '')?.[1] ?? Number.NaN);
}

async function runPhase(host: BenchHost, load: LoadFn, p: Phase, seconds: number): Promise<PhaseFailures> {
  await p.before(host);
  await host.client.resetStats();
  const url = `${host.proxyUrl}/?delay=${p.stops ? STOP_DELAY_MS : DELAY_MS}`;
  const previewRate = p.previewRate ?? 0;
  const main = load({ url, rate: RATE - previewRate, seconds, connections: p.stops ? STOP_CONNECTIONS : CONNECTIONS });
  const preview = previewRate > 0 ? load({ url, rate: previewRate, seconds, connections: 5, headers: { [PREVIEW.header]: PREVIEW.value } }) : undefined;
  const gap = (seconds * 1000) / (p.during.length + 1);
  let stopResult: PhaseFailures['stop'];
  for (const step of p.during) {
    await sleep(gap);
    const r = await step(host);
    if (r && typeof r === 'object' && 'drained' in r) stopResult = { ...(r as { drained: boolean; inFlight: number; waitedMs: number }), inFlightAtStart: await inFlightAtDrain(host) };
  }
  const loads = [await main, ...(preview ? [await preview] : [])];
  const totals = (await host.client.stats()) as { totals: { failed: number; retries: number } };
  await p.after(host);
  const sum = (k: 'requests' | 'non2xx' | 'errors' | 'timeouts') => loads.reduce((a, l) => a + l[k], 0);
  return {
    phase: p.name,
    requests: sum('requests'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    proxyFailed: totals.totals.failed,
    proxyRetries: totals.totals.retries,
    ...(stopResult ? { stop: stopResult } : {}),
  };
}

/** every phase `rounds` times; one entry per phase and round */
export async function measureFailures(host: BenchHost, load: LoadFn, seconds: number, rounds: number): Promise<PhaseFailures[]> {
  const out: PhaseFailures[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const p of phases) {
      const f = await runPhase(host, load, p, seconds);
      progress(`rollout failures round ${r + 1}, ${f.phase}: ${f.requests} requests, ${f.non2xx} non-2xx, ${f.errors} errors, ${f.timeouts} timeouts, proxy failed ${f.proxyFailed}, retries ${f.proxyRetries}${f.stop ? `, stop ${JSON.stringify(f.stop)}` : ''}`);
      out.push(f);
    }
  }
  return out;
}

export const phaseNames = phases.map((p) => p.name);
