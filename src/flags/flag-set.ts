/**
 * A flag set in the flagd flag-definition format (https://flagd.dev/reference/flag-definitions/):
 * parsed, checked against flagd's own JSON schema (flagd-core's MemoryStorage with strict
 * validation, which also builds every targeting rule) and our bounds. Errors name the file (or the
 * request field), the JSON pointer of the problem and the fix.
 */
import { MemoryStorage } from '@openfeature/flagd-core';
import canonicalize from 'canonicalize';
import { digestOf } from '../crypto/digest.ts';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import { lineColumn } from '../domain/line-column.ts';
import { jsonDepth } from '../domain/json-pointer.ts';

export const flagLimits = {
  /** bytes of one flag-set file or body */
  bytes: 512 * 1024,
  flags: 500,
  variants: 100,
  /** nesting depth of any value (targeting rules included) */
  depth: 12,
} as const;

/** flag keys: letters, digits, `.`, `_`, `-`; at most 128 characters */
export const FLAG_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type FlagValue = boolean | string | number | { [k: string]: unknown };

export interface FlagDefinition {
  state: 'ENABLED' | 'DISABLED';
  defaultVariant?: string | null;
  variants: Record<string, FlagValue>;
  targeting?: Record<string, unknown>;
  metadata?: Record<string, string | number | boolean>;
}

export interface FlagSet {
  $schema?: string;
  flags: Record<string, FlagDefinition>;
  metadata?: Record<string, string | number | boolean>;
  $evaluators?: Record<string, unknown>;
}

const FIX = 'see https://flagd.dev/reference/flag-definitions/ and docs/feature-flags.md';
/** fields flagd defines; flagd's schema lets others through, we refuse them (a typo would pass silently) */
const TOP_FIELDS = ['$schema', 'flags', 'metadata', '$evaluators'];
const FLAG_FIELDS = ['state', 'variants', 'defaultVariant', 'targeting', 'metadata'];

const quietLogger = { error() {}, warn() {}, info() {}, debug() {} };

/** RFC 6901 pointer of a path */
export const pointerOf = (path: readonly (string | number)[]): string => path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

