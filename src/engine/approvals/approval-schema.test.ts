import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { approvalAllowedFields, approvalPolicySchema, parseApprovalPolicy, separationFlags } from './approval-schema.ts';

const H = 3_600_000;
const refuses = (value: unknown, field: string, message: RegExp, fix?: RegExp) =>
  assert.throws(
    () => parseApprovalPolicy(value, 'environments[2].approvals'),
    (e: unknown) =>
      e instanceof DomainError &&
      e.code === 'invalid_input' &&
      e.details.field === field &&
      message.test(e.message) &&
      typeof e.details.fix === 'string' &&
      (fix ? fix.test(e.details.fix) : e.details.fix.length > 0),
  );

describe('approval policy schema', () => {
  test('defaults and normalization', () => {
    const p = parseApprovalPolicy({ rules: [{ groups: ['sre'], count: 1 }, { name: 'security', groups: ['security', 'security'], users: ['alice', 'service:ci'], count: 1 }] });
    assert.deepEqual(p, {
      rules: [
        { name: 'rule-1', groups: ['sre'], users: [], count: 1 },
        { name: 'security', groups: ['security'], users: ['user:alice', 'service:ci'], count: 1 },
      ],
      expiresAfterMs: 24 * H,
      timeoutMs: 72 * H,
      requireSignatures: false,
      separation: { requesterMayApprove: false, signerMayApprove: false, pusherMayApprove: false, approverMayDeployProd: false, approverMayDeploy: true },
    });
  });
  test('durations, combos and bounds', () => {
    const p = parseApprovalPolicy({ rules: [{ users: ['bob'], count: 1 }], expiresAfter: '1h30m', timeout: '30d', requireSignatures: true });
    assert.equal(p.expiresAfterMs, 1.5 * H);
    assert.equal(p.timeoutMs, 30 * 24 * H);
    assert.equal(p.requireSignatures, true);
    assert.equal(parseApprovalPolicy({ rules: [{ users: ['bob'], count: 1 }], expiresAfter: '10m', timeout: '1d2h' }).timeoutMs, 26 * H);
    refuses({ rules: [{ users: ['bob'], count: 1 }], expiresAfter: '31d' }, 'environments[2].approvals.expiresAfter', /longer than 30 days/, /from 1m to 30d/);
    refuses({ rules: [{ users: ['bob'], count: 1 }], timeout: '30s' }, 'environments[2].approvals.timeout', /shorter than 1 minute/);
    refuses({ rules: [{ users: ['bob'], count: 1 }], timeout: '1 day' }, 'environments[2].approvals.timeout', /duration/);
  });
  test('separation can only be made stricter', () => {
    const strict = parseApprovalPolicy({ rules: [{ users: ['bob'], count: 1 }], separation: { requesterMayApprove: false, approverMayDeploy: false } });
    assert.equal(strict.separation.approverMayDeploy, false);
    for (const flag of separationFlags) {
      refuses(
        { rules: [{ users: ['bob'], count: 1 }], separation: { [flag]: true } },
        `environments[2].approvals.separation.${flag}`,
        /separation of duties can only be made stricter/,
        /separation of duties can only be made stricter/,
      );
    }
    refuses({ rules: [{ users: ['bob'], count: 1 }], separation: { selfApproval: false } }, 'environments[2].approvals.separation', /unknown field `selfApproval`/, /requesterMayApprove/);
  });
  test('rules: who, how many, and whether they can be met', () => {
    refuses({ rules: [] }, 'environments[2].approvals.rules', /at least 1|>=1/i);
    refuses({ rules: Array.from({ length: 11 }, () => ({ users: ['bob'], count: 1 })) }, 'environments[2].approvals.rules', /10|<=10/);
    refuses({ rules: [{ count: 1 }] }, 'environments[2].approvals.rules[0]', /needs `groups` or `users`/);
    refuses({ rules: [{ groups: [], users: [], count: 1 }] }, 'environments[2].approvals.rules[0]', /needs `groups` or `users`/);
    refuses({ rules: [{ groups: ['sre'], count: 0 }] }, 'environments[2].approvals.rules[0].count', /.+/, /1 to 10/);
    refuses({ rules: [{ groups: ['sre'], count: 11 }] }, 'environments[2].approvals.rules[0].count', /.+/);
    refuses({ rules: [{ groups: ['sre'], count: 1.5 }] }, 'environments[2].approvals.rules[0].count', /.+/);
    refuses({ rules: [{ users: ['alice', 'user:alice'], count: 2 }] }, 'environments[2].approvals.rules[0].count', /names only 1 user, so it can never be met/);
    refuses({ rules: [{ groups: ['bad group'], count: 1 }] }, 'environments[2].approvals.rules[0].groups[0]', /.+/);
    refuses({ rules: [{ name: 'a', users: ['x'], count: 1 }, { name: 'a', users: ['y'], count: 1 }] }, 'environments[2].approvals.rules[1].name', /two rules are named "a"/);
    refuses({ rules: [{ users: ['x'], count: 1 }, { name: 'rule-1', users: ['y'], count: 1 }] }, 'environments[2].approvals.rules[1].name', /two rules are named "rule-1"/);
    refuses({ rules: [{ users: ['x'], count: 1, who: 'x' }] }, 'environments[2].approvals.rules[0]', /unknown field `who`/, /groups, users, count/);
    refuses({ rules: [{ users: ['x'], count: 1 }], expires: '1h' }, 'environments[2].approvals', /unknown field `expires`/, /expiresAfter/);
    refuses('yes', 'environments[2].approvals', /.+/);
  });
  test('allowed field lists match the schema', () => {
    assert.deepEqual(approvalAllowedFields['environments[].approvals.separation'], [...separationFlags]);
  });
  test('has a JSON Schema (input side)', () => {
    const js = z.toJSONSchema(approvalPolicySchema, { io: 'input', target: 'draft-2020-12' }) as { properties: Record<string, unknown>; required: string[] };
    assert.deepEqual(js.required, ['rules']);
    assert.ok(js.properties.separation);
  });
  test('property: any input yields a policy or a DomainError, and accepted policies keep their invariants', () => {
    const principal = fc.oneof(fc.constantFrom('alice', 'bob', 'user:carol', 'service:ci', 'bad name', ''), fc.string({ maxLength: 8 }));
    const rule = fc.record(
      {
        name: fc.oneof(fc.constantFrom('sre', 'security', 'a'), fc.string({ maxLength: 8 })),
        groups: fc.array(fc.oneof(fc.constantFrom('sre', 'security', 'qa'), fc.string({ maxLength: 6 })), { maxLength: 4 }),
        users: fc.array(principal, { maxLength: 4 }),
        count: fc.oneof(fc.integer({ min: -1, max: 12 }), fc.double()),
      },
      { requiredKeys: [] },
    );
    const policy = fc.record(
      {
        rules: fc.array(rule, { maxLength: 12 }),
        expiresAfter: fc.oneof(fc.constantFrom('1m', '24h', '30d', '31d', '1h30m', '0s'), fc.string({ maxLength: 6 })),
        timeout: fc.constantFrom('10m', '72h', 'x'),
        requireSignatures: fc.oneof(fc.boolean(), fc.constant('yes')),
        separation: fc.dictionary(fc.constantFrom(...separationFlags, 'other'), fc.oneof(fc.boolean(), fc.constant(null))),
      },
      { requiredKeys: ['rules'] },
    );
    fc.assert(
      fc.property(fc.oneof(policy, fc.jsonValue()), (value) => {
        try {
          const p = parseApprovalPolicy(value);
          assert.ok(p.rules.length >= 1 && p.rules.length <= 10);
          assert.equal(new Set(p.rules.map((r) => r.name)).size, p.rules.length);
          for (const r of p.rules) {
            assert.ok(r.groups.length + r.users.length > 0);
            assert.ok(Number.isInteger(r.count) && r.count >= 1 && r.count <= 10);
            if (r.groups.length === 0) assert.ok(r.count <= r.users.length);
            assert.ok(r.users.every((u) => /^(user|service|workload):/.test(u)));
          }
          assert.ok(p.expiresAfterMs >= 60_000 && p.expiresAfterMs <= 30 * 24 * H);
          assert.ok(p.timeoutMs >= 60_000 && p.timeoutMs <= 30 * 24 * H);
          return true;
        } catch (e) {
          if (e instanceof DomainError) return e.code === 'invalid_input' && Boolean(e.details.fix) && Boolean(e.details.field);
          throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
