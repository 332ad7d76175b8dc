import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { createBlobStore } from './blob-store.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'blob-store-'));
  dirs.push(dir);
  return { dir, blobs: createBlobStore({ dir }) };
}
const sha = (b: string | Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const tmpLeftovers = (dir: string) => {
  try {
    return readdirSync(join(dir, 'tmp'));
  } catch {
    return [];
  }
};
const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

/** a stream of `count` chunks of `chunkSize` bytes, generated lazily */
function generated(count: number, chunkSize: number, fill = 0x61): Readable {
  const chunk = Buffer.alloc(chunkSize, fill);
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield chunk;
    })(),
  );
}

describe('blob store', () => {
  test('put stores the bytes under sha256/<2 hex>/<hex> and reads them back', async () => {
    const { dir, blobs } = fresh();
    const body = 'hello blob';
    const put = await blobs.put(Readable.from([Buffer.from('hello '), 'blob']), { maxBytes: 100 });
    assert.deepEqual(put, { digest: sha(body), size: body.length });
    const hex = put.digest.slice(7);
    assert.equal(blobs.pathOf(put.digest), join(dir, 'sha256', hex.slice(0, 2), hex));
    assert.equal(readFileSync(blobs.pathOf(put.digest), 'utf8'), body);
    assert.equal(await blobs.has(put.digest), true);
    assert.equal(await blobs.size(put.digest), body.length);
    assert.equal(await text(blobs.openRead(put.digest)), body);
    assert.deepEqual(tmpLeftovers(dir), []);
  });

  test('put with the right expectedDigest succeeds; putting it again is a no-op', async () => {
    const { dir, blobs } = fresh();
    const expectedDigest = sha('same');
    const a = await blobs.put(Readable.from(['same']), { expectedDigest, maxBytes: 10 });
    const b = await blobs.put(Readable.from(['same']), { expectedDigest, maxBytes: 10 });
    assert.deepEqual(a, b);
    assert.equal(a.digest, expectedDigest);
    assert.deepEqual(tmpLeftovers(dir), []);
  });

  test('an empty upload is a valid blob', async () => {
    const { blobs } = fresh();
    const put = await blobs.put(Readable.from([]), { maxBytes: 0 });
    assert.deepEqual(put, { digest: sha(''), size: 0 });
  });

  test('digest mismatch names both digests, stores nothing and leaves no temp file', async () => {
    const { dir, blobs } = fresh();
    const expectedDigest = sha('expected');
    await assert.rejects(blobs.put(Readable.from(['actual']), { expectedDigest, maxBytes: 100 }), (e: unknown) => {
      assert.ok(e instanceof DomainError && e.code === 'digest_mismatch');
      assert.match(e.message, new RegExp(expectedDigest));
      assert.match(e.message, new RegExp(sha('actual')));
      assert.equal(e.details.expected, expectedDigest);
      assert.equal(e.details.actual, sha('actual'));
      assert.ok(e.details.fix);
      return true;
    });
    assert.equal(await blobs.has(sha('actual')), false);
    assert.deepEqual(tmpLeftovers(dir), []);
  });

  test('over maxBytes: payload_too_large, source destroyed, no temp file', async () => {
    const { dir, blobs } = fresh();
    const source = generated(100, 1024);
    await assert.rejects(blobs.put(source, { maxBytes: 10 * 1024 + 1 }), isCode('payload_too_large'));
    assert.equal(source.destroyed, true);
    assert.deepEqual(tmpLeftovers(dir), []);
    // exactly at the limit is fine
    const ok = await blobs.put(generated(2, 1024), { maxBytes: 2048 });
    assert.equal(ok.size, 2048);
  });

  test('a failing source stream rejects and leaves no temp file', async () => {
    const { dir, blobs } = fresh();
    const source = Readable.from(
      (async function* () {
        yield Buffer.from('partial');
        throw new Error('connection reset');
      })(),
    );
    await assert.rejects(blobs.put(source, { maxBytes: 1000 }), /connection reset/);
    assert.deepEqual(tmpLeftovers(dir), []);
  });

  test('a stream of non-byte objects is refused and leaves no temp file', async () => {
    const { dir, blobs } = fresh();
    await assert.rejects(blobs.put(Readable.from([{ a: 1 }]), { maxBytes: 1000 }), isCode('invalid_input'));
    assert.deepEqual(tmpLeftovers(dir), []);
  });

  test('bad maxBytes and bad expectedDigest are refused before reading', async () => {
    const { blobs } = fresh();
    await assert.rejects(blobs.put(Readable.from(['x']), { maxBytes: -1 }), isCode('invalid_input'));
    await assert.rejects(blobs.put(Readable.from(['x']), { maxBytes: 1.5 }), isCode('invalid_input'));
    await assert.rejects(
      blobs.put(Readable.from(['x']), { maxBytes: 10, expectedDigest: '../../etc/passwd' }),
      isCode('invalid_input'),
    );
  });

  test('missing blobs: has is false, size and openRead throw not_found', async () => {
    const { blobs } = fresh();
    const d = sha('nothing here');
    assert.equal(await blobs.has(d), false);
    await assert.rejects(blobs.size(d), isCode('not_found'));
    assert.throws(() => blobs.openRead(d), isCode('not_found'));
  });

  test('path-traversal and malformed digests are refused with invalid_input', async () => {
    const { blobs } = fresh();
    const hex = 'a'.repeat(64);
    const bad = [
      '../etc/passwd',
      `sha256:../${hex.slice(3)}`,
      `sha256:${hex.slice(0, 62)}/..`,
      '/etc/passwd',
      `/sha256:${hex}`,
      `sha256:${hex.slice(0, 63)}\0`,
      `sha256:${hex}\0`,
      `sha256:${hex.toUpperCase()}`,
      `SHA256:${hex}`,
      `sha256:${hex.slice(0, 63)}`,
      `sha256:${hex}a`,
      `sha256:${hex}\n`,
      hex,
      `sha512:${hex}`,
      '',
    ];
    for (const d of bad) {
      assert.throws(() => blobs.pathOf(d), isCode('invalid_input'), JSON.stringify(d));
      assert.throws(() => blobs.openRead(d), isCode('invalid_input'), JSON.stringify(d));
      await assert.rejects(blobs.has(d), isCode('invalid_input'), JSON.stringify(d));
      await assert.rejects(blobs.size(d), isCode('invalid_input'), JSON.stringify(d));
    }
  });

  test('property: arbitrary digests never escape the store dir and only throw DomainError', async () => {
    const { dir, blobs } = fresh();
    const hexChar = fc.constantFrom(...'0123456789abcdef'.split(''));
    const digestLike = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.string({ unit: hexChar, minLength: 60, maxLength: 68 }).map((h) => `sha256:${h}`),
      fc.tuple(fc.constantFrom('../', '/', '\0', '..', '%2e%2e/', 'A'), fc.nat(70)).map(([s, n]) => `sha256:${'a'.repeat(n)}${s}`),
    );
    await fc.assert(
      fc.asyncProperty(digestLike, async (d) => {
        for (const op of [() => blobs.pathOf(d), () => blobs.openRead(d)]) {
          try {
            const r = op();
            if (typeof r === 'string') {
              const rel = relative(dir, r);
              assert.ok(!rel.startsWith('..') && !isAbsolute(rel), `${r} escapes ${dir}`);
            } else r.destroy();
          } catch (e) {
            assert.ok(e instanceof DomainError, `threw ${String(e)}`);
          }
        }
        for (const op of [() => blobs.has(d), () => blobs.size(d)]) {
          try {
            await op();
          } catch (e) {
            assert.ok(e instanceof DomainError, `threw ${String(e)}`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a large upload streams: resident memory stays far below the body size', async () => {
    const { dir, blobs } = fresh();
    const mib = 1024 * 1024;
    global.gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    try {
      const put = await blobs.put(generated(256, mib, 0x7a), { maxBytes: 512 * mib });
      assert.equal(put.size, 256 * mib);
      assert.equal(await blobs.size(put.digest), 256 * mib);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    assert.ok(peak - before < 64 * mib, `peak RSS grew by ${((peak - before) / mib).toFixed(1)} MiB`);
    assert.deepEqual(tmpLeftovers(dir), []);
  });
});
