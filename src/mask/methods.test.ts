import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compileMask, keepClasses } from './methods.ts';
import { type MaskingRule, methodRuleSchemas } from './policy-schema.ts';
import { createPrf, drawBelow } from './prf.ts';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
const OTHER_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => 200 - i));
const prf = createPrf(KEY);
// a simple subset of RFC 5322 addr-spec: dot-atom local part @ a dotted domain
const EMAIL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

const rule = <M extends MaskingRule['method']>(method: M, options: Record<string, unknown> = {}) =>
  methodRuleSchemas[method].parse({ method, ...options }) as Extract<MaskingRule, { method: M }>;
const mask = (r: MaskingRule, scope = 'col', p = prf) => compileMask(r, p, scope);

/** the class of each code point: 9 digit, a lower, A upper, the character itself otherwise (non-ASCII -> a) */
const shape = (s: string) =>
  [...s].map((c) => (/[0-9]/.test(c) ? '9' : /[a-z]/.test(c) ? 'a' : /[A-Z]/.test(c) ? 'A' : c.charCodeAt(0) < 128 ? c : 'a')).join('');
const maskable = (s: string) => [...s].filter((c) => /[0-9A-Za-z]/.test(c) || c.charCodeAt(0) >= 128).length;
const anyString = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

describe('email', () => {
  test('gives a valid address at example.com by default, the same for the same address in any case', () => {
    const m = mask(rule('email'));
    const out = m('Alice.Meyer@Example.org');
    assert.match(out, EMAIL_RE);
    assert.match(out, /^[a-z2-7]{12}@example\.com$/);
    assert.equal(m('alice.meyer@example.org'), out);
    assert.equal(m('  alice.meyer@example.org '), out);
    assert.notEqual(m('alice.meyer@example.net'), out);
  });
  test('domain: keep keeps a valid domain, and falls back to example.com otherwise; length sets the local part', () => {
    const m = mask(rule('email', { domain: 'keep', length: 20 }));
    assert.match(m('bob@Shop.Example.co.uk'), /^[a-z2-7]{20}@shop\.example\.co\.uk$/);
    assert.match(m('not an email'), /^[a-z2-7]{20}@example\.com$/);
    assert.match(mask(rule('email', { domain: 'mask.invalid' }))('x@y.z'), /@mask\.invalid$/);
  });
  test('property: any non-empty string gives a valid address, never the input', () => {
    const m = mask(rule('email', { domain: 'keep' }));
    fc.assert(
      fc.property(anyString, (s) => {
        const out = m(s);
        if (s === '') return out === '';
        return EMAIL_RE.test(out) && out !== s && m(s) === out;
      }),
      { numRuns: 300 },
    );
  });
});

