/**
 * Layering of one service's manifest: base document, then an RFC 7396 merge patch (the overlay),
 * then RFC 6902 operations (the patch file). Each layer is validated before it is applied and works
 * on a copy, so a failing layer leaves nothing half-applied. Every leaf JSON Pointer of the result
 * carries its origin: `base`, `overlay:<file>` or `patch:<file>#<op index>`.
 */
import { createRequire } from 'node:module';
import jsonpatch from 'fast-json-patch';
import type { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { manifestLimits, manifestSchema, manifestSections, overlaySchema, patchSchema } from './manifest-schema.ts';
import type { ManifestYaml } from './manifest-yaml.ts';
import { depthOf, isPlainObject, isUnder, leaves, pointerOf, pointerProblem } from './pointer.ts';

const require = createRequire(import.meta.url);
const mergePatch = require('json-merge-patch') as { apply(target: unknown, patch: unknown): unknown };

export interface Layered {
  document: Record<string, unknown>;
  origins: Record<string, string>;
}

export interface LayerFiles {
  base: ManifestYaml;
  overlay?: ManifestYaml;
  patch?: ManifestYaml;
}

const where = (y: ManifestYaml, pointer: string) => {
  const { line, column } = y.locate(pointer);
  return { text: `${y.file}:${line}:${column}`, line, column };
};

/** the pointer of a zod issue; for unknown keys, the first unknown key */
function issuePointer(issue: z.core.$ZodIssue | undefined): string {
  const path = (issue?.path ?? []).map((s) => (typeof s === 'symbol' ? String(s) : s));
  return pointerOf(issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...path, issue.keys[0]] : path);
}

function schemaError(y: ManifestYaml, error: z.ZodError, what: string, fix: string): never {
  const issue = error.issues[0];
  const pointer = issuePointer(issue);
  const w = where(y, pointer);
  let message = issue?.message ?? 'invalid';
  if (issue?.code === 'unrecognized_keys') message = `unknown section${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${manifestSections.join(', ')}`;
  throw new DomainError('invalid_input', `${w.text}: ${what} at ${pointer || '(top level)'}: ${message}`, { file: y.file, line: w.line, column: w.column, field: pointer, fix });
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** depth bound, and no key a merge patch or an object would drop silently */
function checkShape(y: ManifestYaml): void {
  if (depthOf(y.data, manifestLimits.depth) > manifestLimits.depth) {
    throw new DomainError('invalid_input', `${y.file}: nests deeper than ${manifestLimits.depth} levels`, { file: y.file, fix: 'flatten the configuration' });
  }
  for (const p of leaves(y.data).keys()) {
    const bad = p.split('/').find((seg) => RESERVED.has(seg));
    if (bad === undefined) continue;
    const w = where(y, p.slice(0, p.indexOf(`/${bad}`) + bad.length + 1));
    throw new DomainError('invalid_input', `${w.text}: the key ${bad} is not allowed (at ${p})`, { file: y.file, line: w.line, column: w.column, field: p, fix: `rename the key; __proto__, constructor and prototype are reserved` });
  }
}

const sameLeaf = (a: unknown, b: unknown): boolean => a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));

/** origins after one layer: leaves under a touched pointer, or whose value changed, come from `origin` */
function nextOrigins(before: Map<string, unknown>, prev: Record<string, string>, after: unknown, touched: string[], origin: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [p, v] of leaves(after)) {
    const kept = prev[p];
    out[p] = touched.some((t) => isUnder(p, t)) || kept === undefined || !before.has(p) || !sameLeaf(before.get(p), v) ? origin : kept;
  }
  return out;
}

/** pointers a merge patch sets (not removes): scalars and arrays replace, objects recurse */
function mergeTouched(patch: unknown, prefix = ''): string[] {
  if (!isPlainObject(patch)) return patch === null ? [] : [prefix];
  return Object.entries(patch).flatMap(([k, v]) => mergeTouched(v, `${prefix}${pointerOf([k])}`));
}

const patchFailures: Record<string, string> = {
  TEST_OPERATION_FAILED: 'the value at this path is not the one the test expects',
  OPERATION_PATH_UNRESOLVABLE: 'the path does not exist in the document at this point',
  OPERATION_FROM_UNRESOLVABLE: 'the "from" path does not exist in the document at this point',
  OPERATION_PATH_CANNOT_ADD: 'the parent of the path does not exist',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'an array index must be a number or "-"',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'the array index is past the end of the array',
};

