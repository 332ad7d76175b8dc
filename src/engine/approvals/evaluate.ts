/**
 * Are a promotion's approval rules met? Pure: the caller passes the policy, every recorded decision
 * and the facts (who requested, signed and pushed, the current binding, the time).
 *
 * - Every rule must be met by `count` distinct people; one person counts once across all rules. The
 *   assignment of people to rules is a capacitated bipartite matching found with augmenting paths,
 *   rule by rule in order; a rule that cannot be completed is rolled back so its people stay free
 *   for later rules. When all rules can be met together, this finds such an assignment.
 * - The requester, the release's signers and its pusher never count (separation of duties); in prod
 *   (or anywhere with `approverMayDeploy: false`) neither does the deployer.
 * - An approval for another binding (release, environment or policy changed) is void; one older than
 *   `expiresAfter` has expired. Any other rejection rejects the promotion.
 */
import { formatDuration } from '../duration.ts';
import type { Tier } from '../../project/schema.ts';
import type { ApprovalPolicy, ApprovalRule } from './approval-schema.ts';

export const approvalDecisions = ['approve', 'reject'] as const;
export type ApprovalDecision = (typeof approvalDecisions)[number];

/** Clock skew tolerated for an approval dated after `now`. */
export const FUTURE_SKEW_MS = 5 * 60_000;

export interface ApprovalInput {
  /** principal id, e.g. `user:alice` */
  approver: string;
  /** the approver's groups when they decided (nested groups flattened) */
  groups: readonly string[];
  /** ISO 8601 time of the decision */
  at: string;
  /** the binding digest the approver decided on */
  bindingDigest: string;
  decision: ApprovalDecision;
  comment?: string;
}

export interface ApprovalFacts {
  /** principal id of whoever requested the promotion */
  requester: string;
  /** principals who own the keys that signed the release */
  signerPrincipals: readonly string[];
  /** principal id of whoever pushed the release (absent when unknown) */
  pusher?: string;
  /** the binding digest now (release, environment, policy) */
  bindingDigest: string;
  now: Date;
  /** who will deploy, when known; excluded from approving where an approver may not deploy */
  deployer?: string;
  /** the environment's tier; needed for the deployer rule */
  tier?: Tier;
}

export interface CountedApproval {
  rule: string;
  approver: string;
}
export interface MissingApproval {
  rule: string;
  needed: number;
  /** approvals that could count for this rule (some may be taken by other rules) */
  have: number;
  /** who may approve, in words */
  eligible: string;
}
export interface IgnoredApproval {
  approver: string;
  why: string;
}

export interface ApprovalEvaluation {
  /** every rule met, and nobody rejected */
  satisfied: boolean;
  rejected?: { by: string; comment: string; at: string };
  counted: CountedApproval[];
  missing: MissingApproval[];
  ignored: IgnoredApproval[];
}

/** `members of sre or security, or user:alice` */
export function describeEligible(rule: ApprovalRule): string {
  const parts: string[] = [];
  if (rule.groups.length > 0) parts.push(`a member of ${orList(rule.groups)}`);
  if (rule.users.length > 0) parts.push(orList(rule.users));
  return parts.join(', or ');
}
const orList = (xs: readonly string[]): string =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;

const eligibleFor = (rule: ApprovalRule, approver: string, groups: readonly string[]): boolean =>
  rule.users.includes(approver) || groups.some((g) => rule.groups.includes(g));

/** Whether the deployer may not also be an approver, for this policy and tier. */
export const approverMayNotDeploy = (policy: ApprovalPolicy, tier: Tier | undefined): boolean =>
  tier === 'prod' || !policy.separation.approverMayDeploy;

export type CanDeployResult = { allowed: true } | { allowed: false; reason: string; fix: string };

/**
 * The deploy-side rule: an approver of a release cannot be its deployer in prod (or in any tier with
 * `separation.approverMayDeploy: false`). Every approving decision counts, even a void or expired one:
 * having approved the release is enough.
 */
export function canDeploy(policy: ApprovalPolicy, tier: Tier, deployer: string, approvals: readonly ApprovalInput[]): CanDeployResult {
  if (!approverMayNotDeploy(policy, tier)) return { allowed: true };
  const own = approvals.find((a) => a.approver === deployer && a.decision === 'approve');
  if (!own) return { allowed: true };
  return {
    allowed: false,
    reason: `${deployer} approved this release (at ${own.at}) and so cannot deploy it${tier === 'prod' ? ' in prod' : ` (separation.approverMayDeploy is false)`}`,
    fix: 'have a person who did not approve it deploy the release',
  };
}

interface Candidate {
  approver: string;
  groups: readonly string[];
  atMs: number;
  /** indexes of the rules this person may fill */
  rules: number[];
}

/** Capacitated matching of people to rules; `assigned[p]` is the rule index of person p or -1. */
function matchRules(rules: readonly ApprovalRule[], people: readonly Candidate[]) {
  const assigned: number[] = people.map(() => -1);
  const byRule: number[][] = rules.map(() => []);
  people.forEach((p, i) => {
    for (const r of p.rules) byRule[r]?.push(i);
  });
  const active = new Set<number>();

  /** find one more person for rule r, moving others between active rules as needed */
  const augment = (r: number, visited: Set<number>): boolean => {
    visited.add(r);
    for (const p of byRule[r] ?? []) {
      if (assigned[p] === -1) {
        assigned[p] = r;
        return true;
      }
    }
    for (const p of byRule[r] ?? []) {
      const other = assigned[p] ?? -1;
      if (other === r || other === -1 || visited.has(other)) continue;
      if (augment(other, visited)) {
        // `other` found a replacement person, so p can move to r
        assigned[p] = r;
        return true;
      }
    }
    return false;
  };

  const partial: number[] = rules.map(() => 0);
  rules.forEach((rule, r) => {
    const saved = [...assigned];
    active.add(r);
    let got = 0;
    while (got < rule.count && augment(r, new Set())) got++;
    partial[r] = got;
    if (got < rule.count) {
      // roll back: an unmet rule must not hold people a later rule could use
      assigned.splice(0, assigned.length, ...saved);
      active.delete(r);
    }
  });
  return { assigned, met: rules.map((_, r) => active.has(r)), partial };
}

