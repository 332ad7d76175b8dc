/**
 * Webhook callbacks: a receiver reports a deployment's outcome by POSTing to
 * `/v1/callbacks/webhook/<deliveryId>`, signed like stagegate's own requests (HMAC-SHA256 over
 * `<timestamp>.<body>`, checked in constant time with a timestamp tolerance). The hub holds the
 * deliveries a webhook step is waiting for, in memory: after a restart the step re-registers its
 * delivery when it is adopted. The secret is only used to verify; it never appears in an answer.
 */
import { z } from 'zod';
import { DomainError } from '../../../domain/errors.ts';
import { type HeaderBag, verifySignature } from './sign.ts';

export const MAX_CALLBACK_BYTES = 16 * 1024;
export const MAX_PENDING_DELIVERIES = 10_000;
export const DELIVERY_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

export const callbackBodySchema = z.object({
  /** must equal the id in the URL: the signature covers the body, not the URL */
  deliveryId: z.string().max(128),
  status: z.enum(['succeeded', 'failed', 'pending']),
  message: z.string().max(2000).optional(),
});

export interface CallbackResult {
  status: 'succeeded' | 'failed';
  message: string;
}

export type CallbackReceipt =
  | { ok: true; status: 200; final: boolean; message: string }
  | { ok: false; status: 400 | 401 | 404 | 413; message: string };

export interface CallbackHub {
  readonly maxBodyBytes: number;
  /** register a delivery the server waits for, with the secret its callbacks are signed with */
  expect(deliveryId: string, secret: string): void;
  /** check one callback request; a good final one resolves the delivery's waiters */
  receive(deliveryId: string, headers: HeaderBag, rawBody: Buffer | string): CallbackReceipt;
  /** the delivery's final callback; undefined when `signal` aborts or the delivery is forgotten first */
  wait(deliveryId: string, signal?: AbortSignal): Promise<CallbackResult | undefined>;
  /** stop waiting for a delivery: later callbacks for it get 404 */
  forget(deliveryId: string): void;
}

interface Entry {
  secret: string;
  result?: CallbackResult;
  waiters: Set<(r: CallbackResult | undefined) => void>;
}

export function createCallbackHub(deps: { clock: () => Date; toleranceMs?: number }): CallbackHub {
  const entries = new Map<string, Entry>();
  const fail = (status: 400 | 401 | 404 | 413, message: string): CallbackReceipt => ({ ok: false, status, message });

  return {
    maxBodyBytes: MAX_CALLBACK_BYTES,
    expect(deliveryId, secret) {
      if (!DELIVERY_ID_RE.test(deliveryId)) throw new DomainError('invalid_input', 'a delivery id is 1 to 128 letters, digits, _ or -', { field: 'deliveryId' });
      const existing = entries.get(deliveryId);
      if (existing) {
        existing.secret = secret;
        return;
      }
      if (entries.size >= MAX_PENDING_DELIVERIES) {
        throw new DomainError('unavailable', `more than ${MAX_PENDING_DELIVERIES} webhook deliveries are waiting for callbacks`, { fix: 'lower the poll deadline of webhook targets' });
      }
      entries.set(deliveryId, { secret, waiters: new Set() });
    },
    receive(deliveryId, headers, rawBody) {
      const entry = entries.get(deliveryId);
      if (!entry) return fail(404, `no webhook delivery ${deliveryId.slice(0, 128)} is waiting for a callback (unknown, finished, or not yet re-attached after a restart); retry later or let stagegate poll`);
      const size = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody.length;
      if (size > MAX_CALLBACK_BYTES) return fail(413, `callback body is over ${MAX_CALLBACK_BYTES} bytes; send {deliveryId, status, message?} only`);
      const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
      const v = verifySignature(entry.secret, headers, body, { now: deps.clock(), ...(deps.toleranceMs !== undefined ? { toleranceMs: deps.toleranceMs } : {}) });
      if (!v.ok) return fail(401, `callback signature rejected: ${v.reason}; sign <timestamp>.<body> with the webhook's shared secret`);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        return fail(400, 'callback body is not JSON; send {"deliveryId": "...", "status": "succeeded"|"failed"|"pending", "message": "..."}');
      }
      const r = callbackBodySchema.safeParse(json);
      if (!r.success) {
        const i = r.error.issues[0];
        return fail(400, `callback body: ${i?.path.join('.') || '(body)'}: ${i?.message ?? 'invalid'}; send {deliveryId, status: succeeded|failed|pending, message?}`);
      }
      if (r.data.deliveryId !== deliveryId) return fail(400, 'callback body deliveryId does not match the delivery id in the URL');
      if (r.data.status === 'pending') return { ok: true, status: 200, final: false, message: 'progress noted; still waiting for succeeded or failed' };
      if (entry.result) return { ok: true, status: 200, final: true, message: `already received: ${entry.result.status}` };
      entry.result = { status: r.data.status, message: r.data.message ?? '' };
      for (const w of entry.waiters) w(entry.result);
      entry.waiters.clear();
      return { ok: true, status: 200, final: true, message: `received: ${r.data.status}` };
    },
    wait(deliveryId, signal) {
      const entry = entries.get(deliveryId);
      if (!entry) return Promise.reject(new DomainError('internal', `webhook delivery ${deliveryId} was not registered before waiting`));
      if (entry.result) return Promise.resolve(entry.result);
      if (signal?.aborted) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const done = (r: CallbackResult | undefined) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        };
        const onAbort = () => {
          entry.waiters.delete(done);
          resolve(undefined);
        };
        entry.waiters.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    forget(deliveryId) {
      const entry = entries.get(deliveryId);
      if (!entry) return;
      entries.delete(deliveryId);
      for (const w of entry.waiters) w(undefined);
    },
  };
}
