import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hashSecret, newToken, parseToken, secretMatches } from './tokens.ts';

/** the documented format: sgt_<8-40 alphanumerics>_<20-100 alphanumerics> */
const DOCUMENTED = /^sgt_[A-Za-z0-9]{8,40}_[A-Za-z0-9]{20,100}$/;
const alnum = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${min},${max}}$`));
const nearToken = fc
  .tuple(fc.constantFrom('sgt_', 'SGT_', 'sgt-', '', 'Bearer sgt_'), alnum(0, 45), fc.constantFrom('_', '-', '', '__'), alnum(0, 110), fc.constantFrom('', '\n', ' ', '_', '\0'))
  .map((parts) => parts.join(''));
const anyToken = fc.oneof(fc.string({ maxLength: 250 }), fc.string({ unit: 'binary', maxLength: 250 }), nearToken);

describe('parseToken', () => {
  test('never throws, and accepts exactly the documented format', () => {
    fc.assert(
      fc.property(anyToken, (s) => {
        const r = parseToken(s);
        assert.equal(r !== undefined, DOCUMENTED.test(s), s);
        if (r) assert.equal(`sgt_${r.id}_${r.secret}`, s);
      }),
      { numRuns: 3000 },
    );
  });
  test('every well-formed token parses into its id and secret', () => {
    fc.assert(
      fc.property(alnum(8, 40), alnum(20, 100), (id, secret) => {
        assert.deepEqual(parseToken(`sgt_${id}_${secret}`), { id, secret });
      }),
    );
  });
  test('refuses overlong input without scanning it', () => {
    assert.equal(parseToken(`sgt_${'a'.repeat(40)}_${'b'.repeat(1_000_000)}`), undefined);
  });
  test('newToken makes tokens that parse back', () => {
    for (let i = 0; i < 50; i++) {
      const t = newToken();
      assert.deepEqual(parseToken(t.token), { id: t.id, secret: t.secret });
    }
  });
});

describe('secretMatches', () => {
  test('matches only the hashed secret, and never throws on a malformed stored hash', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), fc.string({ maxLength: 80 }), (secret, other, junk) => {
        const h = hashSecret(secret);
        assert.match(h, /^[a-f0-9]{64}$/);
        assert.equal(secretMatches(secret, h), true);
        assert.equal(secretMatches(other, h), other === secret);
        assert.equal(secretMatches(secret, junk), false);
      }),
    );
  });
});
