/**
 * Child process of the proxy benchmark: two loopback HTTP backends, v1 and v2, answering a small JSON
 * body after `?delay=MS`, counting what each served (an independent count for the weight accuracy).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveOps } from './proxy-ipc.ts';

const counts: Record<string, number> = { v1: 0, v2: 0 };

async function start(version: string): Promise<string> {
  const body = JSON.stringify({ version, ok: true, padding: 'x'.repeat(200) });
  const server = http.createServer((req, res) => {
    const q = req.url?.indexOf('delay=') ?? -1;
    const delay = q < 0 ? 0 : Number(req.url!.slice(q + 6)) || 0;
    const answer = () => {
      counts[version]! += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    req.resume();
    req.on('end', () => (delay > 0 ? setTimeout(answer, delay) : answer()));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const urls = { v1: await start('v1'), v2: await start('v2') };
serveOps({
  urls: () => urls,
  counts: () => ({ ...counts }),
  resetCounts: () => {
    counts['v1'] = 0;
    counts['v2'] = 0;
    return null;
  },
});
