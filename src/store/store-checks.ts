/**
 * Checks the Kysely repositories apply at the edge of the database: bounds and formats of values
 * going in, zod parsing of JSON columns and enums coming out, and mapping of constraint errors of
 * either driver (better-sqlite3, pg) to DomainError. The database text is never trusted blindly.
 */
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { type GateResult, type PromotionState, promotionStates } from '../domain/promotion.ts';

/** ISO-8601 UTC with milliseconds, as `Date#toISOString()` writes it; sorts as text. */
export const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** the largest `limit` a list query accepts, and the default when a query gives none */
export const MAX_LIST_LIMIT = 10_000;
/** rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits */
export const INSERT_CHUNK = 500;

const gateSchema = z.object({
  gate: z.string().min(1).max(200),
  passed: z.boolean(),
  message: z.string().max(8_000),
  subject: z.string().max(2_000).optional(),
});
export const gatesSchema = z.array(gateSchema).max(500);

/** zod issues as one short line: `0.passed: expected boolean; ...` */
export function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export function checkTimestamp(value: unknown, field: string): string {
  if (typeof value !== 'string' || !TIMESTAMP_RE.test(value)) {
    throw new DomainError('invalid_input', `${field} is not an ISO-8601 UTC timestamp: ${String(value).slice(0, 60)}`, {
      field,
      fix: 'pass clock.now().toISOString(), e.g. 2026-11-26T10:00:00.000Z',
    });
  }
  return value;
}

export function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) {
    throw new DomainError('invalid_input', `${field} must be a string of at most ${max} characters`, {
      field,
      fix: `shorten ${field} to ${max} characters or less`,
    });
  }
  return value;
}

export function checkIndex(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DomainError('invalid_input', `${field} must be a non-negative integer, got ${String(value).slice(0, 40)}`, {
      field,
      fix: `pass a whole number >= 0 as ${field}`,
    });
  }
  return value;
}

export function checkLimit(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_LIST_LIMIT) {
    throw new DomainError('invalid_input', `${field} must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(value).slice(0, 40)}`, {
      field,
      fix: `page through the results with a limit of at most ${MAX_LIST_LIMIT}`,
    });
  }
  return value;
}

export function checkState(value: unknown, field: string): PromotionState {
  if (!promotionStates.includes(value as PromotionState)) {
    throw new DomainError('invalid_input', `${field} is not a promotion state: ${String(value).slice(0, 40)}`, {
      field,
      fix: `use one of ${promotionStates.join(', ')}`,
    });
  }
  return value as PromotionState;
}

export function encodeGates(gates: GateResult[] | null, field: string): string | null {
  if (gates === null) return null;
  const parsed = gatesSchema.safeParse(gates);
  if (!parsed.success) {
    throw new DomainError('invalid_input', `${field} is not a bounded list of gate results: ${issuesText(parsed.error)}`, {
      field,
      fix: 'each gate result needs gate (1-200 chars), passed (boolean), message (<= 8000 chars); at most 500 results',
    });
  }
  return JSON.stringify(parsed.data);
}

/** a stored value that does not parse: the database was changed outside stagegate, or a bug wrote it */
export function corrupt(where: string, what: string): DomainError {
  return new DomainError('internal', `the database holds an invalid ${where}: ${what.slice(0, 300)}`, {
    field: where,
    fix: 'restore the database from a backup, or repair the row; stagegate never writes such a value',
  });
}

export function decodeGates(text: string | null, where: string): GateResult[] | null {
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw corrupt(where, `not JSON (${(e as Error).message})`);
  }
  const parsed = gatesSchema.safeParse(json);
  if (!parsed.success) throw corrupt(where, issuesText(parsed.error));
  return parsed.data;
}

export function decodeEnum<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if (!allowed.includes(value as T)) throw corrupt(where, `"${value.slice(0, 40)}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

/** which constraint a driver error reports, for better-sqlite3 (SQLITE_CONSTRAINT_*) and pg (SQLSTATE) */
export function constraintOf(e: unknown): 'unique' | 'foreign_key' | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505') {
    return 'unique';
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') return 'foreign_key';
  return undefined;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
