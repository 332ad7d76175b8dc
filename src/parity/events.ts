/**
 * The server's event stream: attestation findings (and their clearing) fan out to a bounded number
 * of subscribers (GET /v1/events, server-sent events). A slow subscriber loses its oldest queued
 * events rather than holding memory; closing the bus ends every stream.
 */
import { DomainError } from '../domain/errors.ts';
import type { JsonValue } from '../domain/audit.ts';

export interface ServerEvent {
  /** increasing per server run */
  id: number;
  type: string;
  time: string;
  data: { [k: string]: JsonValue };
}

export interface EventBus {
  emit(type: string, data: ServerEvent['data']): ServerEvent;
  /** an endless stream of events until `signal` aborts or the bus closes; throws when too many subscribers */
  subscribe(signal: AbortSignal): AsyncIterable<ServerEvent>;
  readonly subscribers: number;
  close(): void;
}

const QUEUE_MAX = 100;

export function createEventBus(opts: { maxSubscribers: number; clock: () => Date }): EventBus {
  let seq = 0;
  let closed = false;
  const subs = new Set<{ queue: ServerEvent[]; wake: () => void }>();
  return {
    get subscribers() {
      return subs.size;
    },
    emit(type, data) {
      const e: ServerEvent = { id: ++seq, type, time: opts.clock().toISOString(), data };
      for (const s of subs) {
        s.queue.push(e);
        if (s.queue.length > QUEUE_MAX) s.queue.shift();
        s.wake();
      }
      return e;
    },
    subscribe(signal) {
      if (closed) throw new DomainError('unavailable', 'the server is shutting down', { fix: 'reconnect once it is back' });
      if (subs.size >= opts.maxSubscribers) {
        throw new DomainError('unavailable', `too many event subscribers (at most ${opts.maxSubscribers})`, { fix: 'close another GET /v1/events stream, or retry later' });
      }
      const sub = { queue: [] as ServerEvent[], wake: () => {} };
      subs.add(sub);
      const stop = () => {
        subs.delete(sub);
        sub.wake();
      };
      signal.addEventListener('abort', stop, { once: true });
      return {
        async *[Symbol.asyncIterator]() {
          try {
            while (!closed && !signal.aborted) {
              const next = sub.queue.shift();
              if (next) {
                yield next;
                continue;
              }
              await new Promise<void>((resolve) => (sub.wake = resolve));
            }
          } finally {
            stop();
            signal.removeEventListener('abort', stop);
          }
        },
      };
    },
    close() {
      closed = true;
      for (const s of subs) s.wake();
      subs.clear();
    },
  };
}
