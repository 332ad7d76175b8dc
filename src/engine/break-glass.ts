/**
 * Break-glass: skip named gates (approvals, freeze, soak) of one promotion in an emergency. Needs a
 * written justification, a second person's confirmation and a time box of at most one hour; never
 * skips signature or checksum verification. Every step is a high-severity audit entry, and a used
 * break-glass stays an open review item until a third person reviews it.
 */
import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { BreakGlassRecord } from '../store/store.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { projectResource, promotionContext, promotionResource } from './guard.ts';

export const skippableGates = ['approvals', 'freeze', 'soak'] as const;
export type SkippableGate = (typeof skippableGates)[number];
export const MAX_BREAK_GLASS_MS = 60 * 60_000;

export interface BreakGlassRequest {
  justification: string;
  skip: readonly string[];
  minutes: number;
}

const high = { severity: 'high' } as const;

export function createBreakGlass(deps: Pick<EngineDeps, 'store' | 'clock' | 'project'>, audit: AuditWriter) {
  async function request(ctx: RequestContext, promotionId: string, req: BreakGlassRequest): Promise<BreakGlassRecord> {
    const subject = `promotion:${promotionId}`;
    const target = await deps.store.read.promotions.get(promotionId);
    await audit.guard(ctx, 'breakglass.request', target ? promotionResource(deps.project, target) : { type: 'Promotion', id: promotionId, attrs: { service: '', environment: '', tier: 'unknown' } }, {
      tier: target ? promotionContext(deps.project, target.environment).tier : 'unknown',
      breakGlass: true,
    });
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'breakglass.request', subject, details: { ...high, reason: e.message } });
      throw e;
    };
    const bad = req.skip.filter((g) => !(skippableGates as readonly string[]).includes(g));
    if (bad.length > 0 || req.skip.length === 0) {
      return refuse(
        new DomainError('invalid_input', bad.length ? `break-glass cannot skip ${bad.join(', ')}` : 'break-glass must name the gates it skips', {
          field: 'skip',
          fix: `name one or more of ${skippableGates.join(', ')}; signature and checksum verification are never skipped`,
        }),
      );
    }
    if (req.justification.trim().length < 10) {
      return refuse(new DomainError('invalid_input', 'break-glass needs a written justification', { field: 'justification', fix: 'say what is broken and why this cannot wait (10 characters or more)' }));
    }
    if (!Number.isInteger(req.minutes) || req.minutes < 1 || req.minutes * 60_000 > MAX_BREAK_GLASS_MS) {
      return refuse(new DomainError('invalid_input', `a break-glass time box of ${req.minutes} minutes is not allowed`, { field: 'minutes', fix: 'give 1 to 60 minutes' }));
    }
    const p = await deps.store.read.promotions.get(promotionId);
    if (!p) return refuse(new DomainError('not_found', `promotion ${promotionId} does not exist`, { fix: 'request the promotion first' }));
    if (!['Pending', 'Gating', 'AwaitingApproval'].includes(p.state)) {
      return refuse(new DomainError('conflict', `promotion ${promotionId} is ${p.state}; break-glass applies before deploying`, { fix: 'request a new promotion with break-glass' }));
    }
    const record: BreakGlassRecord = {
      id: `bg_${randomBytes(8).toString('hex')}`,
      promotionId,
      requestedBy: ctx.actor,
      justification: req.justification.trim(),
      skip: [...new Set(req.skip)],
      status: 'pending',
      createdAt: deps.clock().toISOString(),
      timeBoxMs: req.minutes * 60_000,
      confirmedBy: null,
      confirmedAt: null,
      expiresAt: null,
      reviewedBy: null,
      reviewedAt: null,
      reviewComment: null,
    };
    await deps.store.transaction(async (tx) => {
      await tx.breakGlass.insert(record);
      await audit.record(tx, ctx, {
        action: 'breakglass.request',
        outcome: 'allowed',
        subject: `breakglass:${record.id}`,
        details: { ...high, promotion: promotionId, skip: record.skip, justification: record.justification, minutes: req.minutes },
      });
    });
    return record;
  }

  async function confirm(ctx: RequestContext, id: string): Promise<BreakGlassRecord> {
    const subject = `breakglass:${id}`;
    const b = await deps.store.read.breakGlass.get(id);
    const target = b ? await deps.store.read.promotions.get(b.promotionId) : undefined;
    await audit.guard(ctx, 'breakglass.confirm', target ? promotionResource(deps.project, target) : { type: 'Promotion', id: 'unknown', attrs: { service: '', environment: '', tier: 'unknown' } }, {
      tier: target ? promotionContext(deps.project, target.environment).tier : 'unknown',
      breakGlass: true,
    });
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'breakglass.confirm', subject, details: { ...high, reason: e.message } });
      throw e;
    };
    if (!b) return refuse(new DomainError('not_found', `break-glass ${id} does not exist`, { fix: 'list open ones with `stagegate break-glass list`' }));
    if (b.requestedBy === ctx.actor) {
      return refuse(new DomainError('forbidden', `${ctx.actor} requested break-glass ${id} and cannot also confirm it`, { fix: 'a second person must confirm it' }));
    }
    const now = deps.clock();
    const patch = { status: 'active' as const, confirmedBy: ctx.actor, confirmedAt: now.toISOString(), expiresAt: new Date(now.getTime() + b.timeBoxMs).toISOString() };
    const done = await deps.store.transaction(async (tx) => {
      const ok = await tx.breakGlass.update(id, 'pending', patch);
      if (ok) await audit.record(tx, ctx, { action: 'breakglass.confirm', outcome: 'allowed', subject, details: { ...high, promotion: b.promotionId, skip: b.skip, expiresAt: patch.expiresAt } });
      return ok;
    });
    if (!done) return refuse(new DomainError('conflict', `break-glass ${id} is ${b.status}, not waiting for confirmation`, { fix: 'request a new one' }));
    return { ...b, ...patch };
  }

  async function review(ctx: RequestContext, id: string, comment: string): Promise<BreakGlassRecord> {
    const subject = `breakglass:${id}`;
    await audit.guard(ctx, 'breakglass.review', projectResource(deps.project));
    const b = await deps.store.read.breakGlass.get(id);
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'breakglass.review', subject, details: { reason: e.message } });
      throw e;
    };
    if (!b) return refuse(new DomainError('not_found', `break-glass ${id} does not exist`, { fix: 'list open review items with `stagegate break-glass list`' }));
    if (b.requestedBy === ctx.actor || b.confirmedBy === ctx.actor) {
      return refuse(new DomainError('forbidden', `${ctx.actor} took part in break-glass ${id} and cannot review it`, { fix: 'someone else must review it' }));
    }
    const patch = { reviewedBy: ctx.actor, reviewedAt: deps.clock().toISOString(), reviewComment: comment };
    const done = await deps.store.transaction(async (tx) => {
      const ok = await tx.breakGlass.update(id, 'active', patch);
      if (ok) await audit.record(tx, ctx, { action: 'breakglass.review', outcome: 'succeeded', subject, details: { promotion: b.promotionId, comment } });
      return ok;
    });
    if (!done) return refuse(new DomainError('conflict', `break-glass ${id} is not an open review item (${b.reviewedBy ? `reviewed by ${b.reviewedBy}` : b.status})`, { fix: 'list open review items with `stagegate break-glass list`' }));
    return { ...b, ...patch };
  }

  async function openReviews(ctx: RequestContext): Promise<BreakGlassRecord[]> {
    await audit.guard(ctx, 'approval.read', projectResource(deps.project));
    return deps.store.read.breakGlass.unreviewed(500);
  }

  return { request, confirm, review, openReviews };
}

/** the gates a promotion may skip now: from confirmed, unexpired break-glass records */
export async function activeSkips(deps: Pick<EngineDeps, 'store' | 'clock'>, promotionId: string): Promise<{ skip: Set<string>; ids: string[]; pending: boolean }> {
  const now = deps.clock().toISOString();
  const all = await deps.store.read.breakGlass.forPromotion(promotionId);
  const active = all.filter((b) => b.status === 'active' && b.expiresAt !== null && b.expiresAt > now);
  return { skip: new Set(active.flatMap((b) => b.skip)), ids: active.map((b) => b.id), pending: all.some((b) => b.status === 'pending') };
}
