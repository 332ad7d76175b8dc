/**
 * The proxy's set of backends and its weights and header routes, changed atomically: every change is
 * validated in full before any state moves, so a refused change leaves the proxy as it was. Removed
 * versions stop receiving new requests at once and are disposed of (agent closed) once drained.
 */
import { DomainError } from '../../domain/errors.ts';
import type { BackendState } from './backend.ts';
import type { createDrain, DrainResult } from './drain.ts';
import { type Backend, backendSchema, backendsSchema, type HeaderRoute, headerRoutesSchema, parseInput } from './options.ts';
import type { RoutingState } from './router.ts';
import { validateWeights, type Weights } from './weights.ts';

type Emit = (type: 'weights-changed' | 'header-routes-changed' | 'backend-added' | 'backend-removed', message: string, version?: string) => void;

export interface BackendSetDeps {
  state: RoutingState;
  router: { resetPosition(): void };
  drains: ReturnType<typeof createDrain>;
  emit: Emit;
  make(b: Backend): BackendState;
}

const REMOVE_DRAIN_MS = 30_000;
const show = (w: Weights) => Object.entries(w).map(([v, n]) => `${v}=${n}`).join(', ') || '(none)';

export function createBackendSet(deps: BackendSetDeps) {
  const { state } = deps;
  const checkRoutes = (routes: unknown, versions: readonly string[]): HeaderRoute[] => {
    const parsed = parseInput(headerRoutesSchema, routes, 'headerRoutes', 'each route is {header, value, version}');
    parsed.forEach((r, i) => {
      if (!versions.includes(r.version)) {
        throw new DomainError('invalid_input', `weighted proxy: headerRoutes[${i}].version: unknown version "${r.version}"; the proxy's versions are ${versions.join(', ')}`, { field: `headerRoutes[${i}].version`, fix: 'route only to a version the proxy serves' });
      }
    });
    return parsed;
  };
  const retire = async (b: BackendState, timeoutMs: number): Promise<DrainResult> => {
    b.removed = true;
    const r = await deps.drains.drain(b, timeoutMs);
    b.dispose();
    deps.emit('backend-removed', `version ${b.version} removed${r.drained ? '' : ` with ${r.inFlight} requests still in flight`}`, b.version);
    return r;
  };
  const setWeights = (w: unknown): Weights => {
    const next = validateWeights(w, [...state.backends.keys()]);
    const previous = state.weights;
    state.weights = next;
    deps.router.resetPosition();
    deps.emit('weights-changed', `weights ${show(previous)} -> ${show(next)}`);
    return next;
  };
  const get = (version: string): BackendState => {
    const b = state.backends.get(version);
    if (!b) throw new DomainError('not_found', `weighted proxy: no backend with version "${version.slice(0, 128)}"; versions: ${[...state.backends.keys()].join(', ')}`, { field: 'version', fix: 'use one of the listed versions' });
    return b;
  };
  return {
    get,
    setWeights,
    setHeaderRoutes(routes: unknown): void {
      state.headerRoutes = checkRoutes(routes, [...state.backends.keys()]);
      deps.emit('header-routes-changed', `header routes: ${state.headerRoutes.map((r) => `${r.header}: ${r.value} -> ${r.version}`).join('; ') || '(none)'}`);
    },
    /** replace backends, weights and header routes at once; resolves when removed versions are drained */
    async replace(backends: unknown, weights: unknown, routes: unknown): Promise<void> {
      const next = parseInput(backendsSchema, backends, 'backends', 'pass [{version, url}] with distinct versions and http:// URLs');
      const versions = next.map((b) => b.version);
      const w = validateWeights(weights, versions);
      const r = checkRoutes(routes, versions);
      const map = new Map<string, BackendState>();
      const old: BackendState[] = [];
      for (const b of next) {
        const cur = state.backends.get(b.version);
        if (cur && cur.url.href === new URL(b.url).href) map.set(b.version, cur);
        else map.set(b.version, deps.make(b));
      }
      for (const cur of state.backends.values()) if (map.get(cur.version) !== cur) old.push(cur);
      const added = [...map.values()].filter((b) => state.backends.get(b.version) !== b);
      state.backends = map;
      state.headerRoutes = r;
      setWeights(w);
      for (const b of added) deps.emit('backend-added', `version ${b.version} at ${b.url.href} added`, b.version);
      await Promise.all(old.map((b) => retire(b, REMOVE_DRAIN_MS)));
    },
    add(backend: unknown): void {
      const b = parseInput(backendSchema, backend, 'backend', 'pass {version, url} with an http:// URL');
      if (state.backends.has(b.version)) throw new DomainError('conflict', `weighted proxy: version "${b.version}" is already a backend`, { field: 'version', fix: 'remove it first, or use setBackends to change its URL' });
      if (state.backends.size >= 32) throw new DomainError('invalid_input', 'weighted proxy: at most 32 backends', { field: 'backends', fix: 'remove a version first' });
      const s = deps.make(b);
      state.backends = new Map([...state.backends, [b.version, s]]);
      state.weights = Object.freeze({ ...state.weights, [b.version]: 0 });
      deps.emit('backend-added', `version ${b.version} at ${s.url.href} added with weight 0`, b.version);
    },
    async remove(version: string, drainTimeoutMs: number): Promise<DrainResult> {
      const b = get(version);
      const w = state.weights[version] ?? 0;
      if (w > 0) throw new DomainError('conflict', `weighted proxy: version "${version}" still has weight ${w}`, { field: `weights.${version}`, fix: 'set its weight to 0 (setWeights) before removing it' });
      const route = state.headerRoutes.find((r) => r.version === version);
      if (route) throw new DomainError('conflict', `weighted proxy: header route ${route.header}: ${route.value} still points at version "${version}"`, { field: 'headerRoutes', fix: 'change the header routes first (setHeaderRoutes)' });
      const map = new Map(state.backends);
      map.delete(version);
      state.backends = map;
      const { [version]: _gone, ...restWeights } = state.weights;
      state.weights = Object.freeze(restWeights);
      return retire(b, drainTimeoutMs);
    },
  };
}
