/**
 * Approvals of a promotion: recording a decision as a server-signed in-toto statement, and reading
 * back the decisions that count. Every stored record is verified again (signature, binding) before
 * it counts, so an edited row or a record replayed from another release or environment is void.
 */
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import type { PromotionRecord } from '../store/store.ts';
import { approvalBinding } from './approvals/binding.ts';
import { type ApprovalEvaluation, type ApprovalInput, evaluateApprovals } from './approvals/evaluate.ts';
import { buildApprovalStatement, signApproval, verifyApproval } from './approvals/statement.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { promotionContext, promotionResource } from './guard.ts';
import { policyDigestFor } from './policy-digest.ts';
import { keyNameOf } from './trusted-keys.ts';

export type ApprovalDeps = Pick<EngineDeps, 'store' | 'project' | 'authz' | 'clock'> & { serverKey: KeyObject };

/** principals counted as the release's author: the signing key's name as a user and a service account */
async function authors(deps: ApprovalDeps, releaseId: string): Promise<{ signers: string[]; pusher?: string }> {
  const r = await deps.store.read.releases.get(releaseId);
  const name = r ? keyNameOf(deps.project, r.signerKeyId) : undefined;
  return { signers: name ? [`user:${name}`, `service:${name}`] : [], ...(r ? { pusher: r.pushedBy } : {}) };
}

export interface ApprovalState {
  evaluation: ApprovalEvaluation;
  binding: Digest;
  policyDigest: Digest;
  approvals: ApprovalInput[];
}

/** the decisions on a promotion that verify, evaluated against the environment's rules now */
export async function approvalState(deps: ApprovalDeps, p: PromotionRecord): Promise<ApprovalState | undefined> {
  const env = deps.project.environments.find((e) => e.name === p.environment);
  if (!env?.approvals) return undefined;
  const policyDigest = policyDigestFor(deps, p.service, p.environment);
  const binding = approvalBinding({ releaseId: p.releaseId, environment: p.environment, policyDigest });
  const serverKeys = [createPublicKey(deps.serverKey)];
  const approvals: ApprovalInput[] = [];
  for (const a of await deps.store.read.approvals.list(p.id)) {
    const v = verifyApproval(a.bundle, { serverKeys, expect: { binding: a.binding, environment: p.environment, releaseId: p.releaseId, promotion: p.id } });
    if (!v.ok || v.statement.predicate.approver !== a.approver || v.statement.predicate.decision !== a.decision) continue;
    approvals.push({ approver: a.approver, groups: a.groups, at: v.statement.predicate.at, bindingDigest: v.statement.predicate.binding, decision: a.decision, comment: a.comment });
  }
  const { signers, pusher } = await authors(deps, p.releaseId);
  const evaluation = evaluateApprovals(env.approvals, approvals, {
    requester: p.requestedBy,
    signerPrincipals: signers,
    ...(pusher ? { pusher } : {}),
    bindingDigest: binding,
    now: deps.clock(),
    tier: env.tier,
  });
  return { evaluation, binding, policyDigest, approvals };
}

export function createApprovalUseCases(deps: ApprovalDeps, audit: AuditWriter) {
  async function decide(ctx: RequestContext, promotionId: string, input: { decision: 'approve' | 'reject'; comment: string }) {
    const p = await deps.store.read.promotions.get(promotionId);
    if (!p) throw new DomainError('not_found', `promotion ${promotionId} does not exist`, { fix: 'list what waits for you with `stagegate approvals`' });
    await audit.guard(ctx, 'approval.decide', promotionResource(deps.project, p), promotionContext(deps.project, p.environment));
    const subject = `promotion:${p.id}`;
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'approval.decide', subject, details: { reason: e.message, decision: input.decision } });
      throw e;
    };
    const env = deps.project.environments.find((e) => e.name === p.environment);
    if (!env?.approvals) return refuse(new DomainError('conflict', `${p.environment} needs no approvals`, { fix: 'nothing to approve here' }));
    if (p.state !== 'AwaitingApproval') {
      return refuse(new DomainError('conflict', `promotion ${p.id} is ${p.state}, not waiting for approvals`, { fix: 'approve a promotion while it is AwaitingApproval' }));
    }
    const { signers, pusher } = await authors(deps, p.releaseId);
    const why =
      ctx.actor === p.requestedBy
        ? 'you requested this promotion'
        : signers.includes(ctx.actor)
          ? 'you signed this release'
          : ctx.actor === pusher
            ? 'you pushed this release'
            : undefined;
    if (why && input.decision === 'approve') {
      return refuse(new DomainError('forbidden', `${ctx.actor} may not approve promotion ${p.id}: ${why} (separation of duties)`, { fix: 'ask someone else who is eligible to approve' }));
    }
    const principal = ctx.principal!;
    const policyDigest = policyDigestFor(deps, p.service, p.environment);
    const release = await deps.store.read.releases.get(p.releaseId);
    const at = deps.clock();
    const statement = buildApprovalStatement({
      service: p.service,
      version: p.version,
      releaseId: p.releaseId as Digest,
      approver: ctx.actor,
      decision: input.decision,
      environment: p.environment,
      promotion: p.id,
      policyDigest,
      comment: input.comment,
      at,
    });
    const bundle = signApproval(statement, deps.serverKey);
    const record = {
      id: `apr_${randomBytes(8).toString('hex')}`,
      promotionId: p.id,
      approver: ctx.actor,
      groups: [...principal.groups],
      decision: input.decision,
      comment: input.comment,
      binding: statement.predicate.binding,
      bundle,
      personallySigned: false,
      createdAt: at.toISOString(),
    };
    await deps.store.transaction(async (tx) => {
      await tx.approvals.insert(record);
      await audit.record(tx, ctx, {
        action: 'approval.decide',
        outcome: 'succeeded',
        subject,
        details: { decision: input.decision, comment: input.comment, binding: record.binding, policyDigest, release: release?.id ?? p.releaseId, groups: record.groups },
      });
    });
    return { approval: { ...record, bundle: JSON.parse(bundle) as unknown } };
  }

  /** promotions waiting for approvals that the caller could give */
  async function waitingFor(ctx: RequestContext) {
    await audit.guard(ctx, 'approval.read', { type: 'Project', id: deps.project.project });
    const principal = ctx.principal!;
    const waiting = await deps.store.read.promotions.list({ states: ['AwaitingApproval'], limit: 1000 });
    const out = [];
    for (const p of waiting) {
      const env = deps.project.environments.find((e) => e.name === p.environment);
      const eligible = env?.approvals?.rules.some((r) => r.users.includes(ctx.actor) || r.groups.some((g) => principal.groups.includes(g)));
      const state = await approvalState(deps, p);
      const decided = state?.approvals.some((a) => a.approver === ctx.actor);
      if (eligible && !decided) out.push({ promotion: p, missing: state?.evaluation.missing ?? [] });
    }
    return out;
  }

  return { decide, waitingFor };
}
