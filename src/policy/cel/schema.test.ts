import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GATE_RULE_ID_RE, type GateRule, gateRuleSchema, gateRulesDigest, gateRulesSchema, mergeGateRules, serviceGateRulesSchema } from './schema.ts';

const r = (id: string, expression = 'true', message = `${id} failed`): GateRule => ({ id, expression, message });

describe('gateRuleSchema / gateRulesSchema', () => {
  test('accepts a well-formed rule and refuses unknown keys', () => {
    assert.deepEqual(gateRuleSchema.parse(r('two-sre')), r('two-sre'));
    assert.equal(gateRuleSchema.safeParse({ ...r('a'), severity: 'high' }).success, false);
  });
  test('bounds: id pattern, expression 1..4096, message 1..1000, at most 100 rules', () => {
    for (const id of ['', 'A', '1a', 'a_b', 'a'.repeat(64), 'ab ']) assert.equal(gateRuleSchema.safeParse(r(id)).success, false, id);
    for (const id of ['a', 'a-1', 'a'.repeat(63)]) assert.equal(gateRuleSchema.safeParse(r(id)).success, true, id);
    assert.equal(gateRuleSchema.safeParse(r('a', '')).success, false);
    assert.equal(gateRuleSchema.safeParse(r('a', 'x'.repeat(4096))).success, true);
    assert.equal(gateRuleSchema.safeParse(r('a', 'x'.repeat(4097))).success, false);
    assert.equal(gateRuleSchema.safeParse(r('a', 'true', '')).success, false);
    assert.equal(gateRuleSchema.safeParse(r('a', 'true', 'm'.repeat(1001))).success, false);
    assert.equal(gateRulesSchema.safeParse(Array.from({ length: 100 }, (_, i) => r(`r${i}`))).success, true);
    assert.equal(gateRulesSchema.safeParse(Array.from({ length: 101 }, (_, i) => r(`r${i}`))).success, false);
  });
  test('duplicate ids are refused at the duplicate, naming the first', () => {
    const res = gateRulesSchema.safeParse([r('a'), r('b'), r('a')]);
    assert.equal(res.success, false);
    const issue = res.error?.issues[0];
    assert.deepEqual(issue?.path, [2, 'id']);
    assert.match(issue?.message ?? '', /duplicate gate rule id "a" \(also at index 0\)/);
  });
  test('service rules: environment name -> rules, names checked', () => {
    assert.equal(serviceGateRulesSchema.safeParse({ prod: [r('a')], staging: [] }).success, true);
    assert.equal(serviceGateRulesSchema.safeParse({ Prod: [r('a')] }).success, false);
    assert.equal(serviceGateRulesSchema.safeParse({ prod: [r('a'), r('a')] }).success, false);
  });
  test('property: the id pattern and the schema agree', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[a-z][a-z0-9-]{0,70}$/)), (id) => {
        assert.equal(gateRuleSchema.safeParse(r(id)).success, GATE_RULE_ID_RE.test(id) && id.length <= 63);
      }),
    );
  });
});

describe('mergeGateRules', () => {
  test('service rules are added; a same-id service rule replaces the environment rule in place', () => {
    const env = [r('a', 'true', 'env a'), r('b', 'true', 'env b'), r('c', 'true', 'env c')];
    const svc = [r('d', 'true', 'svc d'), r('b', 'false', 'svc b')];
    assert.deepEqual(
      mergeGateRules(env, svc).map((x) => x.message),
      ['env a', 'svc b', 'env c', 'svc d'],
    );
  });
  test('no service rules: the environment rules, unchanged; no environment rules: the service rules', () => {
    const env = [r('a'), r('b')];
    assert.deepEqual(mergeGateRules(env, []), env);
    assert.deepEqual(mergeGateRules([], env), env);
  });
  test('property: every environment id stays, every service rule appears exactly once, ids stay unique', () => {
    const ids = fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f', 'g'), { maxLength: 7 });
    fc.assert(
      fc.property(ids, ids, (envIds, svcIds) => {
        const env = envIds.map((id) => r(id, 'true', `env ${id}`));
        const svc = svcIds.map((id) => r(id, 'true', `svc ${id}`));
        const merged = mergeGateRules(env, svc);
        const mergedIds = merged.map((x) => x.id);
        assert.equal(new Set(mergedIds).size, mergedIds.length);
        assert.deepEqual(mergedIds.slice(0, envIds.length), envIds);
        for (const s of svc) assert.equal(merged.filter((x) => x === s).length, 1);
        for (const e of env) assert.equal(merged.includes(e), !svcIds.includes(e.id));
      }),
    );
  });
});

describe('gateRulesDigest', () => {
  test('is a sha256 digest that changes with any field or the order', () => {
    const base = [r('a', 'true', 'm'), r('b', 'false', 'n')];
    const d = gateRulesDigest(base);
    assert.match(d, /^sha256:[a-f0-9]{64}$/);
    assert.equal(gateRulesDigest([{ message: 'm', expression: 'true', id: 'a' }, r('b', 'false', 'n')]), d, 'key order does not matter');
    assert.notEqual(gateRulesDigest([r('a', 'true', 'm!'), r('b', 'false', 'n')]), d);
    assert.notEqual(gateRulesDigest([r('a', 'true ', 'm'), r('b', 'false', 'n')]), d);
    assert.notEqual(gateRulesDigest([r('b', 'false', 'n'), r('a', 'true', 'm')]), d);
    assert.notEqual(gateRulesDigest([]), d);
  });
  test('ignores extra properties (a compiled rule digests like its source)', () => {
    const withExtra = { ...r('a'), where: 'x', program: () => true };
    assert.equal(gateRulesDigest([withExtra]), gateRulesDigest([r('a')]));
  });
});
