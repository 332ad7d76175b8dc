/**
 * Routing decisions of the weighted proxy: a header route first (strict: its version or a 503 that
 * says why), then the smooth weighted choice among routable versions with weight > 0, then, when
 * none of those can serve (breakers open, draining), any routable version with weight 0, so a
 * request is served rather than failed.
 */
import type http from 'node:http';
import { type BackendState, routable } from './backend.ts';
import type { Router } from './forward.ts';
import type { HeaderRoute } from './options.ts';
import { createSmoothPicker, type Weights } from './weights.ts';

export interface RoutingState {
  backends: Map<string, BackendState>;
  weights: Weights;
  headerRoutes: readonly HeaderRoute[];
  halfOpenAfterMs: number;
  fallbacks: number;
}

const headerValue = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

export function createRouter(state: RoutingState): Router & { resetPosition(): void } {
  const picker = createSmoothPicker();
  const fallbackPicker = createSmoothPicker();
  const ok = (tried?: ReadonlySet<string>) => {
    const now = Date.now();
    return (v: string) => {
      const b = state.backends.get(v);
      return b !== undefined && !tried?.has(v) && routable(b, state.halfOpenAfterMs, now);
    };
  };
  const choose = (tried?: ReadonlySet<string>): BackendState | undefined => {
    const eligible = ok(tried);
    let v = picker.pick(state.weights, eligible);
    if (v === undefined) {
      const equal = Object.fromEntries([...state.backends.keys()].map((k) => [k, 1]));
      v = fallbackPicker.pick(equal, eligible);
      if (v !== undefined) state.fallbacks += 1;
    }
    return v === undefined ? undefined : state.backends.get(v);
  };
  const why = (): string =>
    [...state.backends.values()]
      .map((b) => `${b.version} (weight ${state.weights[b.version] ?? 0}, breaker ${b.health}${b.draining ? ', draining' : ''})`)
      .join(', ');
  return {
    route(req) {
      for (const r of state.headerRoutes) {
        if (headerValue(req, r.header) !== r.value) continue;
        const b = state.backends.get(r.version);
        if (b && routable(b, state.halfOpenAfterMs)) return { ok: true, backend: b };
        const reason = !b ? 'is not a backend of this proxy' : b.draining || b.removed ? 'is draining' : `has its circuit breaker ${b.health}`;
        return { ok: false, status: 503, message: `stagegate proxy: header route ${r.header}: ${r.value} -> version ${r.version}, but ${r.version} ${reason}` };
      }
      const b = choose();
      if (b) return { ok: true, backend: b };
      return { ok: false, status: 503, message: `stagegate proxy: no version can serve this request: ${why()}` };
    },
    other(tried) {
      return choose(tried);
    },
    resetPosition() {
      picker.reset();
    },
  };
}
