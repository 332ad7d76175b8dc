/** Build the provider a metric names. */
import type { Provider } from '../measurement.ts';
import type { ProviderSpec } from '../provider-schema.ts';
import { builtinProvider, type StatsSource } from './builtin.ts';
import type { FetchLike } from './http.ts';
import { jobProvider } from './job.ts';
import { prometheusProvider } from './prometheus.ts';
import { prometheusTextProvider } from './prometheus-text.ts';
import { webProvider } from './web.ts';

export interface ProviderDeps {
  fetch?: FetchLike;
  /** the rollout proxy's stats(), for the builtin provider */
  statsSource?: StatsSource;
}

export function createProvider(spec: ProviderSpec, deps: ProviderDeps = {}): Provider {
  if ('prometheus-text' in spec) return prometheusTextProvider(spec['prometheus-text'], deps);
  if ('prometheus' in spec) return prometheusProvider(spec.prometheus, deps);
  if ('web' in spec) return webProvider(spec.web, deps);
  if ('job' in spec) return jobProvider(spec.job);
  return builtinProvider(spec.builtin, deps);
}
