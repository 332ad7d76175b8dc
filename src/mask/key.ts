/**
 * The masking key: 32 or more random bytes, hex or base64, from --key-file FILE or the
 * STAGEGATE_MASK_KEY environment variable. Short or degenerate keys are refused. The key's value
 * never appears in an error or output.
 */
import { readFile, stat } from 'node:fs/promises';
import { DomainError } from '../domain/errors.ts';

export const MIN_KEY_BYTES = 32;
export const MAX_KEY_BYTES = 1024;
export const KEY_ENV = 'STAGEGATE_MASK_KEY';
const MAKE_ONE = 'make one with `openssl rand -hex 32` and keep it per environment, like any secret';

/** Decode a key written as hex (tried first) or base64 / base64url; `source` names where it came from. */
export function parseMaskKey(text: string, source: string): Buffer {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t) && t.length % 4 !== 1) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key) throw new DomainError('invalid_input', `the masking key from ${source} is neither hex nor base64`, { fix: `write ${MIN_KEY_BYTES}+ random bytes as hex or base64; ${MAKE_ONE}` });
  if (key.length < MIN_KEY_BYTES)
    throw new DomainError('invalid_input', `the masking key from ${source} is too short: ${key.length} bytes, at least ${MIN_KEY_BYTES} needed`, { fix: MAKE_ONE });
  if (key.length > MAX_KEY_BYTES) throw new DomainError('invalid_input', `the masking key from ${source} is longer than ${MAX_KEY_BYTES} bytes`, { fix: MAKE_ONE });
  if (key.every((b) => b === key[0])) throw new DomainError('invalid_input', `the masking key from ${source} repeats one byte: it is not random`, { fix: MAKE_ONE });
  return key;
}

/** --key-file wins over the environment variable. */
export async function loadMaskKey(opts: { keyFile?: string; shownAs?: string; env: Readonly<Record<string, string | undefined>> }): Promise<Buffer> {
  if (opts.keyFile !== undefined) {
    const shown = opts.shownAs ?? opts.keyFile;
    const s = await stat(opts.keyFile).catch(() => undefined);
    if (!s?.isFile()) throw new DomainError('invalid_input', `key file ${shown} not found`, { file: shown, fix: `give --key-file the path of a file holding the key; ${MAKE_ONE}` });
    if (s.size > 4 * MAX_KEY_BYTES) throw new DomainError('invalid_input', `key file ${shown} is too large to be a key`, { file: shown, fix: MAKE_ONE });
    return parseMaskKey(await readFile(opts.keyFile, 'utf8'), `key file ${shown}`);
  }
  const v = opts.env[KEY_ENV];
  if (v === undefined || v.trim() === '')
    throw new DomainError('invalid_input', 'no masking key given', { fix: `pass --key-file FILE or set ${KEY_ENV} (${MIN_KEY_BYTES}+ random bytes, hex or base64); ${MAKE_ONE}` });
  return parseMaskKey(v, KEY_ENV);
}
