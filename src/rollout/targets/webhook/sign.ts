/**
 * HMAC-SHA256 signatures for webhook deliveries. The signed bytes are `<timestamp>.<body>` (timestamp
 * in Unix seconds), so a captured request cannot be replayed once it is older than the tolerance.
 * Receivers (and stagegate's own callback endpoint, later) use `verifySignature`.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'X-Stagegate-Signature';
export const timestampHeader = 'X-Stagegate-Timestamp';
export const deliveryHeader = 'X-Stagegate-Delivery';
export const defaultToleranceMs = 5 * 60_000;

export interface SignOptions {
  /** when the request is sent; defaults to now */
  now?: Date;
  /** the delivery id; one per deployment request, the same across its retries and status reads */
  deliveryId?: string;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`) */
export function computeSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** the three headers to send with `body` (the exact bytes sent; '' for a GET) */
export function signRequest(secret: string, body: string, options: SignOptions = {}): Record<string, string> {
  const timestamp = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  return {
    [signatureHeader]: computeSignature(secret, timestamp, body),
    [timestampHeader]: timestamp,
    [deliveryHeader]: options.deliveryId ?? randomUUID(),
  };
}

export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

export interface VerifyOptions {
  now?: Date;
  /** how far the timestamp may be from `now`, either way; default 5 minutes */
  toleranceMs?: number;
}

export type VerifyResult = { ok: true; deliveryId: string | undefined } | { ok: false; reason: string };

function header(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === want) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** Check a delivery's signature and timestamp in constant time. Never throws on bad input. */
export function verifySignature(secret: string, headers: HeaderBag, body: string, options: VerifyOptions = {}): VerifyResult {
  const signature = header(headers, signatureHeader);
  const timestamp = header(headers, timestampHeader);
  if (!signature) return { ok: false, reason: `missing ${signatureHeader} header` };
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: `missing or malformed ${timestampHeader} header (want Unix seconds)` };
  }
  const now = (options.now ?? new Date()).getTime();
  const tolerance = options.toleranceMs ?? defaultToleranceMs;
  if (Math.abs(now - Number(timestamp) * 1000) > tolerance) {
    return { ok: false, reason: `${timestampHeader} is more than ${tolerance} ms from now: a replay or a wrong clock` };
  }
  const expected = Buffer.from(computeSignature(secret, timestamp, body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: `${signatureHeader} does not match the body: wrong secret or a changed body` };
  }
  return { ok: true, deliveryId: header(headers, deliveryHeader) };
}
