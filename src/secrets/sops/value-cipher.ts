/**
 * One SOPS value: `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<t>]`. AES-256-GCM under the
 * 32-byte data key, a 32-byte random IV (sops uses GCM with a 32-byte nonce), a 16-byte tag, and the
 * additional data being the value's path joined by ':' plus a final ':' (list indexes are not part
 * of the path). Plaintext encodings follow sops: strings as UTF-8, ints in decimal, floats as Go's
 * `strconv.FormatFloat(v, 'f', -1, 64)`, booleans as `True` / `False`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError } from '../../domain/errors.ts';

export const valueTypes = ['str', 'int', 'float', 'bool'] as const;
export type ValueType = (typeof valueTypes)[number];

export type Leaf =
  | { t: 'str'; v: string }
  | { t: 'int'; v: number }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

const ENC_RE =
  /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:([a-z]+)\]$/;

export const isEncrypted = (s: string): boolean => s.startsWith('ENC[AES256_GCM,');

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatGoFloat(n: number): string {
  if (!Number.isFinite(n)) {
    throw new DomainError('invalid_input', `a number must be finite, got ${String(n)}`, {
      fix: 'use a finite number or a string',
    });
  }
  if (Object.is(n, -0)) return '-0';
  const neg = n < 0;
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(n).toExponential());
  if (!m) throw new DomainError('internal', `cannot format number ${n}`);
  const digits = (m[1] ?? '') + (m[2] ?? '');
  const point = Number(m[3]) + 1;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}

/** The bytes sops hashes into the MAC for a leaf (its `ToBytes`); null contributes nothing. */
export function leafBytes(leaf: Leaf): string {
  switch (leaf.t) {
    case 'str':
      return leaf.v;
    case 'int':
    case 'float':
      return formatGoFloat(leaf.v);
    case 'bool':
      return leaf.v ? 'True' : 'False';
    case 'null':
      return '';
  }
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export function encryptString(
  plaintext: string,
  type: ValueType | 'comment',
  key: Uint8Array,
  aad: string,
): string {
  const iv = randomBytes(32);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return `ENC[AES256_GCM,data:${b64(data)},iv:${b64(iv)},tag:${b64(c.getAuthTag())},type:${type}]`;
}

/** Encrypt one leaf. Empty strings and null stay as they are (sops does not encrypt them). */
export function encryptLeaf(leaf: Leaf, key: Uint8Array, aad: string): string | null {
  if (leaf.t === 'null') return null;
  if (leaf.t === 'str' && leaf.v === '') return '';
  return encryptString(leafBytes(leaf), leaf.t, key, aad);
}

export interface ParsedEnc {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: string;
}

export function parseEnc(s: string, where: string): ParsedEnc {
  const m = ENC_RE.exec(s);
  if (!m) {
    throw new DomainError('invalid_input', `the value at ${where} is not a valid SOPS ENC[...] value`, {
      field: where,
      fix: 'restore the value from version control or re-encrypt the file',
    });
  }
  const [, data, iv, tag, type] = m;
  const parsed = {
    data: Buffer.from(data ?? '', 'base64'),
    iv: Buffer.from(iv ?? '', 'base64'),
    tag: Buffer.from(tag ?? '', 'base64'),
    type: type ?? '',
  };
  if (parsed.iv.length !== 32 || parsed.tag.length !== 16) {
    throw new DomainError('invalid_input', `the value at ${where} has a malformed IV or tag`, {
      field: where,
      fix: 'restore the value from version control or re-encrypt the file',
    });
  }
  return parsed;
}

/** Decrypt an ENC value to its plaintext string; a wrong key, path or edited byte fails here. */
export function decryptString(
  s: string,
  key: Uint8Array,
  aad: string,
  where: string,
): { text: string; type: string } {
  const p = parseEnc(s, where);
  try {
    const d = createDecipheriv('aes-256-gcm', key, p.iv);
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(p.tag);
    const text = Buffer.concat([d.update(p.data), d.final()]).toString('utf8');
    return { text, type: p.type };
  } catch {
    throw new DomainError(
      'digest_mismatch',
      `the encrypted value at ${where} does not authenticate: it was edited, moved from another key, or encrypted under another data key`,
      { field: where, fix: 'restore the file from version control; do not edit encrypted values by hand' },
    );
  }
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Decrypt an ENC value to a typed leaf, parsing its plaintext as sops does. */
export function decryptLeaf(s: string, key: Uint8Array, aad: string, where: string): Leaf {
  if (s === '') return { t: 'str', v: '' };
  const { text, type } = decryptString(s, key, aad, where);
  const bad = (what: string): DomainError =>
    new DomainError('invalid_input', `the value at ${where} is not a valid ${what}`, {
      field: where,
      fix: 'fix the value with sops or re-create the file',
    });
  switch (type) {
    case 'str':
      return { t: 'str', v: text };
    case 'int': {
      if (!/^[+-]?\d{1,20}$/.test(text)) throw bad('int');
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw bad('int within ±2^53');
      return { t: 'int', v: n };
    }
    case 'float': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw bad('float');
      const n = Number(text);
      if (!Number.isFinite(n)) throw bad('finite float');
      return { t: 'float', v: n };
    }
    case 'bool':
      if (GO_TRUE.has(text)) return { t: 'bool', v: true };
      if (GO_FALSE.has(text)) return { t: 'bool', v: false };
      throw bad('bool');
    default:
      throw new DomainError('invalid_input', `the value at ${where} has unsupported type ${type}`, {
        field: where,
        fix: 'only str, int, float and bool values are supported',
      });
  }
}
