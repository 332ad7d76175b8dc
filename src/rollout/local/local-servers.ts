/**
 * Two small in-host HTTP servers on 127.0.0.1: the placeholder backend that answers 503 while no
 * version takes traffic (the weighted proxy needs at least one backend), and the balancer that
 * spreads one version's requests round-robin over its ready instances when it has replicas > 1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<LocalServer> {
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const text = (res: http.ServerResponse, status: number, body: string): void => {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

export function startPlaceholder(what: string): Promise<LocalServer> {
  const body = `stagegate local host: no version of ${what} is ready to take traffic\n`;
  return listen(http.createServer((req, res) => req.resume().on('end', () => text(res, 503, body))));
}

export function startBalancer(version: string, readyPorts: () => number[]): Promise<LocalServer> {
  const proxy = createProxyServer({});
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  let next = 0;
  const server = http.createServer((req, res) => {
    const ports = readyPorts();
    if (ports.length === 0) return text(res, 503, `stagegate local host: no instance of version ${version} is ready\n`);
    const port = ports[next++ % ports.length]!;
    proxy.web(req, res, { target: `http://127.0.0.1:${port}`, agent }, (err) => text(res, 502, `stagegate local host: instance of ${version} on port ${port} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}\n`));
  });
  return listen(server).then((s) => ({
    url: s.url,
    close: async () => {
      await s.close();
      agent.destroy();
    },
  }));
}
