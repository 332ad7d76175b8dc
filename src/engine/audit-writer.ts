/**
 * The audit writer and the guard. Entries are written inside the caller's transaction; refusals in a
 * transaction of their own. The guard makes the one Cedar decision an action passes and records it,
 * allow or deny, with the policy ids that decided and the policy set's digest.
 */
import { DomainError } from '../domain/errors.ts';
import type { AuditOutcome, JsonValue } from '../domain/audit.ts';
import { scopeAllows } from '../policy/authorize.ts';
import type { AttrValue, CedarAuthorizer } from '../policy/cedar/authorizer.ts';
import type { Repos } from '../store/store.ts';
import type { EngineDeps, RequestContext } from './deps.ts';

export type AuditRecord = {
  action: string;
  outcome: AuditOutcome;
  subject: string;
  details?: { [k: string]: JsonValue };
};

/** what an action is on, as Cedar sees it */
export interface Resource {
  type: 'Project' | 'Service' | 'Release' | 'Promotion' | 'Environment' | 'Token' | 'AuditLog' | 'Role';
  id: string;
  attrs?: Record<string, AttrValue>;
}

export function createAuditWriter(deps: Pick<EngineDeps, 'log' | 'clock' | 'store'> & { authz: CedarAuthorizer }) {
  const record = (tx: Repos, ctx: RequestContext, r: AuditRecord) =>
    deps.log.append(tx, {
      time: deps.clock().toISOString(),
      actor: ctx.actor,
      action: r.action,
      outcome: r.outcome,
      subject: r.subject,
      requestDigest: ctx.requestDigest,
      details: r.details ?? {},
    });
  /** a refusal changes nothing but the log */
  const denied = async (ctx: RequestContext, r: Omit<AuditRecord, 'outcome'>) => {
    const written = await deps.store.transaction((tx) => record(tx, ctx, { ...r, outcome: 'denied' }));
    ctx.denialRecorded = true;
    return written;
  };
  const policyDigest = deps.authz.policySet.digest;

  /** authorize one action; allowed goes on (recorded), denied is recorded and thrown */
  async function guard(ctx: RequestContext, action: string, resource: Resource, context?: Record<string, AttrValue>): Promise<void> {
    const subject = `${resource.type}:${resource.id}`;
    const p = ctx.principal;
    if (!p) {
      await denied(ctx, { action, subject, details: { reason: 'not authenticated' } });
      throw new DomainError('unauthenticated', 'this action needs a token', { fix: 'pass a token with --token or STAGEGATE_TOKEN' });
    }
    const d = deps.authz.isAuthorized({ principal: p, action, resource, ...(context ? { context } : {}) });
    const scoped = scopeAllows(p.scopes, action);
    const reason = !scoped ? `the credential's scopes [${p.scopes.join(', ')}] do not include ${action}; use a credential with that scope` : d.reason;
    const details = { decision: d.allowed && scoped ? 'allow' : 'deny', policies: d.policyIds, policyDigest, reason, roles: [...p.roles], credential: p.credential };
    if (!d.allowed || !scoped) {
      await denied(ctx, { action, subject, details });
      throw new DomainError('forbidden', `${ctx.actor} may not ${action} on ${subject}`, { fix: reason });
    }
    await deps.store.transaction((tx) => record(tx, ctx, { action, outcome: 'allowed', subject, details }));
  }

  return { record, denied, guard };
}
export type AuditWriter = ReturnType<typeof createAuditWriter>;
