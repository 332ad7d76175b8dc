import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../../domain/errors.ts';
import { parseApprovalPolicy } from './approval-schema.ts';
import { approvalBinding, approvalPolicyDigest } from './binding.ts';

const R = `sha256:${'1'.repeat(64)}`;
const P = `sha256:${'2'.repeat(64)}`;

describe('approvalBinding', () => {
  test('is sha256 of the RFC 8785 canonical JSON of the three fields', () => {
    const expected = createHash('sha256').update(`{"environment":"prod","policyDigest":"${P}","releaseId":"${R}"}`).digest('hex');
    assert.equal(approvalBinding({ releaseId: R, environment: 'prod', policyDigest: P }), `sha256:${expected}`);
  });
  test('any change gives another binding', () => {
    const base = approvalBinding({ releaseId: R, environment: 'prod', policyDigest: P });
    assert.notEqual(approvalBinding({ releaseId: `sha256:${'3'.repeat(64)}`, environment: 'prod', policyDigest: P }), base);
    assert.notEqual(approvalBinding({ releaseId: R, environment: 'staging', policyDigest: P }), base);
    assert.notEqual(approvalBinding({ releaseId: R, environment: 'prod', policyDigest: `sha256:${'3'.repeat(64)}` }), base);
    // swapping the two digests is not the same binding either
    assert.notEqual(approvalBinding({ releaseId: P, environment: 'prod', policyDigest: R }), base);
  });
  test('refuses malformed parts, naming the field', () => {
    for (const [input, field] of [
      [{ releaseId: 'sha256:xyz', environment: 'prod', policyDigest: P }, 'releaseId'],
      [{ releaseId: R, environment: 'Prod', policyDigest: P }, 'environment'],
      [{ releaseId: R, environment: 'prod', policyDigest: '' }, 'policyDigest'],
    ] as const) {
      assert.throws(() => approvalBinding(input), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && e.details.field === field);
    }
  });
  test('property: injective over distinct valid inputs', () => {
    const hex = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);
    const env = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    fc.assert(
      fc.property(fc.tuple(hex, env, hex), fc.tuple(hex, env, hex), ([r1, e1, p1], [r2, e2, p2]) => {
        const same = r1 === r2 && e1 === e2 && p1 === p2;
        const b1 = approvalBinding({ releaseId: r1, environment: e1, policyDigest: p1 });
        const b2 = approvalBinding({ releaseId: r2, environment: e2, policyDigest: p2 });
        assert.equal(b1 === b2, same);
        assert.match(b1, /^sha256:[a-f0-9]{64}$/);
      }),
    );
  });
  test('approvalPolicyDigest changes with the policy and ignores key order', () => {
    const a = parseApprovalPolicy({ rules: [{ groups: ['sre'], count: 1 }] });
    const b = parseApprovalPolicy({ rules: [{ count: 1, groups: ['sre'] }] });
    const c = parseApprovalPolicy({ rules: [{ groups: ['sre'], count: 2 }] });
    assert.equal(approvalPolicyDigest(a), approvalPolicyDigest(b));
    assert.notEqual(approvalPolicyDigest(a), approvalPolicyDigest(c));
  });
});
