/**
 * Offline verification of an exported audit log (JSON Lines from AuditLog.exportLines) against a
 * signed checkpoint, trusting nothing but the verifier key. Streams: keeps O(log n) hashes.
 */
import canonicalize from 'canonicalize';
import { parseCheckpoint } from './checkpoint.ts';
import { describeEntry, MAX_ENTRY_CHARS } from './entry.ts';
import { bytesEqual, createRootAccumulator, emptyRoot, leafHash } from './merkle.ts';
import { verifyNote } from './note.ts';

export interface VerifyExportInput {
  /** the whole export as text, or */
  logText?: string;
  /** its lines one by one (e.g. from readline), without newlines */
  lines?: Iterable<string> | AsyncIterable<string>;
  /** the signed checkpoint note */
  checkpointNote: string;
  /** the log's note verifier key text */
  verifierKey: string;
  /** when given, the checkpoint's origin must equal it */
  origin?: string;
}

export type VerifyExportResult =
  /** size: entries covered by the checkpoint; entries: lines read (entries after the checkpoint are not covered) */
  | { ok: true; size: number; entries: number; rootHash: Uint8Array }
  | { ok: false; index?: number; reason: string };

const MAX_LINE_CHARS = MAX_ENTRY_CHARS + 256;
const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;

function* splitLines(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    yield text.slice(start, end);
    start = end + 1;
  }
}

export async function verifyExportedLog(input: VerifyExportInput): Promise<VerifyExportResult> {
  const note = verifyNote(input.checkpointNote, input.verifierKey);
  if (!note.ok) return { ok: false, reason: `the checkpoint is not trustworthy with this key: ${note.reason}` };
  const parsed = parseCheckpoint(note.body);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const cp = parsed.checkpoint;
  if (input.origin !== undefined && cp.origin !== input.origin) {
    return { ok: false, reason: `the checkpoint is for log ${JSON.stringify(cp.origin)}, not ${JSON.stringify(input.origin)}` };
  }
  const source = input.lines ?? (input.logText !== undefined ? splitLines(input.logText) : undefined);
  if (source === undefined) return { ok: false, reason: 'no exported log given (logText or lines)' };

  const acc = createRootAccumulator();
  let cpRoot = cp.size === 0 ? emptyRoot() : undefined;
  let index = 0;
  for await (const raw of source) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) continue;
    const bad = (reason: string): VerifyExportResult => ({ ok: false, index, reason: `line ${index + 1}: ${reason}` });
    if (line.length > MAX_LINE_CHARS) return bad(`is over ${MAX_LINE_CHARS} characters`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      return bad(`is not JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('is not a JSON object');
    const { index: lineIndex, entry, leafHash: hashText } = value as { index?: unknown; entry?: unknown; leafHash?: unknown };
    if (lineIndex !== index) {
      return bad(
        `has index ${JSON.stringify(lineIndex)}, expected ${index}: entries are missing, duplicated or reordered`,
      );
    }
    if (typeof hashText !== 'string' || !B64_HASH.test(hashText)) return bad('leafHash is not the base64 of 32 bytes');
    let text: string | undefined;
    try {
      text = canonicalize(entry);
    } catch {
      text = undefined;
    }
    const what = describeEntry(entry);
    if (text === undefined || typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return { ok: false, index, reason: `entry ${index} (${what}) is not a JSON object: the stored entry was corrupted` };
    }
    const leaf = leafHash(Buffer.from(text, 'utf8'));
    if (!bytesEqual(leaf, Buffer.from(hashText, 'base64'))) {
      return {
        ok: false,
        index,
        reason: `entry ${index} (${what}) does not match its leaf hash: its content was changed after it was logged`,
      };
    }
    acc.push(leaf);
    index++;
    if (index === cp.size) cpRoot = acc.root();
  }
  if (index < cp.size) {
    return {
      ok: false,
      reason: `the log has ${index} entries but the checkpoint covers ${cp.size}: entries were removed (the log is truncated)`,
    };
  }
  if (cpRoot === undefined || !bytesEqual(cpRoot, cp.rootHash)) {
    return {
      ok: false,
      reason: `the root hash of the first ${cp.size} entries does not match the signed checkpoint: entries were changed, inserted, removed or reordered`,
    };
  }
  return { ok: true, size: cp.size, entries: index, rootHash: cp.rootHash };
}
