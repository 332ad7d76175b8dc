/**
 * DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse): PAE, signing with ECDSA P-256
 * (DER signatures, as Sigstore and `openssl dgst -verify` expect) and bounded verification that also
 * accepts raw r||s (IEEE P1363) signatures.
 */
import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';

export const MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_SIGNATURES = 16;
const MAX_SIG_BYTES = 512;
const MAX_TYPE_CHARS = 256;
const MAX_KEYID_CHARS = 256;

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

export type DsseVerifyResult = { ok: true; keyid: string; payload: Buffer } | { ok: false; reason: string };

/** Standard or URL-safe base64, padded or not (DSSE allows both alphabets). */
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

const base64 = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4 + 4)
    .regex(BASE64_RE, 'must be base64');

export const dsseEnvelopeSchema = z.object({
  payload: base64(MAX_PAYLOAD_BYTES).min(1, 'must not be empty'),
  payloadType: z.string().min(1).max(MAX_TYPE_CHARS),
  signatures: z
    .array(z.object({ keyid: z.string().max(MAX_KEYID_CHARS).optional(), sig: base64(MAX_SIG_BYTES).min(1) }))
    .min(1, 'needs at least one signature')
    .max(MAX_SIGNATURES, `at most ${MAX_SIGNATURES} signatures`),
});

/** The first zod issue as a dotted field path (`a.b[0].c`) and its message. */
export function zodProblem(error: z.ZodError, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0];
  const field = [prefix, ...(issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))]
    .join('')
    .replace(/^\./, '');
  return { field, message: issue?.message ?? 'invalid' };
}

/** Validate an untrusted envelope object; errors carry the field path. */
export function parseDsseEnvelope(value: unknown, source: string, fieldPrefix = ''): DsseEnvelope {
  const r = dsseEnvelopeSchema.safeParse(value);
  if (!r.success) {
    const { field, message } = zodProblem(r.error, fieldPrefix);
    throw new DomainError('invalid_input', `DSSE envelope in ${source} is malformed: ${field || 'envelope'}: ${message}`, {
      file: source,
      ...(field ? { field } : {}),
      fix: 'pass a bundle written by `stagegate release create` (or another DSSE/Sigstore tool) unmodified',
    });
  }
  return {
    payload: r.data.payload,
    payloadType: r.data.payloadType,
    signatures: r.data.signatures.map((s) => ({ keyid: s.keyid ?? '', sig: s.sig })),
  };
}

/** DSSE v1 pre-authentication encoding; lengths are byte lengths in ASCII decimal. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.byteLength} `, 'ascii'),
    payload,
  ]);
}

export function signDsse(payloadType: string, payload: Uint8Array, privateKey: KeyObject, keyid: string): DsseEnvelope {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw new DomainError('payload_too_large', `DSSE payload is ${payload.byteLength} bytes, over the ${MAX_PAYLOAD_BYTES} byte bound`, {
      fix: 'sign fewer subjects or a smaller provenance document',
    });
  }
  const sig = sign('sha256', pae(payloadType, payload), { key: privateKey, dsaEncoding: 'der' });
  return {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: [{ keyid, sig: sig.toString('base64') }],
  };
}

function decodeBase64(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function verifyOne(data: Buffer, key: KeyObject, sig: Buffer): boolean {
  for (const dsaEncoding of ['der', 'ieee-p1363'] as const) {
    if (dsaEncoding === 'ieee-p1363' && sig.length !== 64) continue;
    try {
      if (verify('sha256', data, { key, dsaEncoding }, sig)) return true;
    } catch {
      // a malformed signature in one encoding may still be valid in the other
    }
  }
  return false;
}

export interface VerifyDsseOptions {
  /** when set, the envelope must carry exactly this payload type */
  payloadType?: string;
}

/**
 * Verify an envelope against trusted keys. A signature with a key id is checked with that key only;
 * one without a key id is tried against every trusted key. The first valid signature wins.
 */
export function verifyDsse(envelope: DsseEnvelope, keysById: ReadonlyMap<string, KeyObject>, opts: VerifyDsseOptions = {}): DsseVerifyResult {
  if (opts.payloadType !== undefined && envelope.payloadType !== opts.payloadType) {
    return { ok: false, reason: `payload type is "${envelope.payloadType.slice(0, MAX_TYPE_CHARS)}", expected "${opts.payloadType}"` };
  }
  if (envelope.signatures.length === 0) return { ok: false, reason: 'the envelope has no signatures' };
  if (envelope.signatures.length > MAX_SIGNATURES) {
    return { ok: false, reason: `the envelope has ${envelope.signatures.length} signatures, over the bound of ${MAX_SIGNATURES}` };
  }
  if (envelope.payload.length > Math.ceil(MAX_PAYLOAD_BYTES / 3) * 4 + 4) {
    return { ok: false, reason: `the payload is over the ${MAX_PAYLOAD_BYTES} byte bound` };
  }
  const payload = decodeBase64(envelope.payload);
  const data = pae(envelope.payloadType, payload);
  let knownKey = false;
  for (const s of envelope.signatures) {
    if (s.sig.length > Math.ceil(MAX_SIG_BYTES / 3) * 4 + 4) continue;
    const sig = decodeBase64(s.sig);
    const candidates: Array<[string, KeyObject]> = s.keyid
      ? keysById.has(s.keyid)
        ? [[s.keyid, keysById.get(s.keyid) as KeyObject]]
        : []
      : [...keysById.entries()];
    if (candidates.length > 0) knownKey = true;
    for (const [keyid, key] of candidates) {
      if (verifyOne(data, key, sig)) return { ok: true, keyid, payload };
    }
  }
  if (!knownKey) {
    const ids = envelope.signatures.map((s) => s.keyid || '(none)').join(', ');
    return { ok: false, reason: `no signature was made by a trusted key (signature key ids: ${ids.slice(0, 600)})` };
  }
  return { ok: false, reason: 'the signature does not match the payload: the bundle was altered or signed by another key' };
}