function invalid(where: string, pointer: string, message: string, fix: string, at?: { line: number; column: number }): DomainError {
  const isFile = !where.startsWith('request') && !where.startsWith('change') && !where.startsWith('stored');
  return new DomainError('invalid_input', `${where}${at ? `:${at.line}:${at.column}` : ''}: ${pointer || '(root)'}: ${message}`, {
    ...(isFile ? { file: where, ...(at ?? {}) } : {}),
    field: pointer || '/',
    fix,
  });
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** the most telling of flagd's schema errors: the deepest one that is not an anyOf/oneOf summary */
function bestIssue(issues: AjvIssue[]): AjvIssue | undefined {
  const concrete = issues.filter((i) => i.keyword !== 'anyOf' && i.keyword !== 'oneOf');
  const pool = concrete.length > 0 ? concrete : issues;
  return [...pool].sort((a, b) => (b.instancePath ?? '').length - (a.instancePath ?? '').length)[0];
}

function issueText(i: AjvIssue): string {
  const p = i.params ?? {};
  if (i.keyword === 'enum' && Array.isArray(p['allowedValues'])) return `must be one of ${(p['allowedValues'] as unknown[]).map(String).join(', ')}`;
  if (i.keyword === 'additionalProperties') return `unknown field "${String(p['additionalProperty']).slice(0, 64)}"`;
  if (i.keyword === 'required') return `missing required field "${String(p['missingProperty'])}"`;
  return (i.message ?? 'is invalid').slice(0, 200);
}

function fixFor(pointer: string, i: AjvIssue | undefined): string {
  if (/\/state$/.test(pointer)) return 'set state to "ENABLED" or "DISABLED"';
  if (/\/targeting/.test(pointer)) return 'write targeting as a JSON Logic rule that returns a variant name (flagd operators: if, ==, in, fractional, sem_ver, starts_with, ends_with)';
  if (/\/variants/.test(pointer)) return 'give 1 or more variants, all of one type (boolean, string, number or object)';
  if (i?.keyword === 'additionalProperties') return `remove the field; a flag has state, variants, defaultVariant, targeting and metadata (${FIX})`;
  return FIX;
}

/** Check a parsed value; `where` names its origin (a file path, or `request body flags`). */
export function validateFlagSet(value: unknown, where: string): FlagSet {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(where, '', 'a flag set must be a JSON object with "flags"', `write {"flags": {...}} (${FIX})`);
  const flags = (value as { flags?: unknown }).flags;
  if (flags === null || typeof flags !== 'object' || Array.isArray(flags)) throw invalid(where, '/flags', 'missing or not an object', `add "flags": {"my-flag": {...}} (${FIX})`);
  const keys = Object.keys(flags);
  if (keys.length > flagLimits.flags) throw invalid(where, '/flags', `${keys.length} flags is over the limit of ${flagLimits.flags}`, 'remove unused flags or split them into another project');
  const unknownTop = Object.keys(value).find((k) => !TOP_FIELDS.includes(k));
  if (unknownTop !== undefined) throw invalid(where, '', `unknown field "${unknownTop.slice(0, 64)}"`, `remove it; a flag set has ${TOP_FIELDS.join(', ')}`);
  for (const k of keys) {
    const f = (flags as Record<string, unknown>)[k];
    const unknownField = f && typeof f === 'object' ? Object.keys(f).find((x) => !FLAG_FIELDS.includes(x)) : undefined;
    if (unknownField !== undefined) throw invalid(where, pointerOf(['flags', k]), `unknown field "${unknownField.slice(0, 64)}"`, `remove it (a typo?); a flag has ${FLAG_FIELDS.join(', ')}`);
    if (!FLAG_KEY_RE.test(k)) throw invalid(where, pointerOf(['flags', k.slice(0, 64)]), 'flag key is not allowed', 'use letters, digits, ".", "_" and "-" (at most 128), starting with a letter or digit');
    const variants = (flags as Record<string, { variants?: unknown }>)[k]?.variants;
    if (variants && typeof variants === 'object' && Object.keys(variants).length > flagLimits.variants) {
      throw invalid(where, pointerOf(['flags', k, 'variants']), `more than ${flagLimits.variants} variants`, 'keep at most 100 variants per flag');
    }
  }
  if (jsonDepth(value, flagLimits.depth) > flagLimits.depth) throw invalid(where, '', `nested more than ${flagLimits.depth} levels`, 'simplify the targeting rules (use $evaluators for shared parts)');
  try {
    new MemoryStorage(quietLogger).setConfigurations(JSON.stringify(value), true);
  } catch (e) {
    const msg = (e as Error).message;
    const json = msg.indexOf(': [');
    if (json >= 0) {
      let issues: AjvIssue[] = [];
      try {
        issues = JSON.parse(msg.slice(json + 2)) as AjvIssue[];
      } catch {
        // fall through with no issues
      }
      const best = bestIssue(issues);
      const pointer = best?.instancePath ?? '';
      throw invalid(where, pointer, `does not match flagd's schema: ${best ? issueText(best) : msg.slice(0, 200)}`, fixFor(pointer, best));
    }
    const cause = (e as { cause?: Error }).cause?.message ?? msg;
    const m = /Default variant (.+?) missing/.exec(cause);
    const flag = m ? keys.find((k) => (flags as Record<string, { defaultVariant?: unknown }>)[k]?.defaultVariant === m[1]) : undefined;
    throw invalid(where, flag ? pointerOf(['flags', flag, 'defaultVariant']) : '/flags', cause.slice(0, 300), m ? 'name one of the flag\'s variants as defaultVariant' : FIX);
  }
  return value as FlagSet;
}

/** Parse the text of a `.flagd.json` file (or body) and validate it. */
export function parseFlagSetText(text: string, where: string): FlagSet {
  if (Buffer.byteLength(text) > flagLimits.bytes) throw invalid(where, '', `is ${Buffer.byteLength(text)} bytes, over the limit of ${flagLimits.bytes}`, 'remove unused flags or move large object variants elsewhere');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? lineColumn(text, Number(pos[1])) : undefined;
    throw invalid(where, '', `not valid JSON: ${msg.replace(/^.*?(Unexpected|Expected)/, '$1').slice(0, 160)}`, 'fix the JSON syntax (a missing comma or quote, a trailing comma)', at);
  }
  return validateFlagSet(value, where);
}

/** RFC 8785 canonical JSON of a flag set: what is stored and digested */
export function canonicalFlagSet(set: FlagSet): string {
  const text = canonicalize(set);
  if (text === undefined) throw new DomainError('internal', 'a flag set could not be canonicalized', { fix: 'report this bug' });
  return text;
}

export function flagSetDigest(set: FlagSet): Digest {
  return digestOf(canonicalFlagSet(set));
}

export const emptyFlagSet = (): FlagSet => ({ flags: {} });
