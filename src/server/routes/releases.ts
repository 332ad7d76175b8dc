import { DomainError } from '../../domain/errors.ts';
import { z } from 'zod';
import { NAME_RE, VERSION_RE } from '../../domain/ids.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';
import { intParam, nameParam } from '../params.ts';

const pushBody = z.object({ bundle: z.union([z.string().max(4 * 1024 * 1024), z.record(z.string(), z.unknown())]) }).strict();

export function releaseRoutes(engine: Engine, maxBlobBytes: number): Route[] {
  return [
    {
      method: 'PUT',
      pattern: /^\/v1\/blobs\/(?<digest>[^/]{1,100})$/,
      auth: true,
      rawBody: true,
      handler: async (c) => {
        const r = await engine.uploadBlob(c.ctx, c.params['digest']!, c.req, maxBlobBytes);
        return { status: r.created ? 201 : 200, json: r };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/releases$/,
      auth: true,
      handler: async (c) => {
        const { bundle } = await c.json(pushBody, 'release.push');
        const r = await engine.pushRelease(c.ctx, typeof bundle === 'string' ? bundle : JSON.stringify(bundle));
        const { bundle: _b, ...release } = r.release;
        return { status: r.created ? 201 : 200, json: { created: r.created, missingBlobs: r.missingBlobs, release } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/releases$/,
      auth: true,
      handler: async (c) => {
        const list = await engine.queries.releases(c.ctx, { service: nameParam(c.query, 'service'), limit: intParam(c.query, 'limit', 50, 1, 1000)! });
        return { status: 200, json: { releases: list.map(({ bundle: _b, ...r }) => r) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/releases\/(?<ref>[^/]{1,200})$/,
      auth: true,
      handler: async (c) => {
        const ref = c.params['ref']!;
        const at = ref.indexOf('@');
        const valid = /^sha256:[a-f0-9]{64}$/.test(ref) || (at > 0 && NAME_RE.test(ref.slice(0, at)) && VERSION_RE.test(ref.slice(at + 1)));
        if (!valid) {
          throw new DomainError('invalid_input', `"${ref.slice(0, 80)}" is not service@version or sha256:<hex>`, {
            field: 'ref',
            fix: 'name a release as SERVICE@VERSION (checkout@1.4.2) or by its id sha256:<64 hex>',
          });
        }
        const r = await engine.queries.release(c.ctx, ref);
        return { status: 200, json: { release: { ...r, bundle: JSON.parse(r.bundle) as unknown } } };
      },
    },
  ];
}
