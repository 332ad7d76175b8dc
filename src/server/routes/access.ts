/** Routes of access control: approvals, break-glass, freeze windows. */
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { skippableGates } from '../../engine/break-glass.ts';
import { upcomingFreezes, formatFreeze } from '../../policy/freeze.ts';
import { parseDuration } from '../../domain/duration.ts';
import type { Project } from '../../project/schema.ts';
import type { Route } from '../http.ts';
import { nameParam } from '../params.ts';

const PROMOTION = '(?<id>prm_[a-f0-9]{16})';
const BREAK_GLASS = '(?<id>bg_[a-f0-9]{16})';
const decideBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(2000).default(''),
    signed: z.object({ statement: z.record(z.string(), z.unknown()), keyid: z.string().min(1).max(100), sig: z.string().min(1).max(200) }).strict().optional(),
  })
  .strict();
const reviewBody = z.object({ comment: z.string().min(1).max(2000) }).strict();
export const breakGlassBody = z
  .object({
    justification: z.string().min(1).max(2000),
    skip: z.array(z.enum(skippableGates)).min(1).max(3),
    minutes: z.number().int().min(1).max(60),
  })
  .strict();

export function accessRoutes(engine: Engine, project: Project): Route[] {
  return [
    { method: 'GET', pattern: /^\/v1\/approvals$/, auth: true, handler: async (c) => ({ status: 200, json: { waiting: await engine.approvals.waitingFor(c.ctx) } }) },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/promotions/${PROMOTION}/approvals$`),
      auth: true,
      handler: async (c) => {
        const body = await c.json(decideBody, 'approval.decide');
        const r = await engine.approvals.decide(c.ctx, c.params['id']!, body);
        void engine.reconciler.kick();
        return { status: 201, json: r };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/promotions/${PROMOTION}/approval-statement$`),
      auth: true,
      handler: async (c) => {
        const decision = c.query.get('decision');
        if (decision !== 'approve' && decision !== 'reject') throw new DomainError('invalid_input', 'decision must be approve or reject', { field: 'decision', fix: 'add ?decision=approve or ?decision=reject' });
        const comment = c.query.get('comment') ?? '';
        if (comment.length > 2000) throw new DomainError('invalid_input', 'comment is over 2000 characters', { field: 'comment', fix: 'shorten the comment' });
        return { status: 200, json: await engine.approvals.statementFor(c.ctx, c.params['id']!, { decision, comment }) };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/promotions/${PROMOTION}/break-glass$`),
      auth: true,
      handler: async (c) => ({ status: 201, json: { breakGlass: await engine.breakGlass.request(c.ctx, c.params['id']!, await c.json(breakGlassBody, 'breakglass.request')) } }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/break-glass/${BREAK_GLASS}/confirm$`),
      auth: true,
      handler: async (c) => {
        const r = await engine.breakGlass.confirm(c.ctx, c.params['id']!);
        void engine.reconciler.kick();
        return { status: 200, json: { breakGlass: r } };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/break-glass/${BREAK_GLASS}/review$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { breakGlass: await engine.breakGlass.review(c.ctx, c.params['id']!, (await c.json(reviewBody, 'breakglass.review')).comment) } }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/environments\/(?<env>[a-z][a-z0-9-]{0,62})\/policy-approvals$/,
      auth: true,
      handler: async (c) => {
        const body = await c.json(decideBody.omit({ signed: true }), 'approval.decide');
        const r = await engine.policyChanges.decide(c.ctx, c.params['env']!, body);
        void engine.reconciler.kick();
        return { status: 200, json: r };
      },
    },
    { method: 'GET', pattern: /^\/v1\/policy-state$/, auth: true, handler: async (c) => ({ status: 200, json: { environments: await engine.policyChanges.list(c.ctx) } }) },
    { method: 'GET', pattern: /^\/v1\/break-glass$/, auth: true, handler: async (c) => ({ status: 200, json: { openReviews: await engine.breakGlass.openReviews(c.ctx) } }) },
    {
      method: 'GET',
      pattern: /^\/v1\/freezes$/,
      auth: true,
      handler: async (c) => {
        await engine.audit.guard(c.ctx, 'freeze.read', { type: 'Project', id: project.project });
        const horizonText = c.query.get('horizon') ?? '30d';
        const horizonMs = parseDuration(horizonText);
        if (horizonMs === undefined) throw new DomainError('invalid_input', `horizon "${horizonText.slice(0, 40)}" is not a duration`, { field: 'horizon', fix: 'give a duration such as 7d or 12h (at most 365d)' });
        const env = nameParam(c.query, 'environment');
        const service = nameParam(c.query, 'service');
        const windows = project.environments.filter((e) => !env || e.name === env).flatMap((e) => e.freezes);
        const r = upcomingFreezes(windows, { from: new Date(), horizonMs, ...(service ? { service } : {}) });
        return { status: 200, json: { freezes: r.occurrences.map(formatFreeze), truncated: r.truncated } };
      },
    },
  ];
}
