/** What the API shows of a change request, and how its approvals stand against the environment's rules. */
import { type ApprovalEvaluation, evaluateApprovals } from '../engine/approvals/evaluate.ts';
import type { Environment } from '../project/schema.ts';
import type { FlagChangeRecord } from '../store/store.ts';

/** the approval rules now, for this change; undefined when the environment needs no approvals */
export function flagApprovalState(env: Pick<Environment, 'approvals' | 'tier'>, c: FlagChangeRecord, now: Date): ApprovalEvaluation | undefined {
  if (!env.approvals) return undefined;
  const inputs = c.approvals.map((a) => ({ approver: a.approver, groups: a.groups, at: a.at, bindingDigest: c.resultDigest, decision: a.decision, comment: a.comment }));
  // the author of a change is its requester: they never count (separation of duties)
  return evaluateApprovals(env.approvals, inputs, { requester: c.author, signerPrincipals: [], bindingDigest: c.resultDigest, now, tier: env.tier });
}

export function changeView(c: FlagChangeRecord, evaluation?: ApprovalEvaluation) {
  let patch: unknown;
  try {
    patch = JSON.parse(c.patch);
  } catch {
    patch = null;
  }
  return {
    id: c.id,
    environment: c.environment,
    state: c.state,
    baseVersion: c.baseVersion,
    appliedVersion: c.appliedVersion,
    reason: c.reason,
    author: c.author,
    patch,
    resultDigest: c.resultDigest,
    approvals: c.approvals,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    ...(evaluation
      ? { approvalsNeeded: { satisfied: evaluation.satisfied, missing: evaluation.missing, counted: evaluation.counted, ignored: evaluation.ignored } }
      : { approvalsNeeded: null }),
  };
}
export type FlagChangeView = ReturnType<typeof changeView>;
