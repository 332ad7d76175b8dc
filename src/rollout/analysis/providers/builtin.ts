/**
 * The proxy's own counters for one version: error rate, request and error counts, latency
 * percentiles (ms). The stats may come from another process (the proxy over a socket), so the
 * source may be async; a source that does not answer within the provider's timeout is an Error.
 */
import type { z } from 'zod';
import { parseFineDuration } from '../../../domain/duration.ts';
import type { Provider } from '../measurement.ts';
import type { builtinProviderSchema } from '../provider-schema.ts';

export type BuiltinSpec = z.output<typeof builtinProviderSchema>;

/** What the builtin provider reads of the proxy's stats (the proxy's `stats()` and a target's traffic stats fit). */
export interface StatsSnapshot {
  versions: Record<string, { requests: number; errors: number; latencyMs: { p50: number; p90: number; p99: number }; health?: string }>;
}

/**
 * The proxy's stats, in-process (the proxy's `stats()`) or from another process (a call over a
 * socket). The signal aborts when the measurement is cancelled or times out.
 */
export type StatsSource = (signal: AbortSignal) => StatsSnapshot | Promise<StatsSnapshot>;

async function readStats(source: StatsSource, timeoutMs: number, signal: AbortSignal): Promise<StatsSnapshot> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(timeout.aborted ? `the rollout proxy's stats did not answer within ${timeoutMs} ms: check the proxy, or raise provider.builtin.timeout` : 'builtin measurement aborted'));
    if (both.aborted) onAbort();
    else both.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => source(both)), stopped]);
  } catch (e) {
    if (both.aborted) throw e;
    throw new Error(`the rollout proxy's stats could not be read: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 300)}`);
  } finally {
    if (onAbort) both.removeEventListener('abort', onAbort);
    stopped.catch(() => {});
  }
}

const finite = (n: unknown, what: string): number => {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`the rollout proxy's stats hold no number for ${what}`);
  return n;
};

export function builtinProvider(spec: BuiltinSpec, deps: { statsSource?: StatsSource }): Provider {
  const timeoutMs = parseFineDuration(spec.timeout) ?? 10_000;
  return {
    async measure(signal) {
      if (!deps.statsSource) throw new Error('the builtin provider needs the rollout proxy, and none is running for this environment');
      const stats = await readStats(deps.statsSource, timeoutMs, signal);
      const v = stats?.versions && Object.hasOwn(stats.versions, spec.version) ? stats.versions[spec.version] : undefined;
      if (!v) throw new Error(`the proxy has no version ${JSON.stringify(spec.version)}: check provider.builtin.version`);
      const what = `version ${spec.version} ${spec.measure}`;
      switch (spec.measure) {
        case 'requests':
          return finite(v.requests, what);
        case 'errors':
          return finite(v.errors, what);
        case 'errorRate': {
          // an open breaker means the proxy stopped sending the version requests because they failed:
          // its own counters then stay low, so it counts as failing everything (it must not pass for being cut off)
          if (v.health === 'open') return 1;
          const requests = finite(v.requests, what);
          return requests === 0 ? 0 : finite(v.errors, what) / requests;
        }
        default:
          return finite(v.latencyMs?.[spec.measure], what);
      }
    },
  };
}
