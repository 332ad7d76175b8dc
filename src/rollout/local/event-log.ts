/**
 * The host's event ring buffer: the last `max` events (proxy and instance events) with a sequence
 * number, so a client reads what it has not seen with `after(seq)`.
 */
export const instanceEventTypes = ['started', 'ready', 'not-ready', 'exited', 'restarting', 'failed', 'stopped', 'restored', 'restore-failed', 'orphan-killed'] as const;

export interface HostEvent {
  seq: number;
  at: string;
  type: string;
  version?: string;
  message: string;
}
export type Emit = (type: string, message: string, version?: string) => void;

export function createEventLog(deps: { clock: () => Date; max?: number; onEvent?: (e: HostEvent) => void }) {
  const max = deps.max ?? 500;
  const ring: HostEvent[] = [];
  let seq = 0;
  const push: Emit = (type, message, version) => {
    seq += 1;
    const e: HostEvent = { seq, at: deps.clock().toISOString(), type, ...(version ? { version } : {}), message: message.slice(0, 4096) };
    ring.push(e);
    if (ring.length > max) ring.shift();
    deps.onEvent?.(e);
  };
  return {
    push,
    after: (n: number): HostEvent[] => ring.filter((e) => e.seq > n),
    lastSeq: () => seq,
  };
}