describe('phone', () => {
  test('keeps length, +, separators and the configured country code digits', () => {
    const m = mask(rule('phone', { countryCodeDigits: 2 }));
    const out = m('+49 30 1234-5678');
    assert.equal(out.length, '+49 30 1234-5678'.length);
    assert.match(out, /^\+49 \d\d \d{4}-\d{4}$/);
    assert.notEqual(out, '+49 30 1234-5678');
    assert.match(m('+1 (415) 555-0134'), /^\+1 \(4\d\d\) \d{3}-\d{4}$/);
  });
  test('without a +, or with countryCodeDigits 0, every digit is replaced', () => {
    const m = mask(rule('phone'));
    const out = m('+49 30 1234 5678');
    assert.match(out, /^\+[1-9]\d \d\d \d{4} \d{4}$/);
    assert.match(mask(rule('phone', { countryCodeDigits: 3 }))('030 1234'), /^0\d\d \d{4}$/);
  });
  test('property: same shape as the input, digits stay digits, deterministic', () => {
    const m = mask(rule('phone', { countryCodeDigits: 2 }));
    const phone = fc.stringMatching(/^\+?[0-9 ()./-]{0,24}$/);
    fc.assert(
      fc.property(fc.oneof(phone, anyString), (s) => {
        const out = m(s);
        assert.equal(shape(out), shape(s));
        assert.equal(m(s), out);
        if (maskable(s) >= 10) assert.notEqual(out, s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('id', () => {
  test('keeps prefixes, character classes and length', () => {
    const m = mask(rule('id', { prefixes: ['cus_', 'cus_test_'] }));
    const out = m('cus_Q8x2Lm4P');
    assert.match(out, /^cus_[A-Z]\d[a-z]\d[A-Z][a-z]\d[A-Z]$/);
    assert.match(m('cus_test_ab12'), /^cus_test_[a-z]{2}\d\d$/);
    assert.match(m('ord_ab'), /^[a-z]{3}_[a-z]{2}$/);
    assert.equal(m('cus_'), mask(rule('id'))('cus_'), 'a value that is only the prefix is masked whole');
  });
  test('a leading non-zero digit stays non-zero (numbers keep their digit count), a leading 0 stays 0', () => {
    const m = mask(rule('id'));
    for (let i = 1; i < 200; i++) assert.match(m(String(i * 7919)), /^[1-9]\d*$/);
    assert.match(m('000123'), /^0\d{5}$/);
  });
  test('property: same classes and length, prefix kept, deterministic, changed when long enough', () => {
    const m = mask(rule('id', { prefixes: ['cus_'] }));
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^(cus_)?[A-Za-z0-9_-]{0,30}$/), anyString), (s) => {
        const out = m(s);
        assert.equal(shape(out), shape(s));
        if (s.startsWith('cus_') && s.length > 4) assert.ok(out.startsWith('cus_'));
        if (maskable(s) >= 10) assert.notEqual(out, s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('name and text', () => {
  test('a base32 token of the configured length; name and text differ for the same value', () => {
    assert.match(mask(rule('name'))('Alice Meyer'), /^[a-z2-7]{16}$/);
    assert.match(mask(rule('text', { length: 8 }))('Hauptstrasse 12'), /^[a-z2-7]{8}$/);
    assert.notEqual(mask(rule('name'))('same'), mask(rule('text'))('same'));
  });
  test('property: any non-empty string gives a token, the empty string stays empty', () => {
    const m = mask(rule('text', { length: 10 }));
    fc.assert(fc.property(anyString, (s) => (s === '' ? m(s) === '' : /^[a-z2-7]{10}$/.test(m(s)) && m(s) !== s)), { numRuns: 300 });
  });
});

describe('keys and scopes', () => {
  test('equal inputs give equal outputs across maskers of the same scope (joins line up)', () => {
    const a = mask(rule('id', { prefixes: ['cus_'] }), 'customer_id');
    const b = mask(rule('id', { prefixes: ['cus_'] }), 'customer_id', createPrf(Buffer.from(KEY)));
    assert.equal(a('cus_Q8x2Lm4P'), b('cus_Q8x2Lm4P'));
    assert.equal(mask(rule('id', { scope: 'customer' }), 'a')('x1'), mask(rule('id', { scope: 'customer' }), 'b')('x1'));
  });
  test('another key or another scope gives other outputs', () => {
    const other = createPrf(OTHER_KEY);
    for (const method of ['email', 'name', 'text'] as const) {
      assert.notEqual(mask(rule(method))('alice@example.org'), mask(rule(method), 'col', other)('alice@example.org'), method);
      assert.notEqual(mask(rule(method), 'a')('alice@example.org'), mask(rule(method), 'b')('alice@example.org'), method);
    }
    const id = 'cus_Q8x2Lm4P9xKd';
    assert.notEqual(mask(rule('id'))(id), mask(rule('id'), 'col', other)(id));
    assert.notEqual(mask(rule('phone'))('+49 30 1234 5678 90'), mask(rule('phone'), 'col', other)('+49 30 1234 5678 90'));
  });
  test('length-prefixed messages: moving a byte between scope and value changes the output', () => {
    assert.notEqual(mask(rule('text'), 'ab')('c'), mask(rule('text'), 'a')('bc'));
  });
});

describe('unbiased draws', () => {
  test('drawBelow rejects the bytes above the largest multiple of n', () => {
    const bytes = [255, 250, 249];
    let i = 0;
    assert.equal(drawBelow(() => bytes[i++] as number, 10), 9);
    assert.equal(i, 3);
  });
  test('every digit and letter is reachable and roughly uniform', () => {
    const digits = new Map<string, number>();
    const letters = new Map<string, number>();
    for (let i = 0; i < 2600; i++) {
      const out = keepClasses(prf.stream('t', 's', String(i)), '1000000000abcdefghij');
      assert.match(out, /^[1-9]\d{9}[a-z]{10}$/);
      for (const c of out.slice(1, 10)) digits.set(c, (digits.get(c) ?? 0) + 1);
      for (const c of out.slice(10)) letters.set(c, (letters.get(c) ?? 0) + 1);
    }
    assert.equal(digits.size, 10);
    assert.equal(letters.size, 26);
    // 23400 digit draws (2340 expected each, sd ~46), 26000 letter draws (1000 expected each, sd ~31)
    for (const n of digits.values()) assert.ok(n > 2100 && n < 2580, `digit count ${n}`);
    for (const n of letters.values()) assert.ok(n > 840 && n < 1160, `letter count ${n}`);
  });
});
