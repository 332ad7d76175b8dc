/** The proxy's counters as a plain JSON document: totals and, per version, traffic, errors, latency and health. */
import type { Health } from './backend.ts';
import type { Totals } from './forward.ts';
import type { LatencySummary } from './histogram.ts';
import type { RoutingState } from './router.ts';

export interface VersionStats {
  url: string;
  weight: number;
  /** attempts sent to this version (a retried request counts on both versions) */
  requests: number;
  /** 5xx responses (backend or injected) and proxy errors (connection refused, reset, timeout) */
  errors: number;
  errorRate: number;
  inFlight: number;
  latencyMs: LatencySummary;
  health: Health;
  draining: boolean;
  injected: { latencyMs: number; errorRate: number };
}

export interface ProxyStats {
  at: string;
  weights: Record<string, number>;
  /** client requests, responses that failed (status >= 500 or cut), clients that went away first, GET/HEAD retried on another version, requests served by a weight-0 version because no weighted one could */
  totals: Totals & { fallbacks: number };
  versions: Record<string, VersionStats>;
}

export function proxyStats(state: RoutingState, totals: Totals, clock: () => Date): ProxyStats {
  const versions: Record<string, VersionStats> = {};
  for (const b of state.backends.values()) {
    versions[b.version] = {
      url: b.url.href,
      weight: state.weights[b.version] ?? 0,
      requests: b.requests,
      errors: b.errors,
      errorRate: b.requests === 0 ? 0 : Math.round((b.errors / b.requests) * 10_000) / 10_000,
      inFlight: b.inFlight,
      latencyMs: b.latency.summary(),
      health: b.health,
      draining: b.draining,
      injected: { ...b.injection },
    };
  }
  return { at: clock().toISOString(), weights: { ...state.weights }, totals: { ...totals, fallbacks: state.fallbacks }, versions };
}

export function resetStats(state: RoutingState, totals: Totals): void {
  totals.requests = 0;
  totals.failed = 0;
  totals.aborted = 0;
  totals.retries = 0;
  state.fallbacks = 0;
  for (const b of state.backends.values()) {
    b.requests = 0;
    b.errors = 0;
    b.latency.reset();
  }
}
