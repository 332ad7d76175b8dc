/**
 * One readiness probe: GET http://127.0.0.1:<port><path> with a deadline. 2xx and 3xx pass; an error,
 * another status or no answer within timeoutMs fails, with the reason in words.
 */
import http from 'node:http';

export interface ProbeResult {
  ok: boolean;
  why: string;
}

export function probe(port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: { 'user-agent': 'stagegate-local-probe' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done({ ok: status >= 200 && status < 400, why: `GET ${path} answered HTTP ${status}` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, why: `GET ${path} failed: ${e.code ?? e.message}` }));
    const timer = setTimeout(() => done({ ok: false, why: `GET ${path} timed out after ${timeoutMs} ms` }), timeoutMs);
  });
}

/** a free TCP port on 127.0.0.1 (listen on 0, read it, close) */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
