/**
 * JSON Pointers (RFC 6901) for parity paths: encode/parse with `~0` (`~`) and `~1` (`/`) escapes,
 * and the patterns of parity.yaml rules, where a segment that is exactly `*` matches any one segment
 * and a pattern also covers everything below the path it names (prefix by whole segments).
 */

export const WILDCARD = '*';

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
    const bad = /~(?![01])/.exec(raw);
    if (bad) {
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

/** does a rule pattern (parsed segments, `*` = any one segment) cover this path? */
export function patternCovers(pattern: readonly string[], path: readonly string[]): boolean {
  if (pattern.length > path.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p !== WILDCARD && p !== path[i]) return false;
  }
  return true;
}
