/** Parity, drift and attestation reads: GET /v1/parity, GET /v1/drift/{env}, GET /v1/attestation. */
import { DomainError } from '../../domain/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';
import { nameParam } from '../params.ts';

export function parityRoutes(engine: Engine): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/parity$/,
      auth: true,
      handler: async (c) => {
        const a = nameParam(c.query, 'a');
        const b = nameParam(c.query, 'b');
        if (!a || !b) throw new DomainError('invalid_input', 'query parameters a and b (the two environments) are required', { field: a ? 'b' : 'a', fix: 'GET /v1/parity?a=staging&b=prod[&service=checkout]' });
        const service = nameParam(c.query, 'service');
        return { status: 200, json: await engine.parity.parity(c.ctx, { a, b, ...(service ? { service } : {}) }) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/drift\/(?<env>[^/]{1,100})$/,
      auth: true,
      handler: async (c) => ({ status: 200, json: await engine.parity.drift(c.ctx, c.params['env']!, nameParam(c.query, 'service')) }),
    },
    { method: 'GET', pattern: /^\/v1\/attestation$/, auth: true, handler: async (c) => ({ status: 200, json: await engine.parity.attestation(c.ctx) }) },
  ];
}
