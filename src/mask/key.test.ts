import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DomainError } from '../domain/errors.ts';
import { KEY_ENV, loadMaskKey, parseMaskKey } from './key.ts';

const dir = mkdtempSync(join(tmpdir(), 'sg-mask-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const hex = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const secretLike = (e: unknown, text: string) => e instanceof DomainError && !JSON.stringify(e.toJSON()).includes(text) && !e.message.includes(text);

describe('parseMaskKey', () => {
  test('hex and base64 (standard and url-safe) of 32+ bytes', () => {
    assert.equal(parseMaskKey(hex, 'x').length, 32);
    assert.deepEqual(parseMaskKey(` ${hex.toUpperCase()}\n`, 'x'), Buffer.from(hex, 'hex'));
    const b = Buffer.from(hex, 'hex');
    assert.deepEqual(parseMaskKey(b.toString('base64'), 'x'), b);
    assert.deepEqual(parseMaskKey(b.toString('base64url'), 'x'), b);
    assert.equal(parseMaskKey(Buffer.from(Array.from({ length: 48 }, (_, i) => 7 + i)).toString('base64'), 'x').length, 48);
  });
  test('refuses short, non-random and malformed keys without echoing them', () => {
    const short = hex.slice(0, 62);
    assert.throws(() => parseMaskKey(short, 'STAGEGATE_MASK_KEY'), (e) => secretLike(e, short) && /too short: 31 bytes, at least 32/.test((e as Error).message) && /STAGEGATE_MASK_KEY/.test((e as Error).message));
    assert.throws(() => parseMaskKey('00'.repeat(32), 'x'), (e) => secretLike(e, '00'.repeat(32)) && /repeats one byte/.test((e as Error).message));
    const bad = 'this is not a key at all, really!!';
    assert.throws(() => parseMaskKey(bad, 'x'), (e) => secretLike(e, bad) && /neither hex nor base64/.test((e as Error).message));
    assert.throws(() => parseMaskKey('', 'x'), /neither hex nor base64/);
  });
});

describe('loadMaskKey', () => {
  test('--key-file wins over the environment', async () => {
    const f = join(dir, 'k.hex');
    writeFileSync(f, `${hex}\n`);
    const env = { [KEY_ENV]: Buffer.from(Array.from({ length: 32 }, (_, i) => 9 + i)).toString('hex') };
    assert.deepEqual(await loadMaskKey({ keyFile: f, env }), Buffer.from(hex, 'hex'));
    assert.deepEqual(await loadMaskKey({ env }), Buffer.from(env[KEY_ENV]!, 'hex'));
  });
  test('no key, a missing key file or a short key in the environment: clear errors', async () => {
    await assert.rejects(loadMaskKey({ env: {} }), /no masking key given/);
    await assert.rejects(loadMaskKey({ keyFile: join(dir, 'nope'), shownAs: 'nope', env: {} }), /key file nope not found/);
    await assert.rejects(loadMaskKey({ env: { [KEY_ENV]: 'abcd' } }), (e) => secretLike(e, 'abcd') && /STAGEGATE_MASK_KEY is too short/.test((e as Error).message));
  });
});
