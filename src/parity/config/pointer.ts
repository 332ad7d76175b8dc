/**
 * JSON Pointers (RFC 6901) and the leaves of a JSON document. A leaf is a scalar, an empty object
 * or an empty array; arrays are walked element by element (`/routing/routes/0/path`).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

import { escapeSegment, toPointer } from '../../domain/json-pointer.ts';

export { escapeSegment, jsonDepth as depthOf } from '../../domain/json-pointer.ts';
export const pointerOf = toPointer;

/** Why `p` is not a JSON Pointer, or undefined when it is one. */
export function pointerProblem(p: string): string | undefined {
  if (p !== '' && !p.startsWith('/')) return 'must be empty or start with "/"';
  if (/~[^01]|~$/.test(p)) return 'has a "~" not followed by 0 or 1 (write ~0 for "~" and ~1 for "/")';
  return undefined;
}

/** The segments of a valid pointer; callers check pointerProblem first. */
export const segmentsOf = (p: string): string[] => (p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf pointer of `doc` with its value, in document order (iterative: hostile nesting cannot blow the stack). */
export function leaves(doc: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const stack: Array<[string, unknown]> = [[prefix, doc]];
  while (stack.length > 0) {
    const [p, v] = stack.pop() as [string, unknown];
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((x, i) => [`${p}/${i}`, x])
      : isPlainObject(v)
        ? Object.entries(v).map(([k, x]) => [`${p}/${escapeSegment(k)}`, x])
        : [];
    if (entries.length === 0) {
      out.set(p, v);
      continue;
    }
    for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i] as [string, unknown]);
  }
  return out;
}

/** The value at a pointer, or undefined when the path does not exist. */
export function valueAt(doc: unknown, p: string): unknown {
  let cur: unknown = doc;
  for (const seg of segmentsOf(p)) {
    if (Array.isArray(cur)) cur = /^(0|[1-9]\d*)$/.test(seg) ? cur[Number(seg)] : undefined;
    else if (isPlainObject(cur)) cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Pointer `p` equals `prefix` or lies under it. */
export const isUnder = (p: string, prefix: string): boolean => p === prefix || p.startsWith(`${prefix}/`) || prefix === '';
