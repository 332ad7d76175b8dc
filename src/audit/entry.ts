/**
 * Audit entry encoding: the RFC 8785 canonical JSON of an AuditEntry is the Merkle leaf data.
 * parseAuditEntry reads stored or exported entries back, bounded.
 */
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { type AuditEntry, auditOutcomes, type JsonValue } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';

/** Upper bound of one encoded entry (UTF-16 code units of the canonical text). */
export const MAX_ENTRY_CHARS = 64 * 1024;
export const MAX_DETAILS_DEPTH = 16;

const short = (max: number) => z.string().min(1).max(max);

/** True when v is plain JSON (no undefined, functions, NaN) nested at most `depth` levels. */
export function isJsonValue(v: unknown, depth = MAX_DETAILS_DEPTH): v is JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (depth <= 0 || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.every((x) => isJsonValue(x, depth - 1));
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false;
  return Object.values(v).every((x) => isJsonValue(x, depth - 1));
}

export const auditEntrySchema = z
  .object({
    time: z.iso.datetime().max(40),
    actor: short(256),
    action: z
      .string()
      .max(128)
      .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/, 'a dotted lower-case verb like `release.push`'),
    outcome: z.enum(auditOutcomes),
    subject: short(512),
    requestDigest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, '`sha256:` and 64 lower-case hex digits')
      .nullable(),
    details: z.custom<{ [k: string]: JsonValue }>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && isJsonValue(v),
      `a JSON object nested at most ${MAX_DETAILS_DEPTH} levels`,
    ),
  })
  .strict();

/** The canonical JSON text of an entry (the Merkle leaf data, as UTF-8). */
export function encodeEntry(entry: AuditEntry): string {
  let text: string | undefined;
  try {
    text = canonicalize(entry);
  } catch (e) {
    throw new DomainError('invalid_input', `audit entry ${entry.action}: cannot encode as JSON: ${(e as Error).message}`, {
      field: 'details',
      fix: 'audit details must be plain JSON: no NaN, Infinity, lone surrogates or cycles',
    });
  }
  if (text === undefined || text.length > MAX_ENTRY_CHARS) {
    throw new DomainError(
      'invalid_input',
      `audit entry ${entry.action}: encoded size ${text?.length ?? 0} is over ${MAX_ENTRY_CHARS}`,
      { field: 'details', fix: 'keep audit details small: record digests and ids, not whole documents' },
    );
  }
  return text;
}

export type ParseEntryResult = { ok: true; entry: AuditEntry } | { ok: false; reason: string };

/** Validate an already-parsed value as an AuditEntry. */
export function checkAuditEntry(value: unknown): ParseEntryResult {
  if (!isJsonValue(value, MAX_DETAILS_DEPTH + 2)) return { ok: false, reason: 'not plain JSON or nested too deep' };
  const r = auditEntrySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(entry)';
    return { ok: false, reason: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, entry: r.data as AuditEntry };
}

/** Parse the text of one entry (as stored or exported); bounded, never throws. */
export function parseAuditEntry(text: string): ParseEntryResult {
  if (typeof text !== 'string') return { ok: false, reason: 'entry text is not a string' };
  if (text.length > MAX_ENTRY_CHARS) return { ok: false, reason: `entry text is over ${MAX_ENTRY_CHARS} characters` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `entry text is not JSON: ${(e as Error).message}` };
  }
  return checkAuditEntry(value);
}

/** A short person-readable label of an entry for error messages: `action at time`. Never throws. */
export function describeEntry(value: unknown): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { action, time } = value as { action?: unknown; time?: unknown };
    const a = typeof action === 'string' ? action.slice(0, 128) : 'unknown action';
    const t = typeof time === 'string' ? time.slice(0, 40) : 'unknown time';
    return `${a} at ${t}`;
  }
  return 'unreadable entry';
}