function applyPatchFile(y: ManifestYaml, doc: unknown, prevOrigins: Record<string, string>, name: string): { doc: unknown; origins: Record<string, string> } {
  const parsed = patchSchema.safeParse(y.data);
  if (!parsed.success) schemaError(y, parsed.error, 'not a JSON Patch (RFC 6902) operation list', 'write a YAML list of {op, path, value|from} with op one of add, remove, replace, move, copy, test');
  let cur: unknown = structuredClone(doc);
  let origins = prevOrigins;
  parsed.data.forEach((op, i) => {
    const fail = (pointer: string, message: string, fix: string): never => {
      const w = where(y, `/${i}`);
      throw new DomainError('invalid_input', `${w.text}: operation #${i} (${op.op} ${pointer}): ${message}; nothing was applied`, { file: y.file, line: w.line, column: w.column, field: `/${i}`, pointer, fix });
    };
    for (const p of [op.path, ...('from' in op ? [op.from] : [])]) {
      const problem = pointerProblem(p);
      if (problem) fail(p, `"${p}" is not a JSON Pointer: it ${problem}`, 'write paths like /config/currency; escape "~" as ~0 and "/" as ~1');
    }
    if (op.path === '' && op.op !== 'test') fail(op.path, 'replaces the whole document', 'patch a section or key, e.g. /config/currency');
    const before = leaves(cur);
    try {
      cur = jsonpatch.applyOperation(cur, op, true, true, true, i).newDocument;
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      const pointer = name === 'OPERATION_FROM_UNRESOLVABLE' && 'from' in op ? op.from : op.path;
      fail(pointer, patchFailures[name] ?? (e as Error).message.split('\n')[0] ?? 'failed', op.op === 'test' ? 'update the expected value in the test, or fix the base/overlay it guards' : 'check the path against `stagegate config show` of this environment without the patch file, or use add to create it');
    }
    const touched = op.op === 'remove' || op.op === 'test' ? [] : [op.path];
    origins = nextOrigins(before, origins, cur, touched, `patch:${name}#${i}`);
  });
  return { doc: cur, origins };
}

/** Apply base -> overlay -> patch; throws DomainError('invalid_input') naming file, line, pointer and fix. */
export function layerManifest(files: LayerFiles, names: { overlay?: string; patch?: string } = {}): Layered {
  checkShape(files.base);
  const base = manifestSchema.safeParse(files.base.data ?? {});
  if (!base.success) schemaError(files.base, base.error, 'invalid manifest', `keep to the sections ${manifestSections.join(', ')}; see docs/configuration.md`);
  let doc: unknown = structuredClone(base.data);
  let origins: Record<string, string> = Object.fromEntries([...leaves(doc).keys()].map((p) => [p, 'base']));
  if (files.overlay) {
    const y = files.overlay;
    checkShape(y);
    const overlay = overlaySchema.safeParse(y.data ?? {});
    if (!overlay.success) schemaError(y, overlay.error, 'invalid overlay', `an overlay is a merge patch over base.yaml with the sections ${manifestSections.join(', ')} (null removes a key)`);
    const before = leaves(doc);
    const merged = mergePatch.apply(structuredClone(doc), overlay.data);
    origins = nextOrigins(before, origins, merged, mergeTouched(overlay.data), `overlay:${names.overlay ?? y.file}`);
    doc = merged;
  }
  if (files.patch) {
    checkShape(files.patch);
    ({ doc, origins } = applyPatchFile(files.patch, doc, origins, names.patch ?? files.patch.file));
  }
  const result = manifestSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0];
    const pointer = issuePointer(issue);
    const origin = Object.entries(origins).find(([p]) => isUnder(p, pointer))?.[1] ?? 'a layer';
    const message = issue?.code === 'unrecognized_keys' ? `unknown section ${issue.keys.join(', ')}; allowed: ${manifestSections.join(', ')}` : (issue?.message ?? 'invalid');
    throw new DomainError('invalid_input', `the layered manifest is invalid at ${pointer || '(top level)'}: ${message} (set by ${origin})`, {
      field: pointer,
      fix: `fix the value in the file named by "${origin}"`,
    });
  }
  if (leaves(result.data).size > manifestLimits.leaves) throw new DomainError('invalid_input', `the layered manifest has more than ${manifestLimits.leaves} values`, { fix: 'split the configuration' });
  return { document: result.data as Record<string, unknown>, origins };
}
