import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DomainError } from '../../domain/errors.ts';
import { createCedarAuthorizer } from './authorizer.ts';
import { loadPolicySet } from './load.ts';
import { parsePolicyTests, runPolicyTests } from './table-test.ts';

const authz = createCedarAuthorizer(await loadPolicySet());

const yaml = `
- name: a developer promotes to staging
  principal: { kind: user, name: dana, roles: [developer], groups: [team-a] }
  action: promotion.request
  resource: { type: Promotion, id: p1, attrs: { service: checkout, environment: staging, tier: staging } }
  expect: allow
- principal: { name: dana, roles: [developer] }
  action: promotion.request
  resource: { type: Promotion, id: p2, attrs: { service: checkout, environment: prod, tier: prod } }
  context: { breakGlass: false }
  expect: deny
  policies: [forbid-prod-promote-without-releaser]
`;

describe('policy table tests', () => {
  test('parse YAML with defaults (kind user, no groups) and run: pass, with reasons', () => {
    const cases = parsePolicyTests(yaml, 'cases.yaml');
    assert.equal(cases.length, 2);
    assert.deepEqual(cases[1]?.principal, { kind: 'user', name: 'dana', roles: ['developer'], groups: [] });
    const results = runPolicyTests(authz, cases);
    assert.deepEqual(
      results.map((r) => [r.name, r.pass, r.decision.policyIds]),
      [
        ['a developer promotes to staging', true, ['developer-promote-non-prod']],
        ['#2 user:dana [developer] promotion.request Promotion:p2', true, ['forbid-prod-promote-without-releaser']],
      ],
    );
  });

  test('JSON {cases: [...]} works; a wrong expectation or wrong deciding policy fails with why', () => {
    const cases = parsePolicyTests(
      JSON.stringify({
        cases: [
          { principal: { name: 'v', roles: ['viewer'] }, action: 'release.push', resource: { type: 'Project', id: 'shop' }, expect: 'allow' },
          { principal: { name: 'r', roles: ['releaser'] }, action: 'release.push', resource: { type: 'Project', id: 'shop' }, expect: 'allow', policies: ['admin-all'] },
        ],
      }),
      'cases.json',
    );
    const [a, b] = runPolicyTests(authz, cases);
    assert.equal(a?.pass, false);
    assert.equal(a?.failure, 'expected allow, got deny');
    assert.equal(b?.pass, false);
    assert.equal(b?.failure, 'expected policies [admin-all], got [push-releases]');
  });

  test('bad files are refused with file:line:column', () => {
    const refused = (text: string, re: RegExp) =>
      assert.throws(() => parsePolicyTests(text, 'c.yaml'), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && re.test(e.message));
    refused('- principal: {name: x\n', /^c\.yaml:\d+:\d+: /);
    refused(yaml.replace('expect: deny', 'expect: maybe'), /^c\.yaml:11:11: \[1\]\.expect: /);
    refused(yaml.replace('  action: promotion.request\n  resource: { type: Promotion, id: p2', '  resource: { type: Promotion, id: p2'), /^c\.yaml:7:3: \[1\]\.action: /);
    refused(yaml.replace('groups: [team-a]', 'groups: [team-a], extra: 1'), /^c\.yaml:3:14: \[0\]\.principal: /);
    refused('cases: []', /^c\.yaml:1:8: cases: /);
    refused('42', /^c\.yaml:1:1: /);
    refused('', /^c\.yaml: /);
  });

  test('property: arbitrary text and arbitrary YAML values parse to cases or a DomainError, never a crash', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), json.map((v) => stringify(v)), json.map((v) => JSON.stringify(v))), (text) => {
        try {
          const cases = parsePolicyTests(text, 'f.yaml');
          assert.ok(cases.length > 0);
        } catch (e) {
          assert.ok(e instanceof DomainError && e.code === 'invalid_input', String(e));
          assert.match(e.message, /^f\.yaml(:\d+:\d+)?: /);
        }
      }),
      { numRuns: 500 },
    );
  });
});
