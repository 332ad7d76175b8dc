/**
 * One backend (version) of the weighted proxy: its keep-alive agent, circuit breaker (cockatiel,
 * consecutive failures -> open -> half-open after a delay), counters, latency histogram, injected
 * faults and drain state. Pure bookkeeping; the request path is in forward.ts.
 */
import http from 'node:http';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll, type CircuitBreakerPolicy, type IDisposable } from 'cockatiel';
import { createLatencyHistogram, type LatencyHistogram } from './histogram.ts';
import type { Backend, Injection } from './options.ts';

export type Health = 'closed' | 'open' | 'half-open';

export interface BreakerTuning {
  consecutiveFailures: number;
  halfOpenAfterMs: number;
  countInjected: boolean;
}

export interface BackendState {
  readonly version: string;
  readonly url: URL;
  readonly agent: http.Agent;
  readonly breaker: CircuitBreakerPolicy;
  readonly latency: LatencyHistogram;
  health: Health;
  /** Date.now() when the breaker last opened (cockatiel times its half-open delay with Date.now) */
  openedAt: number;
  inFlight: number;
  requests: number;
  errors: number;
  injection: Injection;
  draining: boolean;
  removed: boolean;
  /** called each time inFlight drops to 0 */
  readonly idleWaiters: Set<() => void>;
  dispose(): void;
}

const healthOf = (s: CircuitState): Health => (s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half-open' : 'open');

export function createBackendState(b: Backend, opts: { breaker: BreakerTuning; maxSockets: number; onHealth: (state: BackendState, health: Health) => void }): BackendState {
  const breaker = circuitBreaker(handleAll, { halfOpenAfter: opts.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(opts.breaker.consecutiveFailures) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: Math.min(opts.maxSockets, 64), scheduling: 'lifo' });
  const listeners: IDisposable[] = [];
  const state: BackendState = {
    version: b.version,
    url: new URL(b.url),
    agent,
    breaker,
    latency: createLatencyHistogram(),
    health: 'closed',
    openedAt: 0,
    inFlight: 0,
    requests: 0,
    errors: 0,
    injection: { latencyMs: 0, errorRate: 0 },
    draining: false,
    removed: false,
    idleWaiters: new Set(),
    dispose() {
      for (const l of listeners) l.dispose();
      agent.destroy();
    },
  };
  listeners.push(
    breaker.onStateChange((s) => {
      const health = healthOf(s);
      if (health === 'open') state.openedAt = Date.now();
      if (health === state.health) return;
      state.health = health;
      opts.onHealth(state, health);
    }),
  );
  return state;
}

/** may a new request go to this backend? (an open breaker past its delay admits one trial request) */
export function routable(b: BackendState, halfOpenAfterMs: number, now = Date.now()): boolean {
  if (b.draining || b.removed) return false;
  if (b.health === 'closed') return true;
  return b.health === 'open' && now - b.openedAt >= halfOpenAfterMs;
}

export function attemptEnded(b: BackendState): void {
  b.inFlight -= 1;
  if (b.inFlight === 0) for (const w of [...b.idleWaiters]) w();
}
