import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createHmacSha256, createPrf } from './prf.ts';

describe('createHmacSha256', () => {
  test('RFC 4231 test cases 1 and 6 (a key longer than the block)', () => {
    const tc1 = createHmacSha256(Buffer.alloc(20, 0x0b))(Buffer.from('Hi There'));
    assert.equal(tc1.toString('hex'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    const tc6 = createHmacSha256(Buffer.alloc(131, 0xaa))(Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'));
    assert.equal(tc6.toString('hex'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });
  test('equals node:crypto createHmac for keys of 32, 64, 65 and 1024 bytes, reused many times', () => {
    for (const size of [32, 64, 65, 1024]) {
      const key = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + size) & 255));
      const mine = createHmacSha256(key);
      for (const m of ['', 'a', 'x'.repeat(200)]) assert.deepEqual(mine(Buffer.from(m)), createHmac('sha256', key).update(m).digest(), `${size}/${m.length}`);
    }
  });
});

describe('the stream', () => {
  test('block i is HMAC(key, len-prefixed label, method, scope, value, be32(i)): pinned so outputs stay stable', () => {
    const key = Buffer.alloc(32, 0x42);
    const lp = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      return Buffer.concat([l, b]);
    };
    const expected = [0, 1].map((i) => {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(i);
      return createHmac('sha256', key).update(Buffer.concat([lp('stagegate-mask-v1'), lp('email'), lp('email'), lp('ä@x.org'), c])).digest();
    });
    const next = createPrf(key).stream('email', 'email', 'ä@x.org');
    const got = Buffer.from(Array.from({ length: 64 }, () => next()));
    assert.deepEqual(got, Buffer.concat(expected));
  });
});
