/**
 * Draining: a draining version gets no new requests (its share goes to the others); drain resolves
 * when its in-flight count reaches 0, or at the timeout with the count still in flight.
 */
import type { BackendState } from './backend.ts';
import type { RoutingState } from './router.ts';

export interface DrainResult {
  version: string;
  /** true when in-flight reached 0 before the timeout */
  drained: boolean;
  /** requests still in flight when it resolved */
  inFlight: number;
  waitedMs: number;
}

type Emit = (type: 'drain-started' | 'drain-finished', message: string, version?: string) => void;

export function createDrain(state: RoutingState, emit: Emit) {
  const cancels = new Set<() => void>();
  /** resolve true when `b` has nothing in flight, false after timeoutMs */
  const waitIdle = (b: BackendState, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (b.inFlight === 0) return resolve(true);
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        b.idleWaiters.delete(onIdle);
        cancels.delete(cancel);
        resolve(idle);
      };
      const onIdle = () => finish(true);
      const cancel = () => finish(false);
      const timer = setTimeout(cancel, timeoutMs);
      b.idleWaiters.add(onIdle);
      cancels.add(cancel);
    });
  return {
    async drain(b: BackendState, timeoutMs: number): Promise<DrainResult> {
      const t0 = Date.now();
      b.draining = true;
      emit('drain-started', `version ${b.version} is draining: no new requests, ${b.inFlight} in flight`, b.version);
      const drained = await waitIdle(b, Math.max(0, timeoutMs));
      const r = { version: b.version, drained, inFlight: b.inFlight, waitedMs: Date.now() - t0 };
      emit('drain-finished', drained ? `version ${b.version} drained in ${r.waitedMs} ms` : `version ${b.version} still had ${r.inFlight} requests in flight after ${timeoutMs} ms`, b.version);
      return r;
    },
    /** wait until no backend has a request in flight (or the timeout) */
    async allIdle(timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (const b of state.backends.values()) await waitIdle(b, Math.max(0, deadline - Date.now()));
    },
    /** resolve every pending wait now (close) */
    cancelAll(): void {
      for (const c of [...cancels]) c();
    },
  };
}
