/**
 * Cedar source text helpers: split a policy file into its policies (keeping where each starts) and
 * turn Cedar's source offsets (UTF-8 byte offsets) into line and column numbers in the file.
 *
 * Cedar has two lexical forms that can hide a `;`: string literals ("...", backslash escapes) and
 * line comments (`// ...`). A policy ends at the first `;` outside both, so splitting there is exact
 * for any text Cedar parses as a policy set.
 */
import { lineColumn } from '../../domain/line-column.ts';

export { lineColumn };

export interface PolicyChunk {
  /** the policy text, from its first character that is not blank or a comment to its `;` */
  text: string;
  /** character offset of `text` in the file */
  start: number;
}

/**
 * The policies of a file, in order. Text after the last `;` that holds only blanks and comments is
 * dropped; any other trailing text is returned as a last chunk (Cedar then reports it).
 */
export function splitPolicies(source: string): PolicyChunk[] {
  const chunks: PolicyChunk[] = [];
  let start = -1; // first significant character of the current chunk
  let i = 0;
  const open = (at: number) => {
    if (start < 0) start = at;
  };
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '/' && source[i + 1] === '/') {
      const nl = source.indexOf('\n', i);
      i = nl < 0 ? source.length : nl + 1;
      continue;
    }
    if (ch === '"') {
      open(i);
      i++;
      while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === ';') {
      open(i);
      chunks.push({ text: source.slice(start, i + 1), start });
      start = -1;
      i++;
      continue;
    }
    if (!/\s/.test(ch)) open(i);
    i++;
  }
  if (start >= 0) chunks.push({ text: source.slice(start).trimEnd(), start });
  return chunks;
}

/** character offset in `text` of a UTF-8 byte offset (clamped to the text) */
export function charOffset(text: string, byteOffset: number): number {
  if (!Number.isFinite(byteOffset) || byteOffset <= 0) return 0;
  const bytes = Buffer.from(text, 'utf8');
  if (byteOffset >= bytes.length) return text.length;
  // a cut inside a multi-byte character decodes as U+FFFD: one code unit, which is where it starts
  return bytes.subarray(0, byteOffset).toString('utf8').length;
}

