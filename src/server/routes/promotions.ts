import { z } from 'zod';
import { NAME_RE, VERSION_RE } from '../../domain/ids.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';
import { breakGlassBody } from './access.ts';
import { intParam, nameParam } from '../params.ts';

const promoteBody = z
  .object({
    service: z.string().regex(NAME_RE, 'a service name: lowercase letters, digits, dashes'),
    version: z.string().regex(VERSION_RE, 'a version like 1.4.2'),
    environment: z.string().regex(NAME_RE, 'an environment name'),
    dryRun: z.boolean().optional(),
    breakGlass: breakGlassBody.optional(),
  })
  .strict();
const rollbackBody = z.object({ service: promoteBody.shape.service, environment: promoteBody.shape.environment }).strict();
const abortBody = z.object({ reason: z.string().min(1).max(1000) }).strict();
const ID = '(?<id>prm_[a-f0-9]{16})';

export function promotionRoutes(engine: Engine): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/promotions$/,
      auth: true,
      handler: async (c) => {
        const { dryRun, breakGlass, ...req } = await c.json(promoteBody, 'promotion.request');
        if (dryRun) return { status: 200, json: await engine.dryRun(c.ctx, req) };
        const promotion = await engine.requestPromotion(c.ctx, req, { breakGlass: breakGlass !== undefined });
        // the break-glass request is pending until a second person confirms; the promotion waits for it
        const bg = breakGlass ? await engine.breakGlass.request(c.ctx, promotion.id, breakGlass) : undefined;
        return { status: 202, json: { promotion, ...(bg ? { breakGlass: bg } : {}) } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/rollbacks$/,
      auth: true,
      handler: async (c) => {
        const { service, environment } = await c.json(rollbackBody, 'promotion.rollback');
        return { status: 202, json: { promotion: await engine.rollback(c.ctx, service, environment) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/promotions$/,
      auth: true,
      handler: async (c) => ({
        status: 200,
        json: {
          promotions: await engine.queries.promotions(c.ctx, {
            service: nameParam(c.query, 'service'),
            environment: nameParam(c.query, 'environment'),
            limit: intParam(c.query, 'limit', 50, 1, 1000)!,
          }),
        },
      }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/promotions/${ID}$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { promotion: await engine.queries.promotion(c.ctx, c.params['id']!) } }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/promotions/${ID}/abort$`),
      auth: true,
      handler: async (c) => {
        const { reason } = await c.json(abortBody, 'promotion.abort');
        return { status: 200, json: { promotion: await engine.abortPromotion(c.ctx, c.params['id']!, reason) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/status$/,
      auth: true,
      handler: async (c) => ({ status: 200, json: { status: await engine.queries.status(c.ctx) } }),
    },
  ];
}
