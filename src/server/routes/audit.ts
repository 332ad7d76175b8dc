import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';
import { intParam } from '../params.ts';

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64');
const MAX = Number.MAX_SAFE_INTEGER;

export function auditRoutes(engine: Engine): Route[] {
  const q = engine.auditQueries;
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/audit\/entries$/,
      auth: true,
      handler: async (c) => ({ status: 200, json: await q.entries(c.ctx, intParam(c.query, 'from', 0, 0, MAX)!, intParam(c.query, 'limit', 100, 1, 1000)!) }),
    },
    { method: 'GET', pattern: /^\/v1\/audit\/checkpoint$/, auth: true, handler: async (c) => ({ status: 200, text: await q.checkpoint(c.ctx) }) },
    { method: 'GET', pattern: /^\/v1\/audit\/key$/, auth: true, handler: async (c) => ({ status: 200, text: `${await q.key(c.ctx)}\n` }) },
    {
      method: 'GET',
      pattern: /^\/v1\/audit\/proof$/,
      auth: true,
      handler: async (c) => {
        const p = await q.inclusion(c.ctx, intParam(c.query, 'index', undefined, 0, MAX) ?? -1, intParam(c.query, 'size', undefined, 1, MAX));
        return { status: 200, json: { treeSize: p.treeSize, leafIndex: p.leafIndex, leafHash: b64(p.leafHash), rootHash: b64(p.rootHash), proof: p.proof.map(b64) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/audit\/consistency$/,
      auth: true,
      handler: async (c) => {
        const p = await q.consistency(c.ctx, intParam(c.query, 'from', undefined, 0, MAX) ?? -1, intParam(c.query, 'to', undefined, 0, MAX) ?? -1);
        return { status: 200, json: { size1: p.size1, size2: p.size2, root1: b64(p.root1), root2: b64(p.root2), proof: p.proof.map(b64) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/audit\/export$/,
      auth: true,
      handler: async (c) => ({ status: 200, contentType: 'application/x-ndjson', lines: await q.export(c.ctx, intParam(c.query, 'from', 0, 0, MAX)) }),
    },
    { method: 'GET', pattern: /^\/v1\/audit\/verify$/, auth: true, handler: async (c) => ({ status: 200, json: await q.verify(c.ctx) }) },
  ];
}
