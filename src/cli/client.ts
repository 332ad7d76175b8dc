/** The CLI's HTTP client: server address and token from flags or environment; errors mapped back. */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DomainError, errorCodes, type ErrorCode } from '../domain/errors.ts';
import type { CliContext } from './command.ts';

export interface ClientOptions {
  server?: string;
  token?: string;
}

export const clientFlags = {
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export function createClient(opts: ClientOptions, ctx: CliContext) {
  const base = (opts.server ?? ctx.env['STAGEGATE_SERVER'] ?? 'http://127.0.0.1:7480').replace(/\/+$/, '');
  const token = opts.token ?? ctx.env['STAGEGATE_TOKEN'];
  if (!/^https?:\/\/[^\s]+$/.test(base)) {
    throw new DomainError('invalid_input', `server address "${base.slice(0, 100)}" is not an http(s) URL`, { fix: 'pass --server http://HOST:PORT or set STAGEGATE_SERVER' });
  }

  async function request(method: string, path: string, init: { json?: unknown; body?: RequestInit["body"]; text?: boolean } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
        ...(init.body ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (e) {
      throw new DomainError('unavailable', `cannot reach the stagegate server at ${base}: ${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message) : (e as Error).message}`, {
        fix: 'start it with `stagegate serve`, or point --server / STAGEGATE_SERVER at it',
      });
    }
    if (!res.ok) {
      const text = await res.text();
      let err: { code?: string; message?: string; details?: Record<string, unknown> } = {};
      try {
        err = (JSON.parse(text) as { error: typeof err }).error ?? {};
      } catch {
        err = { message: text.slice(0, 500) };
      }
      const code = (errorCodes as readonly string[]).includes(err.code ?? '') ? (err.code as ErrorCode) : 'internal';
      throw new DomainError(code, err.message ?? `server answered ${res.status}`, err.details ?? {});
    }
    return res;
  }

  return {
    base,
    async get<T>(path: string): Promise<T> {
      return (await (await request('GET', path)).json()) as T;
    },
    async text(path: string): Promise<string> {
      return (await request('GET', path)).text();
    },
    async stream(path: string): Promise<Response> {
      return request('GET', path);
    },
    async send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, json?: unknown): Promise<T> {
      return (await (await request(method, path, { json })).json()) as T;
    },
    /** stream a file to the blob store */
    async upload(digest: string, file: string): Promise<{ digest: string; size: number; created: boolean }> {
      const body = Readable.toWeb(createReadStream(file, { highWaterMark: 1024 * 1024 })) as unknown as RequestInit["body"];
      return (await (await request('PUT', `/v1/blobs/${digest}`, { body })).json()) as { digest: string; size: number; created: boolean };
    },
  };
}
export type Client = ReturnType<typeof createClient>;
