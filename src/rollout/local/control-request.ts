/**
 * One control request to a local host over its Unix socket, with a deadline and a bounded answer.
 * Host errors come back as the DomainError the host named (code, message, field, fix); a host that
 * cannot be reached or does not answer in time is `unavailable`.
 */
import http from 'node:http';
import { DomainError, errorCodes, type ErrorCode } from '../../domain/errors.ts';

const MAX_ANSWER = 4 * 1024 * 1024;

export interface ControlTarget {
  socketPath: string;
  token: string;
  /** for messages: "local host of prod/checkout" */
  name: string;
}

export function controlRequest<T>(t: ControlTarget, method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const unavailable = (why: string) =>
      new DomainError('unavailable', `${t.name}: ${method} ${path} ${why}`, { field: 'host', fix: `check ${t.socketPath.replace(/control\.sock$/, 'host.log')}; ensure() starts the host again` });
    const req = http.request(
      {
        socketPath: t.socketPath,
        method,
        path,
        headers: { authorization: `Bearer ${t.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > MAX_ANSWER) req.destroy(new Error(`answered more than ${MAX_ANSWER} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return reject(unavailable(`answered HTTP ${res.statusCode} with a body that is not JSON`));
          }
          if ((res.statusCode ?? 500) < 300) return resolve(json as T);
          const err = (json as { error?: { code?: string; message?: string; field?: string | null; fix?: string | null } }).error ?? {};
          const code: ErrorCode = errorCodes.includes(err.code as ErrorCode) && err.code !== 'internal' ? (err.code as ErrorCode) : 'unavailable';
          reject(new DomainError(code, `${t.name}: ${err.message ?? `HTTP ${res.statusCode}`}`, { ...(err.field ? { field: err.field } : {}), ...(err.fix ? { fix: err.fix } : {}) }));
        });
        res.on('error', (e) => reject(unavailable(`failed: ${e.message}`)));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`got no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unavailable(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `failed: the host is not running (${e.code})` : `failed: ${e.message}`));
    });
    req.end(payload);
  });
}
