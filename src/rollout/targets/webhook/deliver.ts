/**
 * Deploy through a webhook: POST the signed deployment request, retry 5xx, timeouts and connection
 * errors with exponential backoff (4xx is never retried), then follow a `pending` answer by polling
 * the status URL until it succeeds, fails or the deadline passes. Always ends in a defined outcome;
 * only invalid options throw (a DomainError `invalid_input`).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describeFailure, type Exchange, exchange, type Sleep } from './http.ts';
import { parseWebhookOptions, type WebhookOptions, type WebhookOptionsInput } from './input.ts';
import { pollStatus, resolveStatusUrl } from './poll.ts';

export type { Sleep } from './http.ts';

export interface WebhookOutcome {
  /** `accepted`: the receiver answered pending with nowhere to poll and `awaitCallback` was set */
  status: 'succeeded' | 'failed' | 'timed-out' | 'aborted' | 'accepted';
  message: string;
  /** POST attempts made (1 + retries used) */
  attempts: number;
  /** status reads made while polling */
  polls: number;
  deliveryId: string;
}

export interface WebhookDeps {
  signal?: AbortSignal;
  clock?: () => Date;
  sleep?: Sleep;
  /** defaults to a random UUID; the webhook target passes a deterministic one (it re-sends with it after a restart) */
  deliveryId?: string;
  /** the request carries a callbackUrl: a pending answer without a status URL ends as `accepted` (the caller waits for the callback) */
  awaitCallback?: boolean;
}

const maxBackoffMs = 60_000;
const defaultSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal }).catch(() => {});

const retryable = (x: Exchange): boolean =>
  x.kind === 'timeout' || x.kind === 'connection' || (x.kind === 'http-error' && x.httpStatus >= 500);

export async function deployViaWebhook(input: WebhookOptionsInput, deps: WebhookDeps = {}): Promise<WebhookOutcome> {
  const o: WebhookOptions = parseWebhookOptions(input);
  const clock = deps.clock ?? (() => new Date());
  const sleep = deps.sleep ?? defaultSleep;
  const deliveryId = deps.deliveryId ?? randomUUID();
  const body = JSON.stringify({ type: 'stagegate.deploy/v1', deliveryId, ...o.request });
  const end = (status: WebhookOutcome['status'], message: string, attempts: number, polls = 0): WebhookOutcome => ({
    status,
    message,
    attempts,
    polls,
    deliveryId,
  });
  const aborted = (attempts: number) => end('aborted', `webhook deployment to ${o.url} aborted by the caller`, attempts);

  let attempts = 0;
  let last: Exchange = { kind: 'timeout' };
  while (attempts <= o.retries) {
    if (deps.signal?.aborted) return aborted(attempts);
    if (attempts > 0) {
      await sleep(Math.min(o.backoffMs * 2 ** (attempts - 1), maxBackoffMs), deps.signal);
      if (deps.signal?.aborted) return aborted(attempts);
    }
    attempts++;
    last = await exchange({ method: 'POST', url: o.url, body, secret: o.secret, deliveryId, now: clock(), timeoutMs: o.timeoutMs, signal: deps.signal });
    if (last.kind === 'aborted') return aborted(attempts);
    if (!retryable(last)) break;
  }

  if (last.kind !== 'status') {
    const what = describeFailure(last, o.url);
    if (!retryable(last)) {
      return end('failed', `webhook receiver refused the deployment request: ${what}; not retried (fix the request or the receiver, then retry the promotion)`, attempts);
    }
    const status = last.kind === 'timeout' ? 'timed-out' : 'failed';
    return end(status, `webhook deployment request failed after ${attempts} attempt(s): ${what}; check that the receiver is up and answers within ${o.timeoutMs} ms`, attempts);
  }
  const answer = last.body;
  const said = answer.message ? `: ${answer.message}` : '';
  if (answer.status === 'succeeded') return end('succeeded', `webhook receiver at ${o.url} reported success${said}`, attempts);
  if (answer.status === 'failed') return end('failed', `webhook receiver at ${o.url} reported failure${said}`, attempts);

  const target = resolveStatusUrl(o, answer.statusUrl, deliveryId);
  if (!target.ok && deps.awaitCallback && !answer.statusUrl) return end('accepted', `webhook receiver at ${o.url} accepted the deployment${said}; waiting for its callback`, attempts);
  if (!target.ok) return end('failed', target.reason, attempts);
  const polled = await pollStatus({ options: o, statusUrl: target.url, deliveryId, clock, sleep, signal: deps.signal });
  return end(polled.status, polled.message, attempts, polled.polls);
}
