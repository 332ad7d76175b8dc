/**
 * Follow a `pending` deployment by reading its status URL with signed GETs every `intervalMs` until
 * it is `succeeded` or `failed`, or `deadlineMs` has passed. 5xx, timeouts and connection errors
 * while polling are tolerated until the deadline; a 4xx or an unusable body ends it as failed.
 */
import { describeFailure, exchange, type Sleep } from './http.ts';
import type { WebhookOptions } from './input.ts';

export type StatusUrl = { ok: true; url: string } | { ok: false; reason: string };

/**
 * The receiver's `statusUrl` (absolute, or relative to the webhook URL; same origin only, so signed
 * requests never go to another host) or else the configured template.
 */
export function resolveStatusUrl(o: WebhookOptions, returned: string | undefined, deliveryId: string): StatusUrl {
  const base = new URL(o.url);
  if (returned) {
    let url: URL;
    try {
      url = new URL(returned, base);
    } catch {
      return { ok: false, reason: `webhook receiver at ${o.url} returned an invalid statusUrl; want an absolute or relative URL` };
    }
    if (url.origin !== base.origin) {
      return { ok: false, reason: `webhook receiver returned a statusUrl on ${url.origin}, not on ${base.origin}; status must be served by the same origin as the webhook URL` };
    }
    return { ok: true, url: url.href };
  }
  if (o.poll?.statusUrl) {
    const filled = o.poll.statusUrl
      .replaceAll('{deliveryId}', encodeURIComponent(deliveryId))
      .replaceAll('{promotionId}', encodeURIComponent(o.request.promotionId));
    return { ok: true, url: filled };
  }
  return {
    ok: false,
    reason: `webhook receiver at ${o.url} answered pending but gave no statusUrl and no poll.statusUrl is configured; return a statusUrl, configure poll.statusUrl, or call back (callback: true on the target and a public URL for the server)`,
  };
}

export interface PollInput {
  options: WebhookOptions;
  statusUrl: string;
  deliveryId: string;
  clock: () => Date;
  sleep: Sleep;
  signal?: AbortSignal;
}

export interface PollResult {
  status: 'succeeded' | 'failed' | 'timed-out' | 'aborted';
  message: string;
  polls: number;
}

export async function pollStatus(p: PollInput): Promise<PollResult> {
  const o = p.options;
  const intervalMs = o.poll?.intervalMs ?? 5_000;
  const deadlineMs = o.poll?.deadlineMs ?? 30 * 60_000;
  const deadline = p.clock().getTime() + deadlineMs;
  let polls = 0;
  let lastNote = 'the receiver kept answering pending';
  for (;;) {
    const remaining = deadline - p.clock().getTime();
    if (remaining <= 0) {
      return { status: 'timed-out', message: `webhook deployment still not finished after ${deadlineMs} ms of polling ${p.statusUrl} (${polls} reads; ${lastNote})`, polls };
    }
    await p.sleep(Math.min(intervalMs, remaining), p.signal);
    if (p.signal?.aborted) return { status: 'aborted', message: `webhook deployment to ${o.url} aborted by the caller while polling`, polls };
    polls++;
    const x = await exchange({ method: 'GET', url: p.statusUrl, body: '', secret: o.secret, deliveryId: p.deliveryId, now: p.clock(), timeoutMs: o.timeoutMs, signal: p.signal });
    if (x.kind === 'aborted') return { status: 'aborted', message: `webhook deployment to ${o.url} aborted by the caller while polling`, polls };
    if (x.kind === 'status') {
      const said = x.body.message ? `: ${x.body.message}` : '';
      if (x.body.status === 'succeeded') return { status: 'succeeded', message: `webhook deployment reported success at ${p.statusUrl}${said}`, polls };
      if (x.body.status === 'failed') return { status: 'failed', message: `webhook deployment reported failure at ${p.statusUrl}${said}`, polls };
      lastNote = `the receiver kept answering pending${said}`;
      continue;
    }
    if (x.kind === 'timeout' || x.kind === 'connection' || (x.kind === 'http-error' && x.httpStatus >= 500)) {
      lastNote = `last read: ${describeFailure(x, p.statusUrl)}`;
      continue;
    }
    return { status: 'failed', message: `reading the deployment status failed: ${describeFailure(x, p.statusUrl)}; not retried`, polls };
  }
}
