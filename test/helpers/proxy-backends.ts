/**
 * In-process HTTP backends on loopback for the weighted proxy tests: each answers with its version,
 * honours `?delay=MS` and `?status=CODE`, echoes POST bodies, and counts the requests it served.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestBackend {
  version: string;
  url: string;
  served: () => number;
  /** force every response's status (null: back to ?status or 200) */
  setStatus: (status: number | null) => void;
  connections: () => Promise<number>;
  close: () => Promise<void>;
}

export async function startBackend(version: string): Promise<TestBackend> {
  let served = 0;
  let forced: number | null = null;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delay = Number(u.searchParams.get('delay') ?? 0);
      const status = forced ?? Number(u.searchParams.get('status') ?? 200);
      setTimeout(() => {
        served += 1;
        res.writeHead(status, { 'content-type': 'application/json', 'x-stagegate-version': 'spoofed' });
        res.end(JSON.stringify({ version, method: req.method, path: u.pathname, body: Buffer.concat(chunks).toString('utf8'), header: req.headers['x-test'] ?? null }));
      }, delay);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    version,
    url: `http://127.0.0.1:${port}`,
    served: () => served,
    setStatus: (s) => {
      forced = s;
    },
    connections: () => new Promise((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n)))),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** a loopback URL nothing listens on (connection refused) */
export async function refusedUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

export interface Reply {
  status: number;
  version: string | null;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** one request through `base` (keep-alive), resolved with status, X-Stagegate-Version and body */
export function request(base: string, path = '/', opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method: opts.method ?? 'GET', headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: (res.headers['x-stagegate-version'] as string | undefined) ?? null, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const closeClientAgent = (): void => agent.destroy();

/** a logger that keeps what was logged, to assert on */
export function memoryLogger() {
  const lines: { level: string; msg: string }[] = [];
  return { lines, info: (_o: object, msg: string) => void lines.push({ level: 'info', msg }), warn: (_o: object, msg: string) => void lines.push({ level: 'warn', msg }) };
}
