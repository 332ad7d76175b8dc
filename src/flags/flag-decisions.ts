/**
 * Use-cases: approve, reject and apply a flag change request.
 *
 * - approve: by the environment's `approvals` rules (the ones promotions use); the author never
 *   counts and may not approve their own change; one decision per person. When the rules are met the
 *   change becomes `approved`.
 * - reject: an approver rejects, or the author withdraws; the change becomes `rejected`.
 * - apply: only when the rules are met now (approvals can expire) and the base version is still the
 *   current one; otherwise the change is `superseded` and the caller is told to rebase. Applying
 *   stores the new version and supersedes the other open changes of that environment.
 *
 * Every state change commits with its audit entry in one transaction.
 */
import { DomainError } from '../domain/errors.ts';
import type { JsonValue } from '../domain/audit.ts';
import { describeEligible } from '../engine/approvals/evaluate.ts';
import type { AuditWriter } from '../engine/audit-writer.ts';
import type { RequestContext } from '../engine/deps.ts';
import type { FlagChangeRecord, Repos } from '../store/store.ts';
import { changeView, flagApprovalState } from './change-view.ts';
import { currentFlags, environmentOf, flagResource } from './current.ts';
import type { FlagDeps } from './flag-changes.ts';
import { canonicalFlagSet, flagSetDigest, validateFlagSet } from './flag-set.ts';
import { applyFlagPatch, diffFlagSets, parsePatch } from './patch.ts';

const subjectOf = (c: FlagChangeRecord) => `flag-change:${c.id}`;
const OPEN = ['draft', 'approved'] as const;

