/** PromQL instant query over the Prometheus HTTP API: a vector becomes a list of doubles, a scalar a double. */
import type { z } from 'zod';
import { parseFineDuration } from '../../../domain/duration.ts';
import type { Provider } from '../measurement.ts';
import type { prometheusProviderSchema } from '../provider-schema.ts';
import { expectOk, type FetchLike, httpRequest, redact } from './http.ts';

export type PrometheusSpec = z.output<typeof prometheusProviderSchema>;

const num = (v: unknown, where: string): number => {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : Number.NaN;
  if (Number.isNaN(n) && v !== 'NaN') throw new Error(`${where}: a sample value is not a number: ${JSON.stringify(v)?.slice(0, 40)}`);
  return n;
};

/** The value of a Prometheus `/api/v1/query` answer: scalar -> number, vector -> number[] (in answer order). */
export function queryValue(body: unknown, where: string): number | number[] {
  const b = body as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
  if (!b || typeof b !== 'object') throw new Error(`${where}: the answer is not a Prometheus API JSON object`);
  if (b.status !== 'success') throw new Error(`${where}: query failed: ${String(b.error ?? b.status).slice(0, 300)}`);
  const type = b.data?.resultType;
  const result = b.data?.result;
  if (type === 'scalar' && Array.isArray(result)) return num(result[1], where);
  if (type === 'vector' && Array.isArray(result)) {
    if (result.length > 1000) throw new Error(`${where}: the vector has ${result.length} series (at most 1000): aggregate the query`);
    return result.map((s) => num((s as { value?: unknown[] })?.value?.[1], where));
  }
  throw new Error(`${where}: result type ${String(type)} is not supported: write an instant query that returns a scalar or a vector`);
}

export function prometheusProvider(spec: PrometheusSpec, deps: { fetch?: FetchLike } = {}): Provider {
  const timeoutMs = parseFineDuration(spec.timeout) ?? 10_000;
  const url = new URL('api/v1/query', spec.address.endsWith('/') ? spec.address : `${spec.address}/`);
  url.searchParams.set('query', spec.query);
  const where = `GET ${redact(url.href)}`;
  return {
    async measure(signal) {
      const r = await httpRequest(url.href, { timeoutMs, signal, fetch: deps.fetch, headers: { accept: 'application/json' } });
      let body: unknown;
      try {
        body = JSON.parse(r.text);
      } catch {
        expectOk(r, where);
        throw new Error(`${where}: the answer is not JSON: ${r.text.slice(0, 100).replace(/\s+/g, ' ')}`);
      }
      return queryValue(body, where);
    },
  };
}
