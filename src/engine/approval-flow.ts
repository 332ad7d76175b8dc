/**
 * Approvals of a promotion: recording a decision as a server-signed in-toto statement, and reading
 * back the decisions that count. Every stored record is verified again (signature, binding) before
 * it counts, so an edited row or a record replayed from another release or environment is void.
 */
import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import { pae } from '../crypto/dsse.ts';
import { keyIdOf } from '../crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE } from '../crypto/statement.ts';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import type { PromotionRecord } from '../store/store.ts';
import { approvalBinding } from './approvals/binding.ts';
import { type ApprovalEvaluation, type ApprovalInput, evaluateApprovals } from './approvals/evaluate.ts';
import { approvalStatementBytes, buildApprovalStatement, signApproval, verifyApproval } from './approvals/statement.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { promotionContext, promotionResource } from './guard.ts';
import { policyDigestFor } from './policy-digest.ts';
import { keyNameOf } from './trusted-keys.ts';

export type ApprovalDeps = Pick<EngineDeps, 'store' | 'project' | 'authz' | 'clock'> & { serverKey: KeyObject };

/** an approver's own signature over the approval statement (made with `stagegate approve --sign-key`) */
export interface PersonalSignature {
  /** the statement the approver signed, as the server handed it out */
  statement: unknown;
  keyid: string;
  /** base64 DER ECDSA signature over the DSSE PAE of the statement's canonical bytes */
  sig: string;
}

/** personal approval keys by owner, from the project's `keys` with an `owner` */
function approverKeys(deps: Pick<EngineDeps, 'project'>): Map<string, KeyObject[]> {
  const m = new Map<string, KeyObject[]>();
  for (const k of deps.project.keys) if (k.owner) m.set(k.owner, [...(m.get(k.owner) ?? []), createPublicKey(k.publicKeyPem)]);
  return m;
}

/** add a signature made elsewhere to a server-signed approval bundle, after checking it */
function attachPersonalSignature(bundleJson: string, signed: PersonalSignature, keys: readonly KeyObject[]): string {
  const b = JSON.parse(bundleJson) as { dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ keyid: string; sig: string }> } };
  const env = b.dsseEnvelope;
  const key = keys.find((k) => keyIdOf(k) === signed.keyid);
  const ok = key !== undefined && /^[A-Za-z0-9+/=]{1,200}$/.test(signed.sig) && verify('sha256', pae(env.payloadType, Buffer.from(env.payload, 'base64')), { key, dsaEncoding: 'der' }, Buffer.from(signed.sig, 'base64'));
  if (!ok) {
    throw new DomainError('signature_invalid', key ? 'the personal signature does not verify over this approval statement' : `key ${signed.keyid.slice(0, 60)} is not a personal key of the approver`, {
      fix: key ? 'sign the statement stagegate handed out, unmodified (stagegate approve --sign-key KEY does this)' : 'declare your public key under `keys` with `owner: user:<you>` in stagegate.yaml',
    });
  }
  env.signatures.push({ keyid: signed.keyid, sig: signed.sig });
  return JSON.stringify(b);
}

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
  const personal = approverKeys(deps);
  for (const a of await deps.store.read.approvals.list(p.id)) {
    const v = verifyApproval(a.bundle, {
      serverKeys,
      approverKeys: personal,
      requirePersonalSignature: env.approvals.requireSignatures,
      expect: { binding: a.binding, environment: p.environment, releaseId: p.releaseId, promotion: p.id },
    });
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

/** the approval statement of one decision on a promotion */
function statementOf(p: PromotionRecord, approver: string, input: { decision: 'approve' | 'reject'; comment: string }, policyDigest: Digest, at: Date) {
  return buildApprovalStatement({
    service: p.service,
    version: p.version,
    releaseId: p.releaseId as Digest,
    approver,
    decision: input.decision,
    environment: p.environment,
    promotion: p.id,
    policyDigest,
    comment: input.comment,
    at,
  });
}

export function createApprovalUseCases(deps: ApprovalDeps, audit: AuditWriter) {
  /** the statement an approver signs with a personal key before deciding */
  async function statementFor(ctx: RequestContext, promotionId: string, input: { decision: 'approve' | 'reject'; comment: string }) {
    const p = await deps.store.read.promotions.get(promotionId);
    if (!p) throw new DomainError('not_found', `promotion ${promotionId} does not exist`, { fix: 'list what waits for you with `stagegate approvals`' });
    await audit.guard(ctx, 'approval.read', promotionResource(deps.project, p));
    const statement = statementOf(p, ctx.actor, input, policyDigestFor(deps, p.service, p.environment), deps.clock());
    return { statement, payloadType: INTOTO_PAYLOAD_TYPE, payload: approvalStatementBytes(statement).toString('base64') };
  }

  async function decide(ctx: RequestContext, promotionId: string, input: { decision: 'approve' | 'reject'; comment: string; signed?: PersonalSignature }) {
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
    if (env.approvals.requireSignatures && !input.signed) {
      return refuse(new DomainError('forbidden', `${p.environment} requires each approver's personal signature`, { fix: 'approve with `stagegate approve PROMOTION --sign-key YOUR_KEY`' }));
    }
    // a personally signed statement keeps its own time, if it is recent
    const signedAt = (input.signed?.statement as { predicate?: { at?: unknown } } | undefined)?.predicate?.at;
    const at = typeof signedAt === 'string' && Math.abs(Date.parse(signedAt) - deps.clock().getTime()) < 5 * 60_000 ? new Date(signedAt) : deps.clock();
    const statement = statementOf(p, ctx.actor, input, policyDigest, at);
    let bundle = signApproval(statement, deps.serverKey);
    if (input.signed) {
      if (canonicalize(input.signed.statement) !== canonicalize(statement)) {
        return refuse(new DomainError('signature_invalid', 'the personally signed statement is not the statement of this decision (another promotion, decision, comment, policy or a stale time)', { fix: 'fetch the statement and sign it within 5 minutes: `stagegate approve PROMOTION --sign-key KEY` does both' }));
      }
      try {
        bundle = attachPersonalSignature(bundle, input.signed, approverKeys(deps).get(ctx.actor) ?? []);
      } catch (e) {
        if (e instanceof DomainError) return refuse(e);
        throw e;
      }
    }
    const record = {
      id: `apr_${randomBytes(8).toString('hex')}`,
      promotionId: p.id,
      approver: ctx.actor,
      groups: [...principal.groups],
      decision: input.decision,
      comment: input.comment,
      binding: statement.predicate.binding,
      bundle,
      personallySigned: input.signed !== undefined,
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

  return { decide, waitingFor, statementFor };
}
