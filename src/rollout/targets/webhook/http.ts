/**
 * One signed HTTP exchange with a webhook receiver, classified for the retry loop: a parsed status,
 * an HTTP error (with a bounded, secret-free body excerpt), a timeout, a connection error or an abort.
 */
import { type ReceiverStatus, receiverStatusSchema } from './input.ts';
import { signRequest } from './sign.ts';
import { readBoundedText } from '../../http-body.ts';

export const maxResponseBytes = 64 * 1024;
const excerptChars = 200;

export type Exchange =
  | { kind: 'status'; httpStatus: number; body: ReceiverStatus }
  | { kind: 'http-error'; httpStatus: number; excerpt: string }
  | { kind: 'bad-response'; httpStatus: number; reason: string }
  | { kind: 'timeout' }
  | { kind: 'connection'; reason: string }
  | { kind: 'aborted' };

export interface ExchangeInput {
  method: 'POST' | 'GET';
  url: string;
  body: string;
  secret: string;
  deliveryId: string;
  now: Date;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** a short, single-line excerpt with the secret (if echoed back) removed */
export function excerpt(text: string, secret: string): string {
  const flat = text.split(secret).join('[redacted]').replace(/\s+/g, ' ').trim();
  return flat.length > excerptChars ? `${flat.slice(0, excerptChars)}…` : flat;
}

const readBounded = async (res: Response): Promise<string> => (await readBoundedText(res, maxResponseBytes)).text;

export async function exchange(input: ExchangeInput): Promise<Exchange> {
  if (input.signal?.aborted) return { kind: 'aborted' };
  const timeout = AbortSignal.timeout(input.timeoutMs);
  const signal = input.signal ? AbortSignal.any([input.signal, timeout]) : timeout;
  const headers: Record<string, string> = {
    ...signRequest(input.secret, input.body, { now: input.now, deliveryId: input.deliveryId }),
    accept: 'application/json',
  };
  if (input.method === 'POST') headers['content-type'] = 'application/json';
  try {
    const res = await fetch(input.url, {
      method: input.method,
      headers,
      body: input.method === 'POST' ? input.body : undefined,
      signal,
      redirect: 'manual',
    });
    const text = await readBounded(res);
    if (res.status < 200 || res.status > 299) {
      return { kind: 'http-error', httpStatus: res.status, excerpt: excerpt(text, input.secret) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: 'bad-response', httpStatus: res.status, reason: `not JSON: "${excerpt(text, input.secret)}"` };
    }
    const parsed = receiverStatusSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.map(String).join('.') || 'body';
      return { kind: 'bad-response', httpStatus: res.status, reason: `${where}: ${issue?.message ?? 'invalid'}` };
    }
    return { kind: 'status', httpStatus: res.status, body: parsed.data };
  } catch (e) {
    if (input.signal?.aborted) return { kind: 'aborted' };
    if (timeout.aborted) return { kind: 'timeout' };
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    return { kind: 'connection', reason: excerpt(reason, input.secret) };
  }
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export function describeFailure(x: Exchange, url: string): string {
  switch (x.kind) {
    case 'http-error':
      return `HTTP ${x.httpStatus} from ${url}${x.excerpt ? `: "${x.excerpt}"` : ' (empty body)'}`;
    case 'bad-response':
      return `HTTP ${x.httpStatus} from ${url} with an unusable body (${x.reason}); want JSON {status: succeeded|failed|pending, statusUrl?, message?}`;
    case 'timeout':
      return `no answer from ${url} within the timeout`;
    case 'connection':
      return `cannot connect to ${url} (${x.reason})`;
    default:
      return `${x.kind} from ${url}`;
  }
}
