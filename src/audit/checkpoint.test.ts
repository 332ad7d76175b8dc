import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatCheckpoint, parseCheckpoint } from './checkpoint.ts';

const root = new Uint8Array(32).map((_, i) => i * 7);
const rootB64 = Buffer.from(root).toString('base64');

describe('checkpoint', () => {
  test('format and parse round-trip, with and without extensions', () => {
    const body = formatCheckpoint({ origin: 'stagegate.example/audit', size: 12, rootHash: root });
    assert.equal(body, `stagegate.example/audit\n12\n${rootB64}\n`);
    assert.deepEqual(parseCheckpoint(body), { ok: true, checkpoint: { origin: 'stagegate.example/audit', size: 12, rootHash: root } });
    const withExt = formatCheckpoint({ origin: 'o', size: 0, rootHash: root, extensions: ['ext one'] });
    const parsed = parseCheckpoint(withExt);
    assert.ok(parsed.ok && parsed.checkpoint.extensions?.[0] === 'ext one');
  });

  test('strict parse rejects malformed bodies', () => {
    const bad = [
      `o\n12\n${rootB64}`,
      `\n12\n${rootB64}\n`,
      `o\n012\n${rootB64}\n`,
      `o\n-1\n${rootB64}\n`,
      `o\n1.0\n${rootB64}\n`,
      `o\n99999999999999999\n${rootB64}\n`,
      `o\n12\n${rootB64.slice(4)}\n`,
      `o\n12\n${Buffer.alloc(31).toString('base64')}\n`,
      `o\n12\n${rootB64.slice(0, 42)}B=\n`,
      `o\n12\n`,
      `o\n12\n${rootB64}\n\n`,
      `o\r\n12\n${rootB64}\n`,
    ];
    for (const body of bad) {
      const r = parseCheckpoint(body);
      assert.equal(r.ok, false, JSON.stringify(body));
      assert.match(r.ok ? '' : r.reason, /^checkpoint /);
    }
    assert.throws(() => formatCheckpoint({ origin: '', size: 1, rootHash: root }), { code: 'invalid_input' });
    assert.throws(() => formatCheckpoint({ origin: 'o', size: -1, rootHash: new Uint8Array(3) }), /size -1.*32 bytes/);
  });

  test('property: format/parse round-trip and garbage never throws', () => {
    const origin = fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
    fc.assert(
      fc.property(origin, fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (o, size, h) => {
        const r = parseCheckpoint(formatCheckpoint({ origin: o, size, rootHash: h }));
        assert.ok(r.ok);
        assert.deepEqual(r.checkpoint, { origin: o, size, rootHash: h });
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => assert.equal(typeof parseCheckpoint(s).ok, 'boolean')));
  });
});
