/** Scrape a Prometheus text exposition endpoint and select one sample by name and labels. */
import { createRequire } from 'node:module';
import type { z } from 'zod';
import type { Provider } from '../measurement.ts';
import { parseFineDuration } from '../../../domain/duration.ts';
import type { prometheusTextProviderSchema } from '../provider-schema.ts';
import { expectOk, type FetchLike, httpRequest, redact } from './http.ts';

interface ParsedFamily {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string; sum?: string }>;
}
type Parse = (text: string) => ParsedFamily[];
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as Parse;

export type PrometheusTextSpec = z.output<typeof prometheusTextProviderSchema>;

/** Select the sample of `metric` whose labels include every matcher; `_sum`/`_count` reach histograms and summaries. */
export function selectSample(text: string, metric: string, labels: Record<string, string>): number {
  let families: ParsedFamily[];
  try {
    families = parse(text);
  } catch (e) {
    throw new Error(`the response is not Prometheus text format: ${(e as Error).message}`);
  }
  if (!Array.isArray(families) || families.length === 0) throw new Error('the response holds no Prometheus metrics (not Prometheus text format?)');
  const suffix = /_(sum|count)$/.exec(metric);
  const base = suffix ? metric.slice(0, -suffix[0].length) : metric;
  const family = families.find((f) => f.name === metric) ?? (suffix ? families.find((f) => f.name === base && f.type !== 'COUNTER' && f.type !== 'GAUGE' && f.type !== 'UNTYPED') : undefined);
  if (!family) throw new Error(`metric ${metric} is not in the response (${families.length} metrics there)`);
  const matches = family.metrics.filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  if (matches.length === 0) throw new Error(`metric ${metric} has no sample with labels ${JSON.stringify(labels)}`);
  if (matches.length > 1) throw new Error(`metric ${metric} has ${matches.length} samples matching ${JSON.stringify(labels)}: add label matchers to select one`);
  const sample = matches[0];
  const raw = family.name === metric ? sample?.value : suffix?.[1] === 'sum' ? sample?.sum : sample?.count;
  const value = Number(raw);
  if (raw === undefined || raw === '' || Number.isNaN(value)) throw new Error(`metric ${metric} has a value that is not a number: ${String(raw).slice(0, 40)}`);
  return value;
}

export function prometheusTextProvider(spec: PrometheusTextSpec, deps: { fetch?: FetchLike } = {}): Provider {
  const timeoutMs = parseFineDuration(spec.timeout) ?? 10_000;
  return {
    async measure(signal) {
      const r = await httpRequest(spec.url, { timeoutMs, signal, fetch: deps.fetch, headers: { accept: 'text/plain;version=0.0.4' } });
      expectOk(r, `GET ${redact(spec.url)}`);
      try {
        return selectSample(r.text, spec.metric, spec.labels);
      } catch (e) {
        throw new Error(`GET ${redact(spec.url)}: ${(e as Error).message}`);
      }
    },
  };
}
