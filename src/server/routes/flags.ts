/** Routes of feature flags: the current set, its history, change requests and their decisions. */
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { flagChangeStates, type FlagChangeState } from '../../store/store.ts';
import type { Route } from '../http.ts';
import { intParam } from '../params.ts';

const ENV = '(?<env>[a-z][a-z0-9-]{0,62})';
const CHANGE = '(?<id>flc_[a-f0-9]{16})';

export const changeBody = z
  .strictObject({
    patch: z.array(z.unknown()).max(200).optional(),
    flags: z.record(z.string(), z.unknown()).optional(),
    reason: z.string().min(1).max(1000),
  })
  .refine((b) => (b.patch === undefined) !== (b.flags === undefined), { message: 'give either "patch" or "flags"', path: ['patch'] });

const decisionBody = z.strictObject({ comment: z.string().max(2000).optional() });

function statesParam(q: URLSearchParams): FlagChangeState[] | undefined {
  const raw = q.get('state');
  if (raw === null || raw === '') return undefined;
  const states = raw.split(',');
  const bad = states.find((s) => !(flagChangeStates as readonly string[]).includes(s));
  if (bad !== undefined || states.length > flagChangeStates.length) {
    throw new DomainError('invalid_input', `query parameter state=${raw.slice(0, 60)} names an unknown state`, { field: 'state', fix: `give one or more of ${flagChangeStates.join(', ')}, comma-separated` });
  }
  return states as FlagChangeState[];
}

export function flagRoutes(engine: Engine): Route[] {
  const f = engine.flags;
  const comment = async (c: Parameters<Route['handler']>[0], action: string) => (c.body.length === 0 ? '' : ((await c.json(decisionBody, action)).comment ?? ''));
  return [
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/flags/${ENV}$`),
      auth: true,
      handler: async (c) => {
        const cur = await f.show(c.ctx, c.params['env']!);
        const etag = `"${cur.digest}"`;
        const inm = c.req.headers['if-none-match'];
        if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === etag)) return { status: 304, text: '', headers: { etag } };
        return { status: 200, json: cur, headers: { etag } };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/flags/${ENV}/history$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { environment: c.params['env'], versions: await f.history(c.ctx, c.params['env']!, intParam(c.query, 'limit', 50, 1, 1000)) } }),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/v1/flags/${ENV}/changes$`),
      auth: true,
      handler: async (c) => {
        const body = await c.json(changeBody, 'flag.change');
        return { status: 201, json: { change: await f.createChange(c.ctx, c.params['env']!, body) } };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/flags/${ENV}/changes$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { changes: await f.listChanges(c.ctx, c.params['env']!, statesParam(c.query)) } }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/v1/flags/${ENV}/changes/${CHANGE}$`),
      auth: true,
      handler: async (c) => {
        return { status: 200, json: { change: await f.getChange(c.ctx, c.params['id']!, c.params['env']!) } };
      },
    },
    {
      // a change by id alone (the CLI's `flags approve ID` finds its environment here)
      method: 'GET',
      pattern: new RegExp(`^/v1/flag-changes/${CHANGE}$`),
      auth: true,
      handler: async (c) => ({ status: 200, json: { change: await f.getChange(c.ctx, c.params['id']!) } }),
    },
    ...(['approve', 'reject', 'apply'] as const).map(
      (verb): Route => ({
        method: 'POST',
        pattern: new RegExp(`^/v1/flags/${ENV}/changes/${CHANGE}/${verb}$`),
        auth: true,
        handler: async (c) => {
          const id = c.params['id']!;
          const env = c.params['env']!;
          const change =
            verb === 'approve'
              ? await f.approve(c.ctx, env, id, await comment(c, 'flag.approve'))
              : verb === 'reject'
                ? await f.reject(c.ctx, env, id, await comment(c, 'flag.reject'))
                : await f.apply(c.ctx, env, id);
          return { status: 200, json: { change } };
        },
      }),
    ),
  ];
}
