/**
 * C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint):
 * `<origin>\n<decimal tree size>\n<base64 root hash>\n` followed by optional extension lines.
 */
import { DomainError } from '../domain/errors.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** extension lines, without their newlines */
  extensions?: string[];
}

export type ParseCheckpointResult = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

const MAX_ORIGIN = 512;
const MAX_EXTENSIONS = 64;
const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;

const lineProblem = (line: string): string | undefined =>
  /[\u0000-\u001f\u007f]/.test(line) ? 'has a control character' : undefined;

export function formatCheckpoint(c: Checkpoint): string {
  const problems: string[] = [];
  if (c.origin.length === 0 || c.origin.length > MAX_ORIGIN || lineProblem(c.origin)) {
    problems.push(`origin ${JSON.stringify(c.origin)} must be 1..${MAX_ORIGIN} characters on one line`);
  }
  if (!Number.isSafeInteger(c.size) || c.size < 0) problems.push(`size ${c.size} must be a non-negative integer`);
  if (c.rootHash.length !== 32) problems.push(`root hash must be 32 bytes, got ${c.rootHash.length}`);
  for (const ext of c.extensions ?? []) {
    if (ext.length === 0 || lineProblem(ext)) problems.push(`extension line ${JSON.stringify(ext)} must be non-empty text`);
  }
  if (problems.length > 0) {
    throw new DomainError('invalid_input', `checkpoint: ${problems.join('; ')}`, {
      fix: 'pass the log origin, its current size and its 32-byte root hash',
    });
  }
  const ext = (c.extensions ?? []).map((l) => `${l}\n`).join('');
  return `${c.origin}\n${c.size}\n${Buffer.from(c.rootHash).toString('base64')}\n${ext}`;
}

/** Strict parse of a checkpoint body (the text of a verified note). Never throws. */
export function parseCheckpoint(body: string): ParseCheckpointResult {
  const fail = (reason: string): ParseCheckpointResult => ({ ok: false, reason: `checkpoint ${reason}` });
  if (typeof body !== 'string') return fail('is not text');
  if (!body.endsWith('\n')) return fail('does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) return fail(`has ${lines.length} lines; it needs origin, size and root hash`);
  if (lines.length > 3 + MAX_EXTENSIONS) return fail(`has more than ${MAX_EXTENSIONS} extension lines`);
  const [origin, sizeText, hashText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0 || origin.length > MAX_ORIGIN || lineProblem(origin)) {
    return fail(`origin line is empty, too long or has control characters`);
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    return fail(`size ${JSON.stringify(sizeText.slice(0, 40))} is not a decimal number without leading zeros`);
  }
  if (!B64_HASH.test(hashText) || Buffer.from(hashText, 'base64').toString('base64') !== hashText) {
    return fail('root hash is not the canonical base64 of 32 bytes');
  }
  for (const ext of extensions) {
    if (ext.length === 0 || lineProblem(ext)) return fail('has an empty extension line or control characters');
  }
  return {
    ok: true,
    checkpoint: {
      origin,
      size: Number(sizeText),
      rootHash: new Uint8Array(Buffer.from(hashText, 'base64')),
      ...(extensions.length > 0 ? { extensions } : {}),
    },
  };
}
