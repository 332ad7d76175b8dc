/**
 * JSON Pointers (RFC 6901) and JSON nesting depth: one implementation for parity paths, manifest
 * layering, flag patches and masking policies.
 */

export const escapeSegment = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** the pointer of a list of segments: `['checkout', 'config', 'db']` -> `/checkout/config/db` */
export const toPointer = (segments: readonly (string | number)[]): string => segments.map((s) => `/${escapeSegment(String(s))}`).join('');

export type PointerParse = { ok: true; segments: string[] } | { ok: false; message: string; fix: string };

/** parse a pointer text; `''` is the whole document */
export function parsePointer(text: string): PointerParse {
  if (text === '') return { ok: true, segments: [] };
  if (!text.startsWith('/')) {
    return { ok: false, message: `"${text.slice(0, 80)}" does not start with "/"`, fix: `write it as a JSON Pointer: /${text.slice(0, 40)}` };
  }
  const segments: string[] = [];
  for (const raw of text.slice(1).split('/')) {
    if (/~(?![01])/.test(raw)) {
      return {
        ok: false,
        message: `"${text.slice(0, 120)}" has "~" not followed by 0 or 1 in segment "${raw.slice(0, 40)}"`,
        fix: 'escape a literal "~" as ~0 and a literal "/" inside a key as ~1 (RFC 6901)',
      };
    }
    segments.push(raw.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  return { ok: true, segments };
}

/** Nesting depth of a parsed JSON value, without recursion (hostile nesting cannot blow the stack); stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
