/** Use-cases: ask for a release to be promoted into an environment; abort a promotion. */
import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import { canTransition, type PromotionState } from '../domain/promotion.ts';
import type { PromotionRecord } from '../store/store.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { activeFreezes, describeFreeze } from '../policy/freeze.ts';
import { promotionContext, promotionResource } from './guard.ts';

export interface PromotionRequest {
  service: string;
  version: string;
  environment: string;
}

export const newPromotionId = (): string => `prm_${randomBytes(8).toString('hex')}`;

/** a promotion as requested, before the store assigns its seq */
export function pendingPromotion(id: string, req: PromotionRequest, releaseId: string, requestedBy: string, at: Date): PromotionRecord {
  const now = at.toISOString();
  return {
    id,
    seq: 0,
    service: req.service,
    version: req.version,
    releaseId,
    environment: req.environment,
    state: 'Pending',
    requestedBy,
    createdAt: now,
    updatedAt: now,
    stateChangedAt: now,
    gates: null,
    message: null,
    succeededAt: null,
  };
}

export function createRequestPromotion(deps: Pick<EngineDeps, 'store' | 'project' | 'clock'>, audit: AuditWriter) {
  return async function requestPromotion(
    ctx: RequestContext,
    req: PromotionRequest,
    why: { rollbackFrom?: string; breakGlass?: boolean } = {},
  ): Promise<PromotionRecord> {
    const subject = `environment:${req.environment}`;
    await audit.guard(ctx, 'promotion.request', promotionResource(deps.project, req), promotionContext(deps.project, req.environment, why.breakGlass));
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, {
        action: 'promotion.request',
        subject,
        details: { reason: e.message, service: req.service, version: req.version },
      });
      throw e;
    };
    const envs = deps.project.environments.map((e) => e.name);
    if (!envs.includes(req.environment)) {
      return refuse(
        new DomainError('not_found', `environment "${req.environment}" is not in the project`, {
          field: 'environment',
          fix: `use one of: ${envs.join(', ')}`,
        }),
      );
    }
    if (!deps.project.services.some((s) => s.name === req.service)) {
      return refuse(
        new DomainError('not_found', `service "${req.service}" is not in the project`, {
          field: 'service',
          fix: `use one of: ${deps.project.services.map((s) => s.name).join(', ')}`,
        }),
      );
    }
    const release = await deps.store.read.releases.findByServiceVersion(req.service, req.version);
    if (!release) {
      return refuse(
        new DomainError('not_found', `release ${req.service}@${req.version} has not been pushed`, {
          fix: `push it first: stagegate release push BUNDLE --artifact ...`,
        }),
      );
    }
    const env = deps.project.environments.find((e) => e.name === req.environment)!;
    const frozen = describeFreeze(activeFreezes(env.freezes, { service: req.service, at: deps.clock() }), env.name);
    if (frozen && !why.breakGlass) {
      return refuse(new DomainError('conflict', frozen, { fix: 'wait for the freeze to end (stagegate freeze list --upcoming), or request with --break-glass if this cannot wait' }));
    }
    const promotion = pendingPromotion(newPromotionId(), req, release.id, ctx.actor, deps.clock());
    promotion.message = why.rollbackFrom ? `rollback from ${why.rollbackFrom}: waiting for the gates` : 'waiting for the reconciler to run its gates';
    const { seq: _omit, ...insert } = promotion;
    promotion.seq = await deps.store.transaction(async (tx) => {
      const seq = await tx.promotions.insert(insert);
      await audit.record(tx, ctx, {
        action: 'promotion.request',
        outcome: 'allowed',
        subject: `promotion:${promotion.id}`,
        details: { service: req.service, version: req.version, environment: req.environment, release: release.id, ...(why.rollbackFrom ? { rollbackFrom: why.rollbackFrom } : {}), ...(why.breakGlass ? { breakGlass: true } : {}) },
      });
      return seq;
    });
    return promotion;
  };
}

export function createAbortPromotion(deps: Pick<EngineDeps, 'store' | 'clock' | 'project'>, audit: AuditWriter) {
  const abortable: readonly PromotionState[] = ['Pending', 'Gating', 'AwaitingApproval'];
  return async function abortPromotion(ctx: RequestContext, id: string, reason: string): Promise<PromotionRecord> {
    const subject = `promotion:${id}`;
    const p = await deps.store.read.promotions.get(id);
    if (!p) throw new DomainError('not_found', `promotion ${id} does not exist`, { fix: 'list promotions with `stagegate status`' });
    await audit.guard(ctx, 'promotion.abort', promotionResource(deps.project, p), promotionContext(deps.project, p.environment));
    if (!abortable.includes(p.state) || !canTransition(p.state, 'Aborted')) {
      await audit.denied(ctx, { action: 'promotion.abort', subject, details: { reason: `state is ${p.state}` } });
      throw new DomainError('conflict', `promotion ${id} is ${p.state} and can no longer be aborted`, {
        fix: 'only Pending, Gating and AwaitingApproval promotions can be aborted; a deploy in progress runs to its end',
      });
    }
    const now = deps.clock().toISOString();
    const message = `aborted by ${ctx.actor}: ${reason}`;
    const ok = await deps.store.transaction(async (tx) => {
      const done = await tx.promotions.update(id, p.state, { state: 'Aborted', updatedAt: now, stateChangedAt: now, message });
      if (done) {
        await audit.record(tx, ctx, {
          action: 'promotion.transition',
          outcome: 'succeeded',
          subject,
          details: { from: p.state, to: 'Aborted', message },
        });
      }
      return done;
    });
    if (!ok) throw new DomainError('conflict', `promotion ${id} changed state meanwhile`, { fix: 'look at it again and retry' });
    return (await deps.store.read.promotions.get(id))!;
  };
}

/** Roll back: promote the release that succeeded in the environment before the current one, through the same gates. */
export function createRollback(
  deps: Pick<EngineDeps, 'store' | 'project'>,
  audit: AuditWriter,
  requestPromotion: ReturnType<typeof createRequestPromotion>,
) {
  return async function rollback(ctx: RequestContext, service: string, environment: string): Promise<PromotionRecord> {
    const subject = `environment:${environment}`;
    await audit.guard(ctx, 'promotion.request', promotionResource(deps.project, { service, environment }), promotionContext(deps.project, environment));
    const succeeded = await deps.store.read.promotions.list({ service, environment, states: ['Succeeded'], newestFirst: true, limit: 1000 });
    const current = succeeded[0];
    const previous = succeeded.find((p) => p.releaseId !== current?.releaseId);
    if (!current || !previous) {
      const e = new DomainError('not_found', `${service} has no earlier release that succeeded in ${environment}${current ? ` before ${current.version}` : ''}`, {
        fix: 'rollback needs two different releases to have succeeded there; promote a fixed release instead',
      });
      await audit.denied(ctx, { action: 'promotion.rollback', subject, details: { reason: e.message } });
      throw e;
    }
    return requestPromotion(ctx, { service, version: previous.version, environment }, { rollbackFrom: current.version });
  };
}
