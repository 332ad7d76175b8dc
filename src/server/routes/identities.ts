/** Routes of API-managed identities. */
import type { Engine } from '../../engine/engine.ts';
import { identityEntryBody, type IdentityKind } from '../../engine/identities.ts';
import type { Route } from '../http.ts';

const kinds: Record<string, IdentityKind> = { users: 'users', groups: 'groups', 'service-accounts': 'serviceAccounts' };
const PATH = /^\/v1\/identities\/(?<kind>users|groups|service-accounts)\/(?<name>[a-z][a-z0-9._-]{0,62})$/;

export function identityRoutes(engine: Engine): Route[] {
  return [
    { method: 'GET', pattern: /^\/v1\/identities$/, auth: true, handler: async (c) => ({ status: 200, json: await engine.identities.list(c.ctx) }) },
    {
      method: 'PUT',
      pattern: PATH,
      auth: true,
      handler: async (c) => ({ status: 200, json: await engine.identities.put(c.ctx, kinds[c.params['kind']!]!, c.params['name']!, await c.json(identityEntryBody, 'identity.manage')) }),
    },
    {
      method: 'DELETE',
      pattern: PATH,
      auth: true,
      handler: async (c) => ({ status: 200, json: await engine.identities.remove(c.ctx, kinds[c.params['kind']!]!, c.params['name']!) }),
    },
  ];
}
