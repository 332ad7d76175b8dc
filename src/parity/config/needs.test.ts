import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../../domain/errors.ts';
import { formatNeed, MAX_NEEDS, needsSchema, parseNeeds } from './needs.ts';

test('parseNeeds: service and platform needs, sorted', () => {
  assert.deepEqual(parseNeeds(['service:payments@^2.1.0', 'platform:node@>=20 <23']), [
    { kind: 'platform', name: 'node', range: '>=20 <23' },
    { kind: 'service', name: 'payments', range: '^2.1.0' },
  ]);
  assert.deepEqual(parseNeeds([]), []);
});

test('parseNeeds: every bad spec names the problem and the fix', () => {
  const bad: Array<[string, RegExp]> = [
    ['payments@^2', /not KIND:NAME@RANGE/],
    ['database:pg@1', /not KIND:NAME@RANGE/],
    ['service:Payments@^2', /not a valid service name/],
    ['platform:node@banana', /not a semver range/],
    ['service:payments@', /not KIND:NAME@RANGE/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(() => parseNeeds([spec]), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && re.test(e.message) && /KIND|name|range|NAME/.test(String(e.details.fix)));
  }
  assert.throws(() => parseNeeds(['service:a@1', 'service:a@2']), /twice/);
  assert.throws(() => parseNeeds(Array.from({ length: MAX_NEEDS + 1 }, (_, i) => `service:s${i}@1`)), /at most/);
});

test('property: parsed needs format back to specs that parse to the same needs, and fit the schema', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
  const range = fc.constantFrom('^1.2.3', '~2.0.0', '>=20 <23', '1.x', '*', '3.4.5');
  fc.assert(
    fc.property(fc.uniqueArray(fc.record({ kind: fc.constantFrom('service', 'platform'), name, range }), { maxLength: 8, selector: (n) => `${n.kind}:${n.name}` }), (needs) => {
      const parsed = parseNeeds(needs.map((n) => `${n.kind}:${n.name}@${n.range}`));
      assert.equal(parsed.length, needs.length);
      assert.deepEqual(parseNeeds(parsed.map(formatNeed)), parsed);
      assert.ok(needsSchema.safeParse(parsed).success);
    }),
  );
});

test('property: parseNeeds never throws anything but DomainError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      try {
        parseNeeds([s]);
      } catch (e) {
        assert.ok(e instanceof DomainError);
      }
    }),
  );
});
