import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { digestOf, sha256File, sha256Hex, timingSafeEqualBytes, timingSafeEqualHex } from './digest.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-digest-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('digests', () => {
  test('known vector', () => {
    assert.equal(sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(digestOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  test('file hashing streams and equals in-memory hashing, across chunk boundaries', async () => {
    for (const size of [0, 1, 4 * 1024 * 1024 - 1, 4 * 1024 * 1024, 9 * 1024 * 1024 + 17]) {
      const bytes = Buffer.alloc(size, 7);
      for (let i = 0; i < size; i += 4093) bytes[i] = i & 0xff;
      const p = join(dir, `f${size}`);
      await writeFile(p, bytes);
      const r = await sha256File(p);
      assert.equal(r.size, size);
      assert.equal(r.digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    }
  });
  test('missing file: not_found naming the file', async () => {
    const p = join(dir, 'nope');
    await assert.rejects(sha256File(p), (e: unknown) => e instanceof DomainError && e.code === 'not_found' && e.details.file === p);
  });
  test('directory: invalid_input with a fix', async () => {
    const d = join(dir, 'sub');
    await mkdir(d);
    await assert.rejects(sha256File(d), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && /directory/.test(e.message));
  });
});

describe('constant-time comparisons', () => {
  test('equal iff same bytes; length mismatch is false', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        return timingSafeEqualBytes(a, b) === Buffer.from(a).equals(Buffer.from(b));
      }),
    );
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => timingSafeEqualHex(a, b) === (a === b)));
    assert.equal(timingSafeEqualHex('ab', 'abc'), false);
    assert.equal(timingSafeEqualHex(sha256Hex('x'), sha256Hex('x')), true);
  });
});
