/**
 * `POST /v1/callbacks/webhook/{deliveryId}`: a webhook receiver reports a deployment's outcome. No
 * bearer token: the request is authenticated by its HMAC signature with the delivery's shared
 * secret (checked by the callback hub). 200 received, 404 unknown delivery, 401 bad signature,
 * 400 bad body, 413 body too large; refusals go through the server's error path (and its audit).
 */
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../../domain/errors.ts';
import type { CallbackHub } from '../../rollout/targets/webhook/callbacks.ts';
import type { Route } from '../http.ts';

const codeOf = { 400: 'invalid_input', 401: 'unauthenticated', 404: 'not_found', 413: 'payload_too_large' } as const;
const fieldOf = { 400: 'body', 401: 'X-Stagegate-Signature', 404: 'deliveryId', 413: 'body' } as const;

async function readBounded(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > max) return undefined;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function webhookCallbackRoutes(hub: CallbackHub): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/callbacks\/webhook\/(?<deliveryId>[A-Za-z0-9_-]{1,128})$/,
      auth: false,
      rawBody: true,
      handler: async (c) => {
        const deliveryId = c.params['deliveryId'] ?? '';
        const body = await readBounded(c.req, hub.maxBodyBytes);
        if (!body) {
          throw new DomainError('payload_too_large', `callback body is over ${hub.maxBodyBytes} bytes`, { fix: 'send {deliveryId, status, message?} only' });
        }
        const r = hub.receive(deliveryId, c.req.headers, body);
        if (!r.ok) throw new DomainError(codeOf[r.status], r.message, { field: fieldOf[r.status] });
        return { status: 200, json: { deliveryId, received: true, final: r.final, message: r.message } };
      },
    },
  ];
}
