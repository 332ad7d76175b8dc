/**
 * API tokens: `sgt_<id>_<secret>`. Only sha256(secret) is stored; lookup by id, comparison of the
 * hashes in constant time. The secret is shown once, at creation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_RE = /^sgt_([A-Za-z0-9]{8,40})_([A-Za-z0-9]{20,100})$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlnum(n: number): string {
  const bytes = randomBytes(n * 2);
  let out = '';
  for (const b of bytes) {
    if (b < 248) out += ALNUM[b % 62];
    if (out.length === n) break;
  }
  return out.length === n ? out : randomAlnum(n);
}

export function newToken(): { id: string; secret: string; token: string } {
  const id = randomAlnum(12);
  const secret = randomAlnum(40);
  return { id, secret, token: `sgt_${id}_${secret}` };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  if (token.length > 200) return undefined;
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** constant-time comparison of a presented secret with a stored hash */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
