/**
 * A small HTTP layer over node:http: routing, bounded JSON bodies, authentication, error mapping.
 * Handlers only translate HTTP to engine calls; the engine authorizes and audits.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { DomainError, type ErrorCode } from '../domain/errors.ts';
import type { RequestContext } from '../engine/deps.ts';
import type { Engine } from '../engine/engine.ts';

export type Reply =
  /** `headers`: extra response headers (e.g. ETag); content-type and content-length are set here */
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType?: string; headers?: Record<string, string> }
  | { status: number; lines: AsyncIterable<string>; contentType: string };

export interface HttpContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  ctx: RequestContext;
  /** the raw body (JSON routes only; read before authentication, bounded) */
  body: Buffer;
  /** parse the body as JSON and validate it; on failure: audit the denial, throw invalid_input */
  json<T>(schema: z.ZodType<T>, action: string): Promise<T>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pattern: RegExp;
  /** false only for health probes */
  auth: boolean;
  /** true when the handler streams the body itself (uploads) */
  rawBody?: boolean;
  handler: (c: HttpContext) => Promise<Reply>;
}

export const statusOf: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  signature_invalid: 422,
  digest_mismatch: 422,
  secret_detected: 422,
  unavailable: 503,
  internal: 500,
};

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) throw tooLarge(max);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const tooLarge = (max: number) =>
  new DomainError('payload_too_large', `request body is over ${max} bytes`, { fix: 'send a smaller body; artifacts go to PUT /v1/blobs/sha256:<hex>' });

