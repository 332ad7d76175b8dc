/**
 * JSON Pointers (RFC 6901) for parity paths: encode/parse with `~0` (`~`) and `~1` (`/`) escapes,
 * and the patterns of parity.yaml rules, where a segment that is exactly `*` matches any one segment
 * and a pattern also covers everything below the path it names (prefix by whole segments).
 */

export const WILDCARD = '*';

export { escapeSegment, parsePointer, type PointerParse, toPointer } from '../domain/json-pointer.ts';

/** does a rule pattern (parsed segments, `*` = any one segment) cover this path? */
export function patternCovers(pattern: readonly string[], path: readonly string[]): boolean {
  if (pattern.length > path.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p !== WILDCARD && p !== path[i]) return false;
  }
  return true;
}
