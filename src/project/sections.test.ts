import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { DomainError } from '../domain/errors.ts';
import { parseProject } from './load.ts';

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const base = (extra: { env?: string; service?: string; top?: string }) => `apiVersion: stagegate.dev/v1
project: shop
keys:
  - name: ci
    publicKey: |
${pem.trim().split('\n').map((l) => `      ${l}`).join('\n')}
services:
  - name: checkout
${extra.service ?? ''}
targets:
  t:
    type: exec
    deploy: ["true"]
environments:
  - name: dev
    tier: dev
    target: t
    trustedKeys: [ci]
  - name: prod
    tier: prod
    target: t
    trustedKeys: [ci]
    requires: [dev]
${extra.env ?? ''}
${extra.top ?? ''}`;

const load = (text: string) => parseProject(text, { file: 'stagegate.yaml', baseDir: '/tmp' });
async function problems(text: string) {
  try {
    await load(text);
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    return e.details['problems'] as Array<{ line: number; column: number; field: string; message: string; fix: string }>;
  }
  assert.fail('loaded');
}

test('rules, approvals, freezes and identities load; gate rules are compiled per service and environment', async () => {
  const p = await load(
    base({
      env: `    rules:
      - id: two-approvals
        expression: approvalCount >= 2.0
        message: prod needs two approvals
    approvals:
      rules: [{groups: [sre], count: 1}]
    freezes:
      - name: holidays
        reason: year end
        start: "2026-12-20T00:00:00Z"
        end: "2027-01-02T00:00:00Z"`,
      service: `    rules:
      prod:
        - id: weekday
          expression: weekday >= 1.0 && weekday <= 5.0
          message: checkout ships on weekdays`,
      top: `identities:
  users:
    - name: alice
      roles: [approver]
      groups: [sre]
  groups:
    - name: sre
      roles: [viewer]`,
    }),
  );
  assert.deepEqual(p.gateRules['checkout']?.['prod']?.map((r) => r.id), ['two-approvals', 'weekday']);
  assert.deepEqual(p.gateRules['checkout']?.['dev'], []);
  assert.equal(p.environments[1]?.approvals?.rules.length, 1);
  assert.equal(p.environments[1]?.freezes[0]?.name, 'holidays');
  assert.equal(p.identities?.users?.[0]?.name, 'alice');
});

test('a CEL rule that does not type-check is refused at load with its file position and id', async () => {
  const list = await problems(
    base({
      env: `    rules:
      - id: bad-fact
        expression: soakSecs > 10.0
        message: nope`,
    }),
  );
  const p = list.find((x) => x.field.includes('rules'));
  assert.ok(p, JSON.stringify(list));
  assert.equal(p.field, 'environments[1].rules[0].expression');
  assert.ok(p.line > 20 && p.column > 0);
  assert.match(p.message, /soakSecs/);
});

test('service rules for an unknown environment, a freeze naming an unknown service, and a group cycle are refused', async () => {
  const list = await problems(
    base({
      env: `    freezes:
      - name: f
        reason: r
        services: [cart]
        start: "2026-12-20T00:00:00Z"
        end: "2027-01-02T00:00:00Z"`,
      service: `    rules:
      qa:
        - id: x
          expression: "true"
          message: m`,
      top: `identities:
  groups:
    - name: a
      members: [group:b]
    - name: b
      members: [group:a]`,
    }),
  );
  const text = list.map((p) => `${p.field}: ${p.message}`).join('\n');
  assert.match(text, /services\[0\]\.rules\.qa.*"qa"/);
  assert.match(text, /freezes\[0\]\.services.*"cart"/);
  assert.match(text, /cycle|a -> b|b -> a/i);
});