function send(res: ServerResponse, reply: Reply): Promise<void> {
  if ('json' in reply) {
    const body = JSON.stringify(reply.json, null, 2);
    res.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return Promise.resolve();
  }
  if ('text' in reply) {
    res.writeHead(reply.status, { ...reply.headers, 'content-type': reply.contentType ?? 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(reply.text) });
    res.end(reply.text);
    return Promise.resolve();
  }
  res.writeHead(reply.status, { 'content-type': reply.contentType });
  return (async () => {
    for await (const line of reply.lines) {
      if (!res.write(`${line}\n`)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  })();
}

export interface HttpAppDeps {
  engine: Engine;
  logger: Logger;
  maxBodyBytes: number;
  routes: Route[];
  isReady: () => boolean;
}

export function createRequestHandler(deps: HttpAppDeps) {
  const { engine, logger } = deps;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let status = 500;
    // the request's context as far as it is known; a refusal not yet audited is audited below
    const state: { ctx: RequestContext } = { ctx: { actor: 'anonymous', requestDigest: null } };
    try {
      // prefixed, not resolved against a base: `//x` is a path here, not a host
      const target = req.url ?? '/';
      const url = target.startsWith('/') && URL.canParse(`http://localhost${target}`) ? new URL(`http://localhost${target}`) : undefined;
      if (!url) throw new DomainError('invalid_input', `request target "${target.slice(0, 100)}" is not a path`, { fix: 'send an origin-form request target such as /v1/releases' });
      const reply = await dispatch(req, url, state);
      status = reply.status;
      await send(res, reply);
    } catch (e) {
      const err = e instanceof DomainError ? e : undefined;
      if (!err) logger.error({ err: e, method: req.method, path: req.url?.slice(0, 200) }, 'unexpected error');
      status = err ? statusOf[err.code] : 500;
      const body = err ? { error: err.toJSON() } : { error: { code: 'internal', message: 'internal error; the server log has details', details: {} } };
      if (!res.headersSent) {
        const text = JSON.stringify(body, null, 2);
        const retryAfter = err?.code === 'rate_limited' && typeof err.details['retryAfterSeconds'] === 'number' ? { 'retry-after': String(err.details['retryAfterSeconds']) } : {};
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...(status === 413 ? { connection: 'close' } : {}), ...retryAfter });
        res.end(text);
      } else res.destroy();
      if (status === 413) req.resume();
      if (err && status >= 400 && status < 500 && !state.ctx.denialRecorded) {
        const subject = `${req.method} ${(req.url ?? '').split('?')[0]?.slice(0, 200)}`;
        await engine.audit
          .denied(state.ctx, { action: 'request.rejected', subject, details: { code: err.code, reason: err.message.slice(0, 1000) } })
          .catch((e: unknown) => logger.error({ err: e }, 'could not audit a refused request'));
      }
    } finally {
      logger.debug({ method: req.method, path: req.url?.split('?')[0]?.slice(0, 200), status, ms: Date.now() - started }, 'request');
    }
  };

  async function dispatch(req: IncomingMessage, url: URL, state: { ctx: RequestContext }): Promise<Reply> {
    const pathname = url.pathname;
    if (pathname.length > 2048) throw new DomainError('invalid_input', 'path too long', { fix: 'use a shorter path' });
    let methodMismatch = false;
    for (const route of deps.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (route.method !== req.method) {
        methodMismatch = true;
        continue;
      }
      if (route.auth && !deps.isReady()) throw new DomainError('unavailable', 'server is starting', { fix: 'retry in a moment; GET /readyz says when it is ready' });
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) {
        try {
          params[k] = decodeURIComponent(v);
        } catch {
          throw new DomainError('invalid_input', `path segment "${v.slice(0, 100)}" is not valid percent-encoding`, { field: k, fix: 'encode the path segment with encodeURIComponent (a "%" must be followed by two hex digits)' });
        }
      }
      const body =
        route.rawBody || req.method === 'GET' || req.method === 'DELETE'
          ? Buffer.alloc(0)
          : await readBody(req, deps.maxBodyBytes);
      const requestDigest = route.rawBody ? (params['digest'] ?? null) : `sha256:${createHash('sha256').update(`${req.method} ${pathname}\n`).update(body).digest('hex')}`;
      let ctx: RequestContext = { actor: 'anonymous', requestDigest };
      state.ctx = ctx;
      if (route.auth) {
        const auth = await engine.tokens.authenticate({
          header: req.headers.authorization,
          requestDigest,
          where: `${req.method} ${pathname.slice(0, 200)}`,
          remoteAddress: req.socket.remoteAddress,
        });
        if (!auth.ok) {
          ctx.denialRecorded = true; // authenticate audited it as auth.failed, with the precise reason
          if (auth.retryAfterSeconds !== undefined) {
            throw new DomainError('rate_limited', 'too many failed authentications; try again later', { retryAfterSeconds: auth.retryAfterSeconds, fix: `wait ${auth.retryAfterSeconds} s (Retry-After)` });
          }
          // one message for every failure: the client learns nothing about why
          throw new DomainError('unauthenticated', 'missing, malformed, unknown or revoked token', { fix: 'send Authorization: Bearer <token> (CLI: --token or STAGEGATE_TOKEN)' });
        }
        const principal = auth.principal;
        ctx = { actor: principal.id, principal, requestDigest };
        state.ctx = ctx;
      }
      const json = async <T>(schema: z.ZodType<T>, action: string): Promise<T> => {
        let value: unknown;
        try {
          value = JSON.parse(body.toString('utf8'));
        } catch (e) {
          await engine.audit.denied(ctx, { action, subject: pathname.slice(0, 200), details: { reason: 'body is not JSON' } });
          throw new DomainError('invalid_input', `request body is not valid JSON: ${(e as Error).message.slice(0, 200)}`, { fix: 'send a JSON object with content-type application/json' });
        }
        const parsed = schema.safeParse(value);
        if (!parsed.success) {
          const problems = parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
          await engine.audit.denied(ctx, { action, subject: pathname.slice(0, 200), details: { reason: problems.join('; ').slice(0, 2000) } });
          throw new DomainError('invalid_input', `request body is invalid: ${problems.join('; ')}`, { field: parsed.error.issues[0]?.path.join('.'), fix: 'see the API reference in docs/api.md for the expected body' });
        }
        return parsed.data;
      };
      return route.handler({ req, params, query: url.searchParams, ctx, body, json });
    }
    if (methodMismatch) throw new DomainError('invalid_input', `method ${req.method} is not allowed on ${pathname}`, { fix: 'see docs/api.md for the methods of each path' });
    throw new DomainError('not_found', `no such endpoint: ${req.method} ${pathname.slice(0, 200)}`, { fix: 'see docs/api.md for the endpoints' });
  }
}
