/** Routes of just-in-time elevation: request a role for N minutes, another person approves or denies, list. */
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { elevationListStatuses, type ElevationListStatus, MAX_ELEVATION_MINUTES } from '../../engine/elevation.ts';
import type { Project } from '../../project/schema.ts';
import type { Route } from '../http.ts';

const ELEVATION = '(?<id>elv_[a-f0-9]{16})';
export const elevationBody = z
  .object({
    role: z.string().min(1).max(63),
    minutes: z.number().int().min(1).max(MAX_ELEVATION_MINUTES),
    reason: z.string().min(1).max(1000),
  })
  .strict();

function statusParam(q: URLSearchParams): ElevationListStatus | undefined {
  const raw = q.get('status');
  if (raw === null || raw === '') return undefined;
  if (!(elevationListStatuses as readonly string[]).includes(raw)) {
    throw new DomainError('invalid_input', `query parameter status=${raw.slice(0, 40)} is not an elevation state`, { field: 'status', fix: `give one of ${elevationListStatuses.join(', ')}` });
  }
  return raw as ElevationListStatus;
}

export function elevationRoutes(engine: Engine, _project: Project): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/elevations$/,
      auth: true,
      handler: async (c) => ({ status: 201, json: { elevation: await engine.elevations.request(c.ctx, await c.json(elevationBody, 'elevation.request')) } }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/elevations/${ELEVATION}/approve$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { elevation: await engine.elevations.approve(c.ctx, c.params['id']!) } }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/elevations/${ELEVATION}/deny$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { elevation: await engine.elevations.deny(c.ctx, c.params['id']!) } }),
    },
    {
      method: 'GET',
      pattern: /^\/v1\/elevations$/,
      auth: true,
      handler: async (c) => ({ status: 200, json: { elevations: await engine.elevations.list(c.ctx, statusParam(c.query)) } }),
    },
  ];
}
