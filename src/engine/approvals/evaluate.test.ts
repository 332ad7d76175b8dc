import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseApprovalPolicy } from './approval-schema.ts';
import type { ApprovalPolicy } from './approval-schema.ts';
import { canDeploy, evaluateApprovals } from './evaluate.ts';
import type { ApprovalFacts, ApprovalInput } from './evaluate.ts';

const B = `sha256:${'b'.repeat(64)}`;
const OTHER = `sha256:${'c'.repeat(64)}`;
const NOW = new Date('2026-03-01T12:00:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const facts: ApprovalFacts = { requester: 'user:rita', signerPrincipals: ['user:sam'], pusher: 'service:ci', bindingDigest: B, now: NOW };
const ok = (approver: string, groups: string[], minutesAgo = 5, extra: Partial<ApprovalInput> = {}): ApprovalInput => ({
  approver,
  groups,
  at: ago(minutesAgo),
  bindingDigest: B,
  decision: 'approve',
  comment: 'lgtm',
  ...extra,
});
const prod = parseApprovalPolicy({
  rules: [
    { name: 'sre', groups: ['sre'], count: 1 },
    { name: 'security', groups: ['security'], count: 1 },
  ],
});

describe('evaluateApprovals: matching', () => {
  test('prod needs one from sre and one from security', () => {
    const none = evaluateApprovals(prod, [], facts);
    assert.equal(none.satisfied, false);
    assert.deepEqual(none.missing, [
      { rule: 'sre', needed: 1, have: 0, eligible: 'a member of sre' },
      { rule: 'security', needed: 1, have: 0, eligible: 'a member of security' },
    ]);
    const one = evaluateApprovals(prod, [ok('user:ann', ['sre'])], facts);
    assert.equal(one.satisfied, false);
    assert.deepEqual(one.counted, [{ rule: 'sre', approver: 'user:ann' }]);
    assert.deepEqual(one.missing.map((m) => m.rule), ['security']);
    const both = evaluateApprovals(prod, [ok('user:ann', ['sre']), ok('user:sec', ['security'])], facts);
    assert.equal(both.satisfied, true);
    assert.deepEqual(both.counted, [
      { rule: 'sre', approver: 'user:ann' },
      { rule: 'security', approver: 'user:sec' },
    ]);
    assert.deepEqual(both.missing, []);
  });
  test('one person in two groups counts once', () => {
    const r = evaluateApprovals(prod, [ok('user:both', ['sre', 'security'])], facts);
    assert.equal(r.satisfied, false);
    assert.equal(r.counted.length, 1);
    assert.equal(r.missing.length, 1);
    const twice = evaluateApprovals(prod, [ok('user:both', ['sre', 'security'], 10), ok('user:both', ['sre', 'security'], 2)], facts);
    assert.equal(twice.satisfied, false);
    assert.equal(twice.counted.length, 1);
    assert.match(twice.ignored[0]?.why ?? '', /approved more than once/);
  });
  test('two rules needing the same scarce person: the person goes where nobody else can', () => {
    // both approved; `both` is the only security member, `ann` only sre. Order puts `both` first.
    const r = evaluateApprovals(prod, [ok('user:both', ['sre', 'security'], 30), ok('user:ann', ['sre'], 1)], facts);
    assert.equal(r.satisfied, true);
    assert.deepEqual(r.counted, [
      { rule: 'sre', approver: 'user:ann' },
      { rule: 'security', approver: 'user:both' },
    ]);
  });
  test('augmenting paths across three rules', () => {
    const policy = parseApprovalPolicy({
      rules: [
        { name: 'a', groups: ['a'], count: 2 },
        { name: 'b', groups: ['b'], count: 1 },
        { name: 'c', groups: ['c'], count: 1 },
      ],
    });
    // p1 in a,b; p2 in a,c; p3 in b; p4 in a. Feasible: a={p1? ...}: a={p2,p4}? then c needs p2 -> a={p1,p4}, b={p3}, c={p2}
    const r = evaluateApprovals(policy, [ok('user:p1', ['a', 'b'], 9), ok('user:p2', ['a', 'c'], 8), ok('user:p3', ['b'], 7), ok('user:p4', ['a'], 6)], facts);
    assert.equal(r.satisfied, true, JSON.stringify(r));
    const byRule = (name: string) => r.counted.filter((c) => c.rule === name).map((c) => c.approver).sort();
    assert.deepEqual(byRule('a'), ['user:p1', 'user:p4']);
    assert.deepEqual(byRule('b'), ['user:p3']);
    assert.deepEqual(byRule('c'), ['user:p2']);
  });
  test('an unmet rule does not hold people a later rule needs', () => {
    const policy = parseApprovalPolicy({
      rules: [
        { name: 'two-sre', groups: ['sre'], count: 2 },
        { name: 'dba', groups: ['dba'], count: 1 },
      ],
    });
    const r = evaluateApprovals(policy, [ok('user:x', ['sre', 'dba'])], facts);
    assert.deepEqual(r.counted, [{ rule: 'dba', approver: 'user:x' }]);
    assert.deepEqual(r.missing, [{ rule: 'two-sre', needed: 2, have: 1, eligible: 'a member of sre' }]);
  });
  test('users rules and mixed eligibility', () => {
    const policy = parseApprovalPolicy({ rules: [{ name: 'owners', users: ['alice', 'bob'], groups: ['leads'], count: 2 }] });
    const r = evaluateApprovals(policy, [ok('user:alice', []), ok('user:lee', ['leads']), ok('user:eve', ['devs'])], facts);
    assert.equal(r.satisfied, true);
    assert.deepEqual(r.ignored, [{ approver: 'user:eve', why: 'not eligible for any rule (owners: a member of leads, or user:alice or user:bob)' }]);
  });
});

describe('evaluateApprovals: separation of duties, expiry, binding, rejection', () => {
  const anyone = parseApprovalPolicy({ rules: [{ groups: ['eng'], count: 1 }] });
  test('requester, signer and pusher cannot approve', () => {
    const r = evaluateApprovals(anyone, [ok('user:rita', ['eng']), ok('user:sam', ['eng']), ok('service:ci', ['eng'])], facts);
    assert.equal(r.satisfied, false);
    assert.deepEqual(r.ignored, [
      { approver: 'user:rita', why: 'requested this promotion; the requester cannot approve it' },
      { approver: 'user:sam', why: 'signed the release; its author cannot approve it' },
      { approver: 'service:ci', why: 'pushed the release; whoever pushed it cannot approve it' },
    ]);
  });
  test('the deployer cannot approve in prod, nor anywhere with approverMayDeploy: false', () => {
    const a = [ok('user:dan', ['eng'])];
    assert.equal(evaluateApprovals(anyone, a, { ...facts, deployer: 'user:dan', tier: 'staging' }).satisfied, true);
    const p = evaluateApprovals(anyone, a, { ...facts, deployer: 'user:dan', tier: 'prod' });
    assert.equal(p.satisfied, false);
    assert.match(p.ignored[0]?.why ?? '', /will deploy it in prod/);
    const strict = parseApprovalPolicy({ rules: [{ groups: ['eng'], count: 1 }], separation: { approverMayDeploy: false } });
    assert.equal(evaluateApprovals(strict, a, { ...facts, deployer: 'user:dan', tier: 'dev' }).satisfied, false);
  });
  test('canDeploy: an approver of a release cannot deploy it in prod', () => {
    const a = [ok('user:dan', ['eng']), ok('user:rej', ['eng'], 1, { decision: 'reject' })];
    assert.deepEqual(canDeploy(anyone, 'staging', 'user:dan', a), { allowed: true });
    assert.deepEqual(canDeploy(anyone, 'prod', 'user:other', a), { allowed: true });
    assert.deepEqual(canDeploy(anyone, 'prod', 'user:rej', a), { allowed: true });
    const no = canDeploy(anyone, 'prod', 'user:dan', a);
    assert.equal(no.allowed, false);
    assert.match(no.allowed ? '' : no.reason, /user:dan approved this release .* cannot deploy it in prod/);
    // even a void approval makes someone an approver of the release
    assert.equal(canDeploy(anyone, 'prod', 'user:dan', [ok('user:dan', ['eng'], 5, { bindingDigest: OTHER })]).allowed, false);
    const strict = parseApprovalPolicy({ rules: [{ groups: ['eng'], count: 1 }], separation: { approverMayDeploy: false } });
    assert.equal(canDeploy(strict, 'dev', 'user:dan', a).allowed, false);
  });
  test('expired approvals do not count', () => {
    const policy = parseApprovalPolicy({ rules: [{ groups: ['eng'], count: 1 }], expiresAfter: '1h' });
    assert.equal(evaluateApprovals(policy, [ok('user:a', ['eng'], 59)], facts).satisfied, true);
    const r = evaluateApprovals(policy, [ok('user:a', ['eng'], 61)], facts);
    assert.equal(r.satisfied, false);
    assert.deepEqual(r.ignored, [{ approver: 'user:a', why: 'expired: decided 1h 1m ago; decisions last 1h' }]);
    const future = evaluateApprovals(policy, [ok('user:a', ['eng'], -60)], facts);
    assert.match(future.ignored[0]?.why ?? '', /in the future/);
    const bad = evaluateApprovals(policy, [ok('user:a', ['eng'], 1, { at: 'yesterday' })], facts);
    assert.match(bad.ignored[0]?.why ?? '', /not a valid timestamp/);
  });
  test('a binding change voids approvals', () => {
    const a = [ok('user:a', ['eng'])];
    assert.equal(evaluateApprovals(anyone, a, facts).satisfied, true);
    const r = evaluateApprovals(anyone, a, { ...facts, bindingDigest: OTHER });
    assert.equal(r.satisfied, false);
    assert.match(r.ignored[0]?.why ?? '', /^approved other content/);
  });
  test('a rejection ends it, unless void or expired', () => {
    const a = [ok('user:a', ['eng']), ok('user:b', ['qa'], 3, { decision: 'reject', comment: 'breaks checkout' })];
    const r = evaluateApprovals(anyone, a, facts);
    assert.equal(r.satisfied, false);
    assert.deepEqual(r.rejected, { by: 'user:b', comment: 'breaks checkout', at: ago(3) });
    assert.deepEqual(r.counted, [{ rule: 'rule-1', approver: 'user:a' }]);
    const first = evaluateApprovals(anyone, [...a, ok('user:c', [], 4, { decision: 'reject', comment: 'earlier' })], facts);
    assert.equal(first.rejected?.by, 'user:c');
    const voidReject = evaluateApprovals(anyone, [ok('user:a', ['eng']), ok('user:b', [], 3, { decision: 'reject', bindingDigest: OTHER })], facts);
    assert.equal(voidReject.satisfied, true);
    assert.equal(voidReject.rejected, undefined);
    const oldReject = evaluateApprovals(anyone, [ok('user:a', ['eng']), ok('user:b', [], 25 * 60, { decision: 'reject' })], facts);
    assert.equal(oldReject.satisfied, true);
  });
});

describe('evaluateApprovals: property', () => {
  const people = ['user:a', 'user:b', 'user:c', 'user:d', 'user:e', 'user:rita', 'user:sam', 'service:ci'];
  const groups = ['sre', 'security', 'dba', 'eng'];
  const policyArb = fc
    .array(
      fc.record({
        groups: fc.subarray(groups),
        users: fc.subarray(people),
        count: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((rules) =>
      rules.map((r) => (r.groups.length + r.users.length === 0 ? { ...r, groups: ['eng'] } : r)).map((r) => ({ ...r, count: r.groups.length === 0 ? Math.min(r.count, r.users.length) : r.count })),
    )
    .map((rules): ApprovalPolicy => parseApprovalPolicy({ rules, expiresAfter: '2h' }));
  const approvalArb = fc.record({
    approver: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...people) }, { weight: 1, arbitrary: fc.string({ maxLength: 5 }) }),
    groups: fc.subarray(groups),
    at: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: -30, max: 200 }).map(ago) }, { weight: 1, arbitrary: fc.string({ maxLength: 5 }) }),
    bindingDigest: fc.constantFrom(B, B, B, B, B, OTHER),
    decision: fc.constantFrom('approve', 'approve', 'approve', 'approve', 'approve', 'approve', 'approve', 'reject') as fc.Arbitrary<'approve' | 'reject'>,
    comment: fc.string({ maxLength: 10 }),
  });
  test('never throws; satisfied means every rule met by distinct, eligible, allowed approvers', () => {
    let satisfiedRuns = 0;
    fc.assert(
      fc.property(policyArb, fc.array(approvalArb, { maxLength: 14 }), fc.constantFrom<'dev' | 'prod'>('dev', 'prod'), (policy, approvals, tier) => {
        const f = { ...facts, deployer: 'user:e', tier };
        const r = evaluateApprovals(policy, approvals, f);
        const approvers = r.counted.map((c) => c.approver);
        assert.equal(new Set(approvers).size, approvers.length, 'one person counts once');
        for (const c of r.counted) {
          const rule = policy.rules.find((x) => x.name === c.rule);
          assert.ok(rule);
          assert.ok(!['user:rita', 'user:sam', 'service:ci'].includes(c.approver));
          if (tier === 'prod') assert.notEqual(c.approver, 'user:e');
          const theirs = approvals.filter((a) => a.approver === c.approver && a.decision === 'approve' && a.bindingDigest === B);
          assert.ok(theirs.some((a) => rule.users.includes(a.approver) || a.groups.some((g) => rule.groups.includes(g))));
        }
        if (r.satisfied) {
          satisfiedRuns++;
          assert.equal(r.rejected, undefined);
          assert.deepEqual(r.missing, []);
          for (const rule of policy.rules) assert.equal(r.counted.filter((c) => c.rule === rule.name).length, rule.count);
        } else {
          assert.ok(r.rejected !== undefined || r.missing.length > 0);
        }
      }),
      { numRuns: 1000 },
    );
    assert.ok(satisfiedRuns > 20, `only ${satisfiedRuns} satisfied cases were generated`);
  });
  test('finds a full assignment whenever one exists (checked by brute force)', () => {
    fc.assert(
      fc.property(policyArb, fc.uniqueArray(fc.tuple(fc.constantFrom('user:a', 'user:b', 'user:c', 'user:d', 'user:e', 'user:f'), fc.subarray(groups)), { maxLength: 6, selector: ([who]) => who }), (policy, raw) => {
        const approvals = raw.map(([who, g]) => ok(who, g));
        const r = evaluateApprovals(policy, approvals, facts);
        // brute force: try every assignment of the distinct people to a rule or none
        const persons = approvals;
        const last = new Map(approvals.map((a) => [a.approver, a.groups]));
        const can = (p: string, ri: number) => {
          const rule = policy.rules[ri]!;
          return rule.users.includes(p) || (last.get(p) ?? []).some((g) => rule.groups.includes(g));
        };
        let feasible = false;
        const need = policy.rules.map((x) => x.count);
        const go = (i: number): void => {
          if (feasible) return;
          if (need.every((n) => n <= 0)) {
            feasible = true;
            return;
          }
          if (i === persons.length) return;
          go(i + 1);
          for (let ri = 0; ri < policy.rules.length; ri++) {
            if ((need[ri] ?? 0) > 0 && can(persons[i]!.approver, ri)) {
              need[ri]!--;
              go(i + 1);
              need[ri]!++;
            }
          }
        };
        go(0);
        assert.equal(r.satisfied, feasible, JSON.stringify({ policy: policy.rules, raw, r }));
      }),
      { numRuns: 1000 },
    );
  });
});
