/**
 * Sigstore bundle v0.3 JSON around a DSSE envelope, for a key-signed (not keyless) release:
 * `verificationMaterial.publicKey.hint` is the key id; no transparency log entries or timestamps.
 * Checkable offline by `@sigstore/verify` with a key finder and thresholds 0.
 */
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { parseDsseEnvelope, zodProblem } from './dsse.ts';
import type { DsseEnvelope } from './dsse.ts';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

export interface SigstoreBundle {
  mediaType: typeof BUNDLE_MEDIA_TYPE;
  verificationMaterial: {
    publicKey: { hint: string };
    tlogEntries: unknown[];
    timestampVerificationData: { rfc3161Timestamps: unknown[] };
  };
  dsseEnvelope: DsseEnvelope;
}

export function toBundle(envelope: DsseEnvelope, keyId: string): SigstoreBundle {
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: keyId },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  };
}

/** The bundle as written to a file: indented JSON with a final newline. */
export const bundleToJson = (bundle: SigstoreBundle): string => `${JSON.stringify(bundle, null, 2)}\n`;

const bundleSchema = z.object({
  mediaType: z.union([z.literal(BUNDLE_MEDIA_TYPE), z.literal('application/vnd.dev.sigstore.bundle+json;version=0.3')], {
    error: `must be "${BUNDLE_MEDIA_TYPE}"`,
  }),
  verificationMaterial: z.object({
    publicKey: z.object(
      { hint: z.string().min(1).max(256) },
      { error: 'must be {"hint": KEY_ID}: stagegate releases are signed with a key, not a certificate' },
    ),
    // Offline verification ignores log entries and timestamps; they are bounded and kept opaque.
    tlogEntries: z.array(z.unknown()).max(16).optional(),
    timestampVerificationData: z.object({ rfc3161Timestamps: z.array(z.unknown()).max(16).optional() }).optional(),
  }),
  dsseEnvelope: z.unknown().refine((v) => v !== undefined, 'is required: the bundle must carry a DSSE envelope'),
});

export interface ParsedBundle {
  envelope: DsseEnvelope;
  hint: string;
}

/** Parse bundle JSON text from `source` (a file name); every error names the field and the fix. */
export function parseBundle(jsonText: string, source: string): ParsedBundle {
  const fix = 'pass the bundle written by `stagegate release create` without editing it';
  const size = Buffer.byteLength(jsonText, 'utf8');
  if (size > MAX_BUNDLE_BYTES) {
    throw new DomainError('payload_too_large', `bundle ${source} is ${size} bytes, over the ${MAX_BUNDLE_BYTES} byte bound`, { file: source, fix });
  }
  let value: unknown;
  try {
    value = JSON.parse(jsonText);
  } catch (e) {
    throw new DomainError('invalid_input', `bundle ${source} is not JSON: ${(e as Error).message}`, { file: source, fix });
  }
  const r = bundleSchema.safeParse(value);
  if (!r.success) {
    const p = zodProblem(r.error);
    throw new DomainError('invalid_input', `bundle ${source} is not a Sigstore v0.3 DSSE bundle: ${p.field || 'bundle'}: ${p.message}`, {
      file: source,
      ...(p.field ? { field: p.field } : {}),
      fix,
    });
  }
  const envelope = parseDsseEnvelope(r.data.dsseEnvelope, source, 'dsseEnvelope');
  return { envelope, hint: r.data.verificationMaterial.publicKey.hint };
}