export function createFlagDecisions(deps: FlagDeps, audit: AuditWriter) {
  /** the change, which must be a change of `environment` (the route's) */
  async function find(id: string, environment: string): Promise<FlagChangeRecord | undefined> {
    const c = await deps.store.read.flags.getChange(id);
    return c && c.environment === environment ? c : undefined;
  }
  const notFound = (id: string, environment: string) =>
    new DomainError('not_found', `flag change ${id.slice(0, 40)} does not exist in ${environment}`, { fix: `list changes with \`stagegate flags changes ${environment}\`` });
  /** authorize on the environment first (so an unknown id tells nothing to the unauthorized), then load */
  async function guarded(ctx: RequestContext, action: string, environment: string, id: string): Promise<FlagChangeRecord> {
    await audit.guard(ctx, action, flagResource(deps.project, environment));
    const c = await find(id, environment);
    if (!c) throw notFound(id, environment);
    return c;
  }

  /** record the refusal (the log is the only change) and throw it */
  async function refuse(ctx: RequestContext, action: string, c: FlagChangeRecord, e: DomainError): Promise<never> {
    await audit.denied(ctx, { action, subject: subjectOf(c), details: { environment: c.environment, reason: e.message } });
    throw e;
  }

  async function approve(ctx: RequestContext, environment: string, id: string, comment = '') {
    const c = await guarded(ctx, 'flag.approve', environment, id);
    const env = environmentOf(deps.project, c.environment);
    if (!(OPEN as readonly string[]).includes(c.state)) return refuse(ctx, 'flag.approve', c, new DomainError('conflict', `flag change ${c.id} is ${c.state}; only a draft or approved change takes approvals`, { fix: 'propose a new change with `stagegate flags change`' }));
    if (!env.approvals) return refuse(ctx, 'flag.approve', c, new DomainError('conflict', `${c.environment} needs no approvals for flag changes`, { fix: `apply it: stagegate flags apply ${c.id}` }));
    if (ctx.actor === c.author) {
      return refuse(ctx, 'flag.approve', c, new DomainError('forbidden', `${ctx.actor} may not approve flag change ${c.id}: you proposed it (separation of duties)`, { fix: 'ask someone else who is eligible to approve' }));
    }
    const groups = [...(ctx.principal?.groups ?? [])];
    if (!env.approvals.rules.some((r) => r.users.includes(ctx.actor) || r.groups.some((g) => groups.includes(g)))) {
      return refuse(ctx, 'flag.approve', c, new DomainError('forbidden', `${ctx.actor} is not eligible for any approval rule of ${c.environment}`, { fix: `approvers are: ${env.approvals.rules.map((r) => `${r.name}: ${describeEligible(r)}`).join('; ')}` }));
    }
    if (c.approvals.some((a) => a.approver === ctx.actor)) return refuse(ctx, 'flag.approve', c, new DomainError('conflict', `${ctx.actor} already decided on flag change ${c.id}`, { fix: 'one person decides once; ask another approver' }));
    const now = deps.clock();
    const approvals = [...c.approvals, { approver: ctx.actor, groups, decision: 'approve' as const, comment, at: now.toISOString() }];
    const next: FlagChangeRecord = { ...c, approvals, updatedAt: now.toISOString() };
    const evaluation = flagApprovalState(env, next, now);
    next.state = evaluation?.satisfied ? 'approved' : c.state;
    await deps.store.transaction(async (tx) => {
      if (!(await tx.flags.updateChange(c.id, c.state, { approvals, state: next.state, updatedAt: next.updatedAt }))) throw stateChanged(c);
      await audit.record(tx, ctx, {
        action: 'flag.approve',
        outcome: 'succeeded',
        subject: subjectOf(c),
        details: { environment: c.environment, decision: 'approve', comment, groups, state: next.state, missing: (evaluation?.missing ?? []) as unknown as JsonValue },
      });
    });
    return changeView(next, evaluation);
  }

  async function reject(ctx: RequestContext, environment: string, id: string, comment = '') {
    const env = environmentOf(deps.project, environment);
    // the author withdraws with the right to propose; anyone else rejects as an approver
    const found = await find(id, environment);
    const c = await guarded(ctx, found && ctx.actor === found.author ? 'flag.change' : 'flag.approve', environment, id);
    if (!(OPEN as readonly string[]).includes(c.state)) return refuse(ctx, 'flag.reject', c, new DomainError('conflict', `flag change ${c.id} is ${c.state}; only a draft or approved change can be rejected`, { fix: 'nothing to do' }));
    const now = deps.clock().toISOString();
    const approvals = [...c.approvals, { approver: ctx.actor, groups: [...(ctx.principal?.groups ?? [])], decision: 'reject' as const, comment, at: now }];
    const next: FlagChangeRecord = { ...c, approvals, state: 'rejected', updatedAt: now };
    await deps.store.transaction(async (tx) => {
      if (!(await tx.flags.updateChange(c.id, c.state, { approvals, state: 'rejected', updatedAt: now }))) throw stateChanged(c);
      await audit.record(tx, ctx, { action: 'flag.reject', outcome: 'succeeded', subject: subjectOf(c), details: { environment: c.environment, comment, withdrawn: ctx.actor === c.author } });
    });
    return changeView(next, flagApprovalState(env, next, deps.clock()));
  }

  /** mark `c` superseded (inside tx) with its audit entry */
  async function supersede(tx: Repos, ctx: RequestContext, c: FlagChangeRecord, current: number, now: string): Promise<void> {
    if (await tx.flags.updateChange(c.id, c.state, { state: 'superseded', updatedAt: now })) {
      await audit.record(tx, ctx, { action: 'flag.supersede', outcome: 'succeeded', subject: subjectOf(c), details: { environment: c.environment, baseVersion: c.baseVersion, currentVersion: current } });
    }
  }

  async function apply(ctx: RequestContext, environment: string, id: string) {
    const c = await guarded(ctx, 'flag.apply', environment, id);
    const env = environmentOf(deps.project, c.environment);
    if (c.state !== 'approved' && c.state !== 'draft') return refuse(ctx, 'flag.apply', c, new DomainError('conflict', `flag change ${c.id} is ${c.state}; it cannot be applied`, { fix: c.state === 'superseded' ? 'rebase: propose the change again against the current version' : 'propose a new change' }));
    const evaluation = flagApprovalState(env, c, deps.clock());
    if (evaluation && !evaluation.satisfied) {
      const missing = evaluation.missing.map((m) => `${m.rule}: ${m.have}/${m.needed} (${m.eligible})`).join('; ');
      return refuse(ctx, 'flag.apply', c, new DomainError('conflict', `flag change ${c.id} lacks approvals: ${missing || 'rejected'}`, { fix: `ask eligible approvers to run \`stagegate flags approve ${c.id}\`` }));
    }
    const now = deps.clock().toISOString();
    const outcome = await deps.store.transaction(async (tx) => {
      const base = await currentFlags(tx.flags, c.environment);
      if (base.version !== c.baseVersion) {
        await supersede(tx, ctx, c, base.version, now);
        return { ok: false as const, current: base.version };
      }
      const next = validateFlagSet(applyFlagPatch(base.flagSet, parsePatch(JSON.parse(c.patch), `flag change ${c.id}`), `flag change ${c.id}`), `flag change ${c.id} result`);
      const digest = flagSetDigest(next);
      if (digest !== c.resultDigest) throw new DomainError('internal', `flag change ${c.id} no longer produces the flag set it was approved for`, { fix: 'propose the change again' });
      const version = base.version + 1;
      await tx.flags.insertVersion({ environment: c.environment, version, flagSet: canonicalFlagSet(next), digest, createdBy: ctx.actor, createdAt: now, changeId: c.id });
      if (!(await tx.flags.updateChange(c.id, c.state, { state: 'applied', appliedVersion: version, updatedAt: now }))) throw stateChanged(c);
      await audit.record(tx, ctx, {
        action: 'flag.apply',
        outcome: 'succeeded',
        subject: subjectOf(c),
        details: {
          environment: c.environment,
          version,
          digestBefore: base.digest,
          digestAfter: digest,
          patch: diffFlagSets(base.flagSet, next) as unknown as JsonValue,
          approvers: (evaluation?.counted ?? []).map((a) => a.approver),
          reason: c.reason,
        },
      });
      for (const other of await tx.flags.listChanges({ environment: c.environment, states: OPEN, limit: 500 })) {
        if (other.id !== c.id) await supersede(tx, ctx, other, version, now);
      }
      return { ok: true as const, version, digest };
    });
    if (!outcome.ok) {
      throw new DomainError('conflict', `flag change ${c.id} was made against version ${c.baseVersion} of ${c.environment}, which is now at version ${outcome.current}; it is superseded`, {
        fix: `rebase: read the current flags (stagegate flags show ${c.environment}) and propose the change again`,
      });
    }
    return { ...changeView({ ...c, state: 'applied', appliedVersion: outcome.version, updatedAt: now }, evaluation), version: outcome.version, digest: outcome.digest };
  }

  return { approve, reject, apply };
}

function stateChanged(c: FlagChangeRecord): DomainError {
  return new DomainError('conflict', `flag change ${c.id} changed state while this request ran`, { fix: 'read it again and retry' });
}
