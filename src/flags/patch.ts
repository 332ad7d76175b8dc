/**
 * RFC 6902 JSON Patch on flag sets (fast-json-patch): a bounded schema for the operations, an apply
 * that works on a copy (nothing half-applied) and names the failing operation's index and pointer,
 * and the diff of two flag sets as a patch.
 */
import jsonPatch, { type Operation } from 'fast-json-patch';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import type { FlagSet } from './flag-set.ts';
import { parsePointer } from '../domain/json-pointer.ts';

export const MAX_PATCH_OPS = 200;
/** characters of a patch as JSON: it goes into the audit entry whole */
export const MAX_PATCH_CHARS = 32 * 1024;

const pointer = z.string().max(1024);
export const patchOpSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add'), path: pointer, value: z.unknown() }),
  z.strictObject({ op: z.literal('replace'), path: pointer, value: z.unknown() }),
  z.strictObject({ op: z.literal('test'), path: pointer, value: z.unknown() }),
  z.strictObject({ op: z.literal('remove'), path: pointer }),
  z.strictObject({ op: z.literal('move'), from: pointer, path: pointer }),
  z.strictObject({ op: z.literal('copy'), from: pointer, path: pointer }),
]);
export const patchSchema = z.array(patchOpSchema).min(1).max(MAX_PATCH_OPS);
export type PatchOp = z.infer<typeof patchOpSchema>;

const reasons: Record<string, { what: string; fix: string }> = {
  TEST_OPERATION_FAILED: { what: 'test failed: the value at the path is not the expected one', fix: 'the flag set changed since you wrote the patch: read it again (`stagegate flags show ENV`) and rebase the patch' },
  OPERATION_PATH_UNRESOLVABLE: { what: 'the path does not exist in the flag set', fix: 'point at an existing member (use `add` to create one; its parent must exist)' },
  OPERATION_FROM_UNRESOLVABLE: { what: 'the `from` path does not exist in the flag set', fix: 'point `from` at an existing member' },
  OPERATION_PATH_INVALID: { what: 'the path is not a JSON Pointer', fix: 'write an RFC 6901 pointer such as /flags/new-checkout/state (escape "~" as ~0 and "/" as ~1)' },
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: { what: 'the array index is not valid', fix: 'use a number within the array or "-" to append' },
  OPERATION_VALUE_OUT_OF_BOUNDS: { what: 'the array index is past the end', fix: 'use an index within the array or "-" to append' },
  OPERATION_VALUE_REQUIRED: { what: 'the operation needs a value', fix: 'add "value"' },
  OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED: { what: 'the value contains undefined', fix: 'send plain JSON' },
};

function patchError(index: number, path: string, what: string, fix: string, where: string): DomainError {
  return new DomainError('invalid_input', `${where}: patch operation ${index} at ${path || '(root)'}: ${what}`, { field: `/patch/${index}`, pointer: path.slice(0, 300), opIndex: index, fix });
}

/** Parse a patch (already JSON); errors name the operation's index */
export function parsePatch(value: unknown, where: string): PatchOp[] {
  const r = patchSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    const idx = typeof i?.path[0] === 'number' ? i.path[0] : undefined;
    const fix = 'a patch is a JSON array of 1 to 200 RFC 6902 operations like {"op":"replace","path":"/flags/x/state","value":"DISABLED"}';
    if (idx === undefined) throw new DomainError('invalid_input', `${where}: the patch is not a list of RFC 6902 operations: ${i?.message ?? 'invalid'}`, { field: '/patch', fix });
    throw patchError(idx, '', `${i?.path.slice(1).join('.') || 'op'}: ${i?.message ?? 'invalid'}`, fix, where);
  }
  const ops = r.data;
  ops.forEach((op, i) => {
    for (const p of 'from' in op ? [op.path, op.from] : [op.path]) {
      if (!parsePointer(p).ok) throw patchError(i, p, 'the path is not a JSON Pointer', reasons['OPERATION_PATH_INVALID']!.fix, where);
      if (/\/(__proto__|constructor|prototype)(\/|$)/.test(p)) throw patchError(i, p, 'the path names a reserved member', 'flag sets have no such member; fix the path', where);
    }
  });
  if (JSON.stringify(ops).length > MAX_PATCH_CHARS) {
    throw new DomainError('invalid_input', `${where}: the patch is over ${MAX_PATCH_CHARS} characters`, { field: '/patch', fix: 'split the change into smaller change requests' });
  }
  return ops;
}

/** Apply to a copy; the input is never touched. Throws naming the op index and pointer. */
export function applyFlagPatch(base: FlagSet, ops: readonly PatchOp[], where: string): unknown {
  const copy = structuredClone(base);
  try {
    return jsonPatch.applyPatch(copy, ops as Operation[], true, true).newDocument;
  } catch (e) {
    const err = e as { name?: string; index?: number; operation?: { path?: string } };
    const index = typeof err.index === 'number' ? err.index : 0;
    const known = err.name ? reasons[err.name] : undefined;
    const path = err.operation?.path ?? ops[index]?.path ?? '';
    throw patchError(index, path, known?.what ?? `cannot be applied (${String((e as Error).message).split('\n')[0]?.slice(0, 120)})`, known?.fix ?? 'fix the operation', where);
  }
}

/** the RFC 6902 patch that turns `before` into `after` */
export function diffFlagSets(before: FlagSet, after: FlagSet): PatchOp[] {
  return jsonPatch.compare(before, after) as PatchOp[];
}
