import { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';

const createBody = z
  .object({
    name: z.string().min(1).max(63),
    actor: z.string().min(1).max(80),
    role: z.string().min(1).max(20),
    scopes: z.array(z.string().regex(/^[a-z][a-z0-9.:*-]{0,63}$/)).max(32).optional(),
    expiresInHours: z.number().int().min(1).max(24 * 365).optional(),
  })
  .strict();

export function tokenRoutes(engine: Engine): Route[] {
  return [
    { method: 'POST', pattern: /^\/v1\/tokens$/, auth: true, handler: async (c) => ({ status: 201, json: await engine.tokens.create(c.ctx, await c.json(createBody, 'token.create')) }) },
    { method: 'GET', pattern: /^\/v1\/tokens$/, auth: true, handler: async (c) => ({ status: 200, json: { tokens: await engine.tokens.list(c.ctx) } }) },
    {
      method: 'DELETE',
      pattern: /^\/v1\/tokens\/(?<id>[A-Za-z0-9]{8,40})$/,
      auth: true,
      handler: async (c) => {
        await engine.tokens.revoke(c.ctx, c.params['id']!);
        return { status: 200, json: { revoked: c.params['id'] } };
      },
    },
    { method: 'GET', pattern: /^\/v1\/whoami$/, auth: true, handler: async (c) => ({ status: 200, json: { actor: c.ctx.actor, roles: c.ctx.principal?.roles, groups: c.ctx.principal?.groups } }) },
  ];
}
