/**
 * createWeightedProxy: the `local` target's weighted reverse proxy for one environment and service.
 * Splits traffic per request by weight (smooth weighted round robin), honours header routes, counts
 * requests, errors and latency per version, injects latency and errors on demand, trips a circuit
 * breaker per version, drains versions, and changes weights atomically without failing a request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import { DomainError } from '../../domain/errors.ts';
import { type BackendState, createBackendState, type Health } from './backend.ts';
import { createForwarder, type Totals } from './forward.ts';
import { type Backend, type HeaderRoute, injectionSchema, parseInput, tuningSchema } from './options.ts';
import { createRouter, type RoutingState } from './router.ts';
import { createBackendSet } from './backend-set.ts';
import { createDrain, type DrainResult } from './drain.ts';
import { type ProxyStats, proxyStats, resetStats } from './stats.ts';
import type { Weights } from './weights.ts';

export const proxyEventTypes = ['weights-changed', 'header-routes-changed', 'breaker-open', 'breaker-half-open', 'breaker-closed', 'retry', 'backend-added', 'backend-removed', 'drain-started', 'drain-finished', 'fault-injected'] as const;
export type ProxyEventType = (typeof proxyEventTypes)[number];
export interface ProxyEvent {
  type: ProxyEventType;
  /** ISO time from the injected clock */
  at: string;
  version?: string;
  message: string;
}

type LogFn = (obj: object, msg: string) => void;
export interface WeightedProxyOptions {
  listen?: { host?: string; port?: number };
  backends: Backend[];
  weights: Record<string, number>;
  headerRoutes?: HeaderRoute[];
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number; countInjected?: boolean };
  maxHeaderBytes?: number;
  proxyTimeoutMs?: number;
  maxSocketsPerBackend?: number;
  closeTimeoutMs?: number;
  logger: { info: LogFn; warn: LogFn };
  clock: () => Date;
  onEvent?: (e: ProxyEvent) => void;
  /** the random source for injected errors (default Math.random) */
  random?: () => number;
}

export interface WeightedProxy {
  readonly url: string;
  setWeights(weights: Record<string, number>): Weights;
  weights(): Weights;
  setHeaderRoutes(routes: HeaderRoute[]): void;
  setBackends(backends: Backend[], weights: Record<string, number>): Promise<void>;
  addBackend(backend: Backend): void;
  removeBackend(version: string, opts?: { drainTimeoutMs?: number }): Promise<DrainResult>;
  stats(): ProxyStats;
  resetStats(): void;
  inject(version: string, fault: { latencyMs?: number; errorRate?: number }): void;
  drain(version: string, timeoutMs: number): Promise<DrainResult>;
  undrain(version: string): void;
  close(): Promise<void>;
}

export async function createWeightedProxy(opts: WeightedProxyOptions): Promise<WeightedProxy> {
  const { backends: initialBackends, weights: initialWeights, headerRoutes = [], logger, clock, onEvent, random = Math.random, ...rest } = opts;
  const tuning = parseInput(tuningSchema, { ...rest, listen: rest.listen ?? {} }, 'options', 'see docs/rollout-proxy.md for the proxy options and their bounds');
  const emit = (type: ProxyEventType, message: string, version?: string): void => {
    const e: ProxyEvent = { type, at: clock().toISOString(), message, ...(version ? { version } : {}) };
    if (type.startsWith('breaker') || type === 'retry') logger.warn({ proxyEvent: e }, message);
    else logger.info({ proxyEvent: e }, message);
    try {
      onEvent?.(e);
    } catch (err) {
      logger.warn({ err }, 'weighted proxy: onEvent callback threw; the event was still applied');
    }
  };
  const onHealth = (b: BackendState, h: Health): void => {
    const text = h === 'open' ? `circuit breaker of version ${b.version} opened; its traffic goes to the other versions` : h === 'half-open' ? `circuit breaker of version ${b.version} is half-open: one trial request` : `circuit breaker of version ${b.version} closed; it receives traffic again`;
    emit(h === 'open' ? 'breaker-open' : h === 'half-open' ? 'breaker-half-open' : 'breaker-closed', text, b.version);
  };
  const state: RoutingState = { backends: new Map(), weights: {}, headerRoutes: [], halfOpenAfterMs: tuning.breaker.halfOpenAfterMs, fallbacks: 0 };
  const totals: Totals = { requests: 0, failed: 0, aborted: 0, retries: 0 };
  const router = createRouter(state);
  const drains = createDrain(state, emit);
  const set = createBackendSet({ state, router, drains, emit, make: (b) => createBackendState(b, { breaker: tuning.breaker, maxSockets: tuning.maxSocketsPerBackend, onHealth }) });
  await set.replace(initialBackends, initialWeights, headerRoutes);

  const timers = new Set<NodeJS.Timeout>();
  const proxy = createProxyServer({ xfwd: true });
  const handle = createForwarder({
    proxy,
    router,
    totals,
    countInjected: tuning.breaker.countInjected,
    proxyTimeoutMs: tuning.proxyTimeoutMs,
    random,
    timers,
    onRetry: (from, to, error) => emit('retry', `version ${from.version} failed before responding (${error}); retried on ${to.version}`, from.version),
  });
  const server = http.createServer({ maxHeaderSize: tuning.maxHeaderBytes, headersTimeout: 10_000, requestTimeout: 0, keepAliveTimeout: 5_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      for (const b of state.backends.values()) b.dispose();
      reject(new DomainError('unavailable', `weighted proxy: cannot listen on ${tuning.listen.host}:${tuning.listen.port}: ${err.message}`, { field: 'listen', fix: 'choose a free port (0 picks one) or stop what holds it' }));
    });
    server.listen(tuning.listen.port, tuning.listen.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    setWeights: (w) => set.setWeights(w),
    weights: () => state.weights,
    setHeaderRoutes: (routes) => set.setHeaderRoutes(routes),
    setBackends: (bs, w) => set.replace(bs, w, state.headerRoutes),
    addBackend: (b) => set.add(b),
    removeBackend: (v, o) => set.remove(v, o?.drainTimeoutMs ?? 30_000),
    stats: () => proxyStats(state, totals, clock),
    resetStats: () => resetStats(state, totals),
    inject(version, fault) {
      const f = parseInput(injectionSchema, fault, `inject(${version.slice(0, 128)})`, 'latencyMs: integer 0..60000, errorRate: 0..1');
      const b = set.get(version);
      b.injection = { latencyMs: f.latencyMs ?? 0, errorRate: f.errorRate ?? 0 };
      emit('fault-injected', `version ${version}: injected latency ${b.injection.latencyMs} ms, error rate ${b.injection.errorRate}`, version);
    },
    drain: async (v, timeoutMs) => drains.drain(set.get(v), timeoutMs),
    undrain(v) {
      set.get(v).draining = false;
    },
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        await drains.allIdle(tuning.closeTimeoutMs);
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        drains.cancelAll();
        for (const b of state.backends.values()) b.dispose();
        proxy.removeAllListeners();
        await closed;
      })();
      return closing;
    },
  };
}
