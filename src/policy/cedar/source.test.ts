import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { charOffset, lineColumn, splitPolicies } from './source.ts';

describe('splitPolicies', () => {
  test('splits at top-level semicolons, skipping leading comments and blank text', () => {
    const src = `// header; with a semicolon\n\n@id("a;b") permit (principal, action, resource) when { "x;\\";" == "y" };\n  // between\nforbid (principal, action, resource);\n// trailing comment;\n`;
    const chunks = splitPolicies(src);
    assert.deepEqual(
      chunks.map((c) => c.text),
      ['@id("a;b") permit (principal, action, resource) when { "x;\\";" == "y" };', 'forbid (principal, action, resource);'],
    );
    for (const c of chunks) assert.equal(src.slice(c.start, c.start + c.text.length), c.text);
    assert.deepEqual(lineColumn(src, chunks[1]?.start ?? -1), { line: 5, column: 1 });
  });

  test('trailing text without a semicolon is a last chunk; comments only are none', () => {
    assert.deepEqual(splitPolicies('permit (principal, action, resource)  \n'), [{ text: 'permit (principal, action, resource)', start: 0 }]);
    assert.deepEqual(splitPolicies('// nothing here;\n   \n// nor here'), []);
    assert.deepEqual(splitPolicies(''), []);
    assert.deepEqual(splitPolicies('"unterminated ; string'), [{ text: '"unterminated ; string', start: 0 }]);
  });

  test('property: chunks are in order, disjoint, exact slices of the source; never throws', () => {
    const piece = fc.constantFrom('permit', '(', ')', ';', '"', '\\', '//', '\n', ' ', 'é', '{', '}', '@id("x")', 'when', '"a;b"');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(piece, { maxLength: 60 }).map((a) => a.join(''))), (src) => {
        let end = 0;
        for (const c of splitPolicies(src)) {
          assert.ok(c.start >= end);
          assert.equal(src.slice(c.start, c.start + c.text.length), c.text);
          assert.ok(c.text.length > 0);
          end = c.start + c.text.length;
        }
      }),
      { numRuns: 500 },
    );
  });

  test('property: policies with arbitrary string literals and comments split back into themselves', () => {
    const literal = fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s));
    const policy = fc.tuple(literal, literal, fc.string({ maxLength: 20 }).filter((s) => !s.includes('\n'))).map(
      ([a, b, comment]) => `@reason(${a})\npermit (principal, action, resource) // ${comment}\nwhen { ${b} == "" };`,
    );
    fc.assert(
      fc.property(fc.array(policy, { maxLength: 6 }), (policies) => {
        const src = policies.join('\n\n');
        assert.deepEqual(
          splitPolicies(src).map((c) => c.text),
          policies,
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('source positions', () => {
  test('UTF-8 byte offsets become character offsets', () => {
    const text = 'é"ü";x';
    assert.equal(charOffset(text, 0), 0);
    assert.equal(charOffset(text, 2), 1); // after é (2 bytes)
    assert.equal(charOffset(text, 6), 4); // the ;
    assert.equal(charOffset(text, 99), text.length);
    assert.equal(charOffset(text, -3), 0);
  });

  test('line and column are 1-based', () => {
    const text = 'ab\ncd\n\nef';
    assert.deepEqual(lineColumn(text, 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumn(text, 4), { line: 2, column: 2 });
    assert.deepEqual(lineColumn(text, 7), { line: 4, column: 1 });
    assert.deepEqual(lineColumn(text, 100), { line: 4, column: 3 });
  });
});
