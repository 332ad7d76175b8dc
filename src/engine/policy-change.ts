/**
 * Policy changes are promoted too. Each environment's policy (Cedar set, approval rules, gate rules
 * of every service, freeze windows) has a digest; the last accepted one is kept with the approval
 * rules it had. When the server starts with a different policy for an environment whose accepted
 * policy needs approvals, that environment holds its promotions until the changed policy is approved
 * under the rules accepted before it (so a change cannot weaken its own approval). Environments
 * without approvals accept a change at once; every acceptance is an audit entry.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import type { ApprovalPolicy } from './approvals/approval-schema.ts';
import { approvalPolicyDigest } from './approvals/binding.ts';
import { evaluateApprovals } from './approvals/evaluate.ts';
import type { AuditWriter } from './audit-writer.ts';
import { type EngineDeps, type RequestContext, systemContext } from './deps.ts';
import { promotionContext } from './guard.ts';

type Deps = Pick<EngineDeps, 'store' | 'project' | 'authz' | 'clock'>;

const decisionSchema = z.object({
  approver: z.string().max(200),
  groups: z.array(z.string().max(200)).max(100),
  at: z.string().max(40),
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2000),
});
const stateSchema = z.object({
  accepted: z.object({ digest: z.string().max(80), approvals: z.unknown().nullable() }),
  pending: z.object({ digest: z.string().max(80), since: z.string().max(40), decisions: z.array(decisionSchema).max(100) }).nullable(),
});
type PolicyState = z.infer<typeof stateSchema>;

const key = (env: string) => `policy:${env}`;

export function environmentPolicyDigest(deps: Pick<EngineDeps, 'project' | 'authz'>, environment: string): Digest {
  const env = deps.project.environments.find((e) => e.name === environment);
  const rules = Object.fromEntries(
    deps.project.services.map((s) => [s.name, (deps.project.gateRules[s.name]?.[environment] ?? []).map((r) => ({ id: r.id, expression: r.expression, message: r.message }))]),
  );
  const text = canonicalize({ cedar: deps.authz.policySet.digest, approvals: env?.approvals ? approvalPolicyDigest(env.approvals) : null, rules, freezes: env?.freezes ?? [] }) as string;
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}` as Digest;
}

export function createPolicyChanges(deps: Deps, audit: AuditWriter) {
  async function read(environment: string): Promise<PolicyState | undefined> {
    const text = await deps.store.read.meta.get(key(environment));
    if (text === undefined) return undefined;
    const r = stateSchema.safeParse(JSON.parse(text));
    if (!r.success) throw new DomainError('internal', `stored policy state of ${environment} is damaged`, { fix: 'restore the database from a backup' });
    return r.data;
  }

  /** at start: accept what needs no approval, mark the rest pending */
  async function reconcileOnStart(): Promise<void> {
    for (const env of deps.project.environments) {
      const digest = environmentPolicyDigest(deps, env.name);
      const state = await read(env.name);
      if (state?.accepted.digest === digest) {
        if (state.pending) await write(env.name, { ...state, pending: null }, 'policy.change.withdrawn', { digest: state.pending.digest });
        continue;
      }
      const previous = (state?.accepted.approvals ?? null) as ApprovalPolicy | null;
      if (!state || !previous) {
        await write(env.name, { accepted: { digest, approvals: env.approvals ?? null }, pending: null }, 'policy.accepted', { digest, from: state?.accepted.digest ?? null, reason: state ? 'the accepted policy needed no approvals' : 'first policy of this environment' });
      } else if (state.pending?.digest !== digest) {
        await write(env.name, { ...state, pending: { digest, since: deps.clock().toISOString(), decisions: [] } }, 'policy.change.pending', { digest, accepted: state.accepted.digest });
      }
    }
  }

  async function write(environment: string, state: PolicyState, action: string, details: Record<string, string | null>): Promise<void> {
    await deps.store.transaction(async (tx) => {
      await tx.meta.set(key(environment), JSON.stringify(state));
      await audit.record(tx, systemContext, { action, outcome: 'succeeded', subject: `environment:${environment}`, details });
    });
  }

  /** the reason promotions to the environment wait, if its policy change is not approved yet */
  async function holdReason(environment: string): Promise<string | undefined> {
    const p = (await read(environment))?.pending;
    return p ? `the policy of ${environment} changed (${p.digest}); it waits for approval under the rules accepted before it: stagegate policy approve ${environment}` : undefined;
  }

  async function decide(ctx: RequestContext, environment: string, input: { decision: 'approve' | 'reject'; comment: string }) {
    const env = deps.project.environments.find((e) => e.name === environment);
    if (!env) throw new DomainError('not_found', `environment "${environment}" is not in the project`, { fix: `use one of: ${deps.project.environments.map((e) => e.name).join(', ')}` });
    await audit.guard(ctx, 'approval.decide', { type: 'Promotion', id: `policy-${environment}`, attrs: { service: '', environment, tier: env.tier } }, promotionContext(deps.project, environment));
    const state = await read(environment);
    if (!state?.pending) throw new DomainError('conflict', `the policy of ${environment} has no change waiting for approval`, { fix: 'nothing to approve' });
    const pending = state.pending;
    const decisions = [...pending.decisions.filter((d) => d.approver !== ctx.actor), { approver: ctx.actor, groups: [...(ctx.principal?.groups ?? [])], at: deps.clock().toISOString(), decision: input.decision, comment: input.comment }];
    const previous = state.accepted.approvals as ApprovalPolicy;
    const ev = evaluateApprovals(previous, decisions.map((d) => ({ ...d, bindingDigest: pending.digest })), { requester: 'system:policy-loader', signerPrincipals: [], bindingDigest: pending.digest, now: deps.clock() });
    const accepted = ev.satisfied && !ev.rejected;
    const next: PolicyState = accepted ? { accepted: { digest: pending.digest, approvals: env.approvals ?? null }, pending: null } : { ...state, pending: { ...pending, decisions } };
    await deps.store.transaction(async (tx) => {
      await tx.meta.set(key(environment), JSON.stringify(next));
      await audit.record(tx, ctx, { action: 'policy.change.decide', outcome: 'succeeded', subject: `environment:${environment}`, details: { digest: pending.digest, decision: input.decision, comment: input.comment } });
      if (accepted) await audit.record(tx, ctx, { action: 'policy.accepted', outcome: 'succeeded', subject: `environment:${environment}`, details: { digest: pending.digest, from: state.accepted.digest, approvers: ev.counted.map((c) => c.approver) } });
    });
    return { environment, digest: pending.digest, accepted, rejected: ev.rejected ?? null, missing: ev.missing };
  }

  async function list(ctx: RequestContext) {
    await audit.guard(ctx, 'policy.read', { type: 'Project', id: deps.project.project });
    const out = [];
    for (const env of deps.project.environments) {
      const s = await read(env.name);
      out.push({ environment: env.name, accepted: s?.accepted.digest ?? null, pending: s?.pending ? { digest: s.pending.digest, since: s.pending.since, decisions: s.pending.decisions.length } : null });
    }
    return out;
  }

  return { reconcileOnStart, holdReason, decide, list };
}
