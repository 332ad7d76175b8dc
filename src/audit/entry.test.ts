import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { AuditEntry } from '../domain/audit.ts';
import { describeEntry, encodeEntry, MAX_ENTRY_CHARS, parseAuditEntry } from './entry.ts';

const base: AuditEntry = {
  time: '2026-11-26T10:00:00.000Z',
  actor: 'user:alice',
  action: 'promotion.request',
  outcome: 'allowed',
  subject: 'promotion:p1',
  requestDigest: `sha256:${'ab'.repeat(32)}`,
  details: { z: 1, a: ['é', null, { y: true, b: 2.5 }] },
};

describe('audit entry encoding', () => {
  test('RFC 8785: sorted keys, no whitespace, stable round trip', () => {
    const text = encodeEntry(base);
    assert.equal(
      text,
      `{"action":"promotion.request","actor":"user:alice","details":{"a":["é",null,{"b":2.5,"y":true}],"z":1},"outcome":"allowed","requestDigest":"sha256:${'ab'.repeat(32)}","subject":"promotion:p1","time":"2026-11-26T10:00:00.000Z"}`,
    );
    const back = parseAuditEntry(text);
    assert.ok(back.ok);
    assert.equal(encodeEntry(back.entry), text);
    assert.equal(describeEntry(back.entry), 'promotion.request at 2026-11-26T10:00:00.000Z');
    assert.equal(describeEntry('x'), 'unreadable entry');
  });

  test('encodeEntry rejects what JSON cannot carry and oversize entries', () => {
    assert.throws(() => encodeEntry({ ...base, details: { x: Number.POSITIVE_INFINITY } }), { code: 'invalid_input' });
    assert.throws(() => encodeEntry({ ...base, details: { x: '\ud800' } }), { code: 'invalid_input' });
    assert.throws(() => encodeEntry({ ...base, details: { x: 'a'.repeat(MAX_ENTRY_CHARS) } }), /over/);
  });

  test('parseAuditEntry rejects bad fields with the field name', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...base, time: 'yesterday' }, /^time/],
      [{ ...base, action: 'Release Push' }, /^action/],
      [{ ...base, outcome: 'maybe' }, /^outcome/],
      [{ ...base, requestDigest: 'sha256:xyz' }, /^requestDigest/],
      [{ ...base, actor: '' }, /^actor/],
      [{ ...base, details: [] }, /^details/],
      [{ ...base, extra: 1 }, /extra|Unrecognized/],
      [{ ...base, details: { deep: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) } }, /nested too deep|details/],
    ];
    for (const [value, re] of cases) {
      const r = parseAuditEntry(JSON.stringify(value));
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.reason, re);
    }
    assert.match((parseAuditEntry('{') as { reason: string }).reason, /not JSON/);
    assert.match((parseAuditEntry(' '.repeat(MAX_ENTRY_CHARS + 1)) as { reason: string }).reason, /over/);
  });

  test('property: valid entries round-trip; garbage never throws', () => {
    const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)));
    const entry = fc.record({
      time: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
      actor: fc.string({ minLength: 1, maxLength: 40 }),
      action: fc.constantFrom('release.push', 'auth.failed', 'promotion.transition'),
      outcome: fc.constantFrom('allowed', 'denied', 'succeeded', 'failed'),
      subject: fc.string({ minLength: 1, maxLength: 40 }),
      requestDigest: fc.constant(null),
      details: fc.dictionary(fc.string({ maxLength: 10 }), json, { maxKeys: 5 }),
    });
    fc.assert(
      fc.property(entry, (e) => {
        const text = encodeEntry(e as AuditEntry);
        const back = parseAuditEntry(text);
        assert.ok(back.ok, back.ok ? '' : back.reason);
        assert.equal(encodeEntry(back.entry), text);
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => assert.equal(typeof parseAuditEntry(s).ok, 'boolean')));
  });
});
