/** The proxy's own counters for one version: error rate, request and error counts, latency percentiles (ms). */
import type { z } from 'zod';
import type { VersionStats } from '../../proxy/stats.ts';
import type { Provider } from '../measurement.ts';
import type { builtinProviderSchema } from '../provider-schema.ts';

export type BuiltinSpec = z.output<typeof builtinProviderSchema>;

/** What the builtin provider reads: the proxy's `stats()` fits (only `versions` is read). */
export type StatsSource = () => { versions: Record<string, Pick<VersionStats, 'requests' | 'errors' | 'latencyMs'>> };

export function builtinProvider(spec: BuiltinSpec, deps: { statsSource?: StatsSource }): Provider {
  return {
    async measure() {
      if (!deps.statsSource) throw new Error('the builtin provider needs the rollout proxy, and none is running for this environment');
      const v = deps.statsSource().versions[spec.version];
      if (!v) throw new Error(`the proxy has no version ${JSON.stringify(spec.version)}: check provider.builtin.version`);
      switch (spec.measure) {
        case 'requests':
          return v.requests;
        case 'errors':
          return v.errors;
        case 'errorRate':
          return v.requests === 0 ? 0 : v.errors / v.requests;
        default:
          return v.latencyMs[spec.measure];
      }
    },
  };
}