const validTime = (s: unknown): number => (typeof s === 'string' && s.length <= 64 ? Date.parse(s) : Number.NaN);

export function evaluateApprovals(policy: ApprovalPolicy, approvals: readonly ApprovalInput[], facts: ApprovalFacts): ApprovalEvaluation {
  const nowMs = facts.now instanceof Date ? facts.now.getTime() : Number.NaN;
  const ignored: IgnoredApproval[] = [];
  const signers = new Set(facts.signerPrincipals);
  const excludeDeployer = facts.deployer !== undefined && approverMayNotDeploy(policy, facts.tier);
  let rejected: ApprovalEvaluation['rejected'];
  let rejectedAt = Number.POSITIVE_INFINITY;
  /** the latest valid approval per person */
  const latest = new Map<string, { input: ApprovalInput; atMs: number }>();

  for (const a of approvals) {
    const who = a.approver;
    const atMs = validTime(a.at);
    if (a.bindingDigest !== facts.bindingDigest) {
      ignored.push({ approver: who, why: 'approved other content: the release, environment or policy changed since this decision' });
      continue;
    }
    if (!Number.isFinite(atMs)) {
      ignored.push({ approver: who, why: `the decision time "${String(a.at).slice(0, 64)}" is not a valid timestamp` });
      continue;
    }
    if (!Number.isFinite(nowMs)) {
      ignored.push({ approver: who, why: 'the evaluation time is not a valid date' });
      continue;
    }
    if (atMs - nowMs > FUTURE_SKEW_MS) {
      ignored.push({ approver: who, why: `dated ${formatDuration(atMs - nowMs)} in the future` });
      continue;
    }
    if (nowMs - atMs > policy.expiresAfterMs) {
      ignored.push({ approver: who, why: `expired: decided ${formatDuration(nowMs - atMs)} ago; decisions last ${formatDuration(policy.expiresAfterMs)}` });
      continue;
    }
    if (a.decision === 'reject') {
      if (atMs < rejectedAt) {
        rejectedAt = atMs;
        rejected = { by: who, comment: typeof a.comment === 'string' ? a.comment : '', at: a.at };
      }
      continue;
    }
    if (a.decision !== 'approve') {
      ignored.push({ approver: who, why: `unknown decision "${String(a.decision).slice(0, 32)}"` });
      continue;
    }
    const why =
      who === facts.requester
        ? 'requested this promotion; the requester cannot approve it'
        : signers.has(who)
          ? 'signed the release; its author cannot approve it'
          : facts.pusher !== undefined && who === facts.pusher
            ? 'pushed the release; whoever pushed it cannot approve it'
            : excludeDeployer && who === facts.deployer
              ? `will deploy it${facts.tier === 'prod' ? ' in prod' : ''}; an approver cannot be its deployer`
              : undefined;
    if (why) {
      ignored.push({ approver: who, why });
      continue;
    }
    const groups = Array.isArray(a.groups) ? a.groups : [];
    if (!policy.rules.some((r) => eligibleFor(r, who, groups))) {
      ignored.push({ approver: who, why: `not eligible for any rule (${policy.rules.map((r) => `${r.name}: ${describeEligible(r)}`).join('; ')})` });
      continue;
    }
    const prev = latest.get(who);
    if (prev) {
      const older = prev.atMs <= atMs ? prev : { input: a, atMs };
      if (older === prev) latest.set(who, { input: a, atMs });
      ignored.push({ approver: who, why: `approved more than once; the approval at ${older.input.at} is superseded (one person counts once)` });
    } else {
      latest.set(who, { input: a, atMs });
    }
  }

  // earliest approval first, then by id: deterministic
  const people: Candidate[] = [...latest.values()]
    .sort((x, y) => x.atMs - y.atMs || (x.input.approver < y.input.approver ? -1 : x.input.approver > y.input.approver ? 1 : 0))
    .map(({ input, atMs }) => {
      const groups = Array.isArray(input.groups) ? input.groups : [];
      return { approver: input.approver, groups, atMs, rules: policy.rules.flatMap((r, i) => (eligibleFor(r, input.approver, groups) ? [i] : [])) };
    });
  const { assigned, met, partial } = matchRules(policy.rules, people);

  const counted: CountedApproval[] = [];
  people.forEach((p, i) => {
    const r = assigned[i] ?? -1;
    const rule = policy.rules[r];
    if (rule) counted.push({ rule: rule.name, approver: p.approver });
  });
  counted.sort((x, y) => policy.rules.findIndex((r) => r.name === x.rule) - policy.rules.findIndex((r) => r.name === y.rule));
  const missing: MissingApproval[] = policy.rules.flatMap((rule, r) =>
    met[r] ? [] : [{ rule: rule.name, needed: rule.count, have: partial[r] ?? 0, eligible: describeEligible(rule) }],
  );
  return {
    satisfied: rejected === undefined && missing.length === 0,
    ...(rejected ? { rejected } : {}),
    counted,
    missing,
    ignored,
  };
}
