/**
 * The keyed pseudo-random stream behind every masking method. Block i of the stream for a value is
 * HMAC-SHA256(key, len32(label) label len32(method) method len32(scope) scope len32(value) value be32(i)):
 * every part is length-prefixed (so no two different (method, scope, value) triples share a
 * message), equal inputs give equal streams under one key, and without the key the stream says
 * nothing about the value. Draws are unbiased: bytes that would favour some outputs are rejected.
 */
import { createHash, type Hash } from 'node:crypto';

const LABEL = 'stagegate-mask-v1';
const BLOCK = 64; // SHA-256 block size

/** yields the bytes of the stream one by one; never ends */
export type ByteSource = () => number;

export interface Prf {
  stream(method: string, scope: string, value: string): ByteSource;
  /** the same stream, with the (method, scope) part of the message prepared once */
  forScope(method: string, scope: string): (value: string) => ByteSource;
}

function part(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * HMAC-SHA256 (RFC 2104) with the keyed inner and outer hash states computed once and copied per
 * message: the same bytes as createHmac('sha256', key), about twice as fast for short messages.
 */
export function createHmacSha256(key: Buffer): (message: Buffer) => Buffer {
  const k = Buffer.alloc(BLOCK);
  (key.length > BLOCK ? createHash('sha256').update(key).digest() : key).copy(k);
  const inner: Hash = createHash('sha256').update(k.map((b) => b ^ 0x36));
  const outer: Hash = createHash('sha256').update(k.map((b) => b ^ 0x5c));
  k.fill(0);
  return (message) => outer.copy().update(inner.copy().update(message).digest()).digest();
}

export function createPrf(key: Buffer): Prf {
  const hmac = createHmacSha256(key);
  const label = part(LABEL);
  const forScope = (method: string, scope: string) => {
    const prefix = Buffer.concat([label, part(method), part(scope)]);
    return (value: string): ByteSource => {
      const v = Buffer.from(value, 'utf8');
      const message = Buffer.allocUnsafe(prefix.length + 4 + v.length + 4);
      prefix.copy(message, 0);
      message.writeUInt32BE(v.length, prefix.length);
      v.copy(message, prefix.length + 4);
      let counter = 0;
      let block: Buffer | undefined;
      let pos = 32;
      return () => {
        if (pos >= 32) {
          message.writeUInt32BE(counter++, message.length - 4);
          block = hmac(message);
          pos = 0;
        }
        return (block as Buffer)[pos++] as number;
      };
    };
  };
  return { forScope, stream: (method, scope, value) => forScope(method, scope)(value) };
}

/** a uniform integer in [0, n) for n <= 256: bytes at or above the largest multiple of n are rejected */
export function drawBelow(next: ByteSource, n: number): number {
  const limit = 256 - (256 % n);
  for (;;) {
    const b = next();
    if (b < limit) return b % n;
  }
}

export const DIGITS = '0123456789';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** RFC 4648 base32 alphabet, lowercased */
export const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export const pick = (next: ByteSource, alphabet: string): string => alphabet[drawBelow(next, alphabet.length)] as string;

export function token(next: ByteSource, length: number, alphabet = BASE32): string {
  let out = '';
  for (let i = 0; i < length; i++) out += pick(next, alphabet);
  return out;
}
