/**
 * The host's control API: HTTP over a Unix socket (`<hostDir>/control.sock`, 0600), every request
 * authenticated with `Authorization: Bearer <control.token>` (compared in constant time on SHA-256
 * digests), bodies bounded to 256 KiB, every input validated; errors answer
 * `{error: {code, message, field, fix}}` and never stop the host.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import http from 'node:http';
import { DomainError } from '../../domain/errors.ts';
import { statusOf } from '../../server/http.ts';
import { type ControlRoute, routeRequest } from './control-routes.ts';
import { MAX_CONTROL_BODY } from './host-files.ts';

type LogFn = (obj: object, msg: string) => void;
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const tooLarge = () => new DomainError('payload_too_large', `request body is over ${MAX_CONTROL_BODY} bytes`, { field: 'body', fix: 'send a smaller body' });
  if (Number(req.headers['content-length'] ?? 0) > MAX_CONTROL_BODY) throw tooLarge();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_CONTROL_BODY) throw tooLarge();
    chunks.push(c);
  }
  if (n === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new DomainError('invalid_input', 'request body is not valid JSON', { field: 'body', fix: 'send a JSON object' });
  }
}

export async function startControlServer(deps: { socketPath: string; token: string; routes: ControlRoute[]; logger: { warn: LogFn } }): Promise<{ close(): Promise<void> }> {
  const expected = digest(deps.token);
  const send = (res: http.ServerResponse, status: number, json: unknown): void => {
    const body = JSON.stringify(json);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = http.createServer(async (req, res) => {
    try {
      const auth = req.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!timingSafeEqual(digest(given), expected)) {
        req.resume();
        throw new DomainError('unauthenticated', 'missing or wrong control token', { field: 'authorization', fix: 'send Authorization: Bearer <contents of control.token in the host directory>' });
      }
      let body: unknown;
      if (req.method === 'PUT' || req.method === 'POST') body = await readBody(req);
      else req.resume();
      const out = await routeRequest(deps.routes, req.method ?? 'GET', req.url ?? '/', body);
      send(res, out.status, out.json);
    } catch (e) {
      const de = e instanceof DomainError ? e : new DomainError('internal', `local host: ${(e as Error).message}`);
      if (de.code === 'internal') deps.logger.warn({ err: e }, 'local host: control request failed');
      if (res.headersSent) return void res.destroy();
      if (de.code === 'payload_too_large') {
        // read (and drop) the rest for up to a second so the client gets the 413 rather than EPIPE
        res.setHeader('connection', 'close');
        req.resume();
        await new Promise((r) => {
          const t = setTimeout(r, 1000);
          req.once('end', () => r(clearTimeout(t)));
          req.once('error', () => r(clearTimeout(t)));
        });
      }
      send(res, statusOf[de.code], { error: { code: de.code, message: de.message, field: de.details.field ?? null, fix: de.details.fix ?? null } });
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0;
  await rm(deps.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.socketPath, () => resolve());
  });
  await chmod(deps.socketPath, 0o600);
  return {
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
