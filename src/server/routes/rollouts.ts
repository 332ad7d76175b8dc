/** Rollouts: GET /v1/rollouts/{service}/{env} (status), POST /v1/rollouts/{service}/{env}/{command}. */
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';

const commandBody = z.strictObject({ reason: z.string().max(1000).optional(), full: z.boolean().optional() });
const path = '(?<service>[a-z][a-z0-9-]{0,62})\\/(?<env>[a-z][a-z0-9-]{0,62})';

export function rolloutRoutes(engine: Engine): Route[] {
  return [
    {
      method: 'GET',
      pattern: new RegExp(`^\\/v1\\/rollouts\\/${path}$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: await engine.rollouts.status(c.ctx, c.params['service']!, c.params['env']!) }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^\\/v1\\/rollouts\\/${path}\\/(?<command>promote|abort|retry)$`),
      auth: true,
      handler: async (c) => {
        const body = await c.json(commandBody, 'rollout.control');
        const name = c.params['command'] as 'promote' | 'abort' | 'retry';
        if (body.full !== undefined && name !== 'promote') throw new DomainError('invalid_input', `full applies to promote, not ${name}`, { field: 'full', fix: 'leave it out' });
        const cmd = name === 'promote' && body.full ? 'promote-full' : name;
        return { status: 202, json: await engine.rollouts.command(c.ctx, c.params['service']!, c.params['env']!, cmd, body.reason ?? '') };
      },
    },
  ];
}
