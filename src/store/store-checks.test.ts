import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDomainError } from '../domain/errors.ts';
import { checkLimit, checkTimestamp, chunks, constraintOf, decodeEnum, decodeGates, encodeGates } from './store-checks.ts';

const gate = fc.record(
  {
    gate: fc.string({ minLength: 1, maxLength: 200 }),
    passed: fc.boolean(),
    message: fc.string({ maxLength: 500 }),
    subject: fc.string({ maxLength: 200 }),
  },
  { requiredKeys: ['gate', 'passed', 'message'], noNullPrototype: true },
);

test('gates round-trip through the JSON column', () => {
  fc.assert(
    fc.property(fc.option(fc.array(gate, { maxLength: 20 }), { nil: null }), (gates) => {
      assert.deepEqual(decodeGates(encodeGates(gates, 'gates'), 'row'), gates);
    }),
  );
});

test('any stored text either decodes to bounded gate results or is reported as corrupt', () => {
  const text = fc.oneof(
    fc.string(),
    fc.json(),
    fc.array(gate).map((g) => JSON.stringify(g)),
    fc.array(fc.record({ gate: fc.string(), passed: fc.anything(), message: fc.anything() })).map((g) => JSON.stringify(g)),
  );
  fc.assert(
    fc.property(text, (t) => {
      try {
        const out = decodeGates(t, 'promotions row p gates');
        assert.ok(Array.isArray(out) && out.length <= 500);
        for (const g of out) assert.ok(g.gate.length >= 1 && g.gate.length <= 200 && typeof g.passed === 'boolean');
      } catch (e) {
        assert.ok(isDomainError(e) && e.code === 'internal', String(e));
        assert.match(e.message, /promotions row p gates/);
      }
    }),
  );
});

test('unbounded gate results are refused on write', () => {
  assert.throws(() => encodeGates([{ gate: 'x'.repeat(201), passed: true, message: '' }], 'patch.gates'), /patch\.gates/);
  const many = Array.from({ length: 501 }, () => ({ gate: 'g', passed: true, message: '' }));
  assert.throws(() => encodeGates(many, 'gates'), (e) => isDomainError(e) && e.code === 'invalid_input');
});

test('timestamps: every Date#toISOString passes, other text is invalid_input', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
      assert.equal(checkTimestamp(d.toISOString(), 'at'), d.toISOString());
    }),
  );
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        assert.equal(checkTimestamp(s, 'at'), s);
        assert.equal(new Date(s).toISOString().length, 24);
      } catch (e) {
        assert.ok(isDomainError(e) && e.code === 'invalid_input' && e.details.field === 'at');
      }
    }),
  );
  assert.throws(() => checkTimestamp(Date.now(), 'at'), /at is not/);
});

test('limits are whole numbers from 1 to 10,000', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.double()), (v) => {
      const ok = Number.isSafeInteger(v) && v >= 1 && v <= 10_000;
      if (ok) assert.equal(checkLimit(v, 'limit'), v);
      else assert.throws(() => checkLimit(v, 'limit'), (e) => isDomainError(e) && e.code === 'invalid_input');
    }),
  );
});

test('chunks keep every item, in order, in parts of at most the size', () => {
  fc.assert(
    fc.property(fc.array(fc.nat()), fc.integer({ min: 1, max: 50 }), (items, size) => {
      const parts = chunks(items, size);
      assert.deepEqual(parts.flat(), items);
      assert.ok(parts.every((p) => p.length >= 1 && p.length <= size));
    }),
  );
});

test('constraint errors of both drivers are recognised; other errors are not', () => {
  assert.equal(constraintOf({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }), 'unique');
  assert.equal(constraintOf({ code: 'SQLITE_CONSTRAINT_UNIQUE' }), 'unique');
  assert.equal(constraintOf({ code: '23505' }), 'unique');
  assert.equal(constraintOf({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }), 'foreign_key');
  assert.equal(constraintOf({ code: '23503' }), 'foreign_key');
  assert.equal(constraintOf(new Error('boom')), undefined);
  assert.equal(constraintOf(null), undefined);
  assert.equal(decodeEnum('image', ['artifact', 'image'] as const, 'kind'), 'image');
  assert.throws(() => decodeEnum('blob', ['artifact', 'image'] as const, 'kind'), (e) => isDomainError(e) && e.code === 'internal');
});
