import { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import { ACTION_SCOPE_RE } from '../../engine/sessions.ts';
import { MAX_SESSION_TTL_SECONDS } from '../../auth/session.ts';
import type { Route } from '../http.ts';

const createBody = z
  .object({
    name: z.string().min(1).max(63),
    actor: z.string().min(1).max(80),
    role: z.string().min(1).max(20),
    scopes: z.array(z.string().max(65).regex(ACTION_SCOPE_RE)).max(32).optional(),
    expiresInHours: z.number().int().min(1).max(24 * 365).optional(),
  })
  .strict();

const loginBody = z
  .object({
    scopes: z.array(z.string().max(65).regex(ACTION_SCOPE_RE)).min(1).max(16).optional(),
    ttlSeconds: z.number().int().min(1).max(MAX_SESSION_TTL_SECONDS).optional(),
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
    { method: 'POST', pattern: /^\/v1\/login$/, auth: true, handler: async (c) => ({ status: 201, json: await engine.tokens.login(c.ctx, c.body.length === 0 ? {} : await c.json(loginBody, 'session.create')) }) },
    { method: 'POST', pattern: /^\/v1\/logout$/, auth: true, handler: async (c) => ({ status: 200, json: await engine.tokens.logout(c.ctx) }) },
    { method: 'GET', pattern: /^\/\.well-known\/jwks\.json$/, auth: false, handler: async () => ({ status: 200, json: engine.tokens.jwks() }) },
    { method: 'GET', pattern: /^\/v1\/whoami$/, auth: true, handler: async (c) => ({ status: 200, json: { actor: c.ctx.actor, roles: c.ctx.principal?.roles, groups: c.ctx.principal?.groups } }) },
  ];
}
