/**
 * A field rule compiled for one run: what to do with a value. Masking methods get their keyed
 * masker and scope; the default scope is the CSV column name or the last JSON Pointer token that
 * is not `*`, so `customer_id` in one file and `/customer_id` in another join up.
 */
import { compileMask, type MaskFn } from './methods.ts';
import type { FieldRule } from './policy-schema.ts';
import type { Prf } from './prf.ts';

export interface MaskStats {
  records: number;
  /** policy field keys met in the input */
  used: Set<string>;
  /** columns or pointers dropped by `default: drop` */
  droppedByDefault: Set<string>;
}

export type Action =
  | { kind: 'keep' }
  | { kind: 'drop' }
  | { kind: 'null' }
  | { kind: 'fixed'; value: string | number | boolean | null }
  | { kind: 'mask'; method: 'email' | 'phone' | 'id' | 'name' | 'text'; mask: MaskFn };

export function compileAction(rule: FieldRule, prf: Prf, defaultScope: string): Action {
  switch (rule.method) {
    case 'keep':
    case 'drop':
    case 'null':
      return { kind: rule.method };
    case 'fixed':
      return { kind: 'fixed', value: rule.value };
    default:
      return { kind: 'mask', method: rule.method, mask: compileMask(rule, prf, defaultScope) };
  }
}

/** One CSV cell; `undefined` means "drop the column". */
export function applyToCell(action: Action, value: string): string | undefined {
  switch (action.kind) {
    case 'keep':
      return value;
    case 'drop':
      return undefined;
    case 'null':
      return '';
    case 'fixed':
      return action.value === null ? '' : String(action.value);
    case 'mask':
      return action.mask(value);
  }
}

/**
 * A JSON scalar under a masking method: strings are masked; null stays null; numbers and booleans
 * are masked as their JSON text, and `id` / `phone` give a number back when the masked text is one.
 */
export function maskJsonScalar(action: Extract<Action, { kind: 'mask' }>, value: string | number | boolean | null): string | number | null {
  if (value === null) return null;
  if (typeof value === 'string') return action.mask(value);
  const text = String(value);
  const masked = action.mask(text);
  if (typeof value === 'number' && (action.method === 'id' || action.method === 'phone')) {
    const n = Number(masked);
    if (Number.isFinite(n) && String(n) === masked) return n;
  }
  return masked;
}
