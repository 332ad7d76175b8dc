// The sample "checkout" service: a tiny HTTP server. GET /healthz answers ok; GET / shows the
// configuration it was released with. Listens on $PORT (default 8080). Dependency-free ESM.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const config = readFileSync(new URL('./config/app.yaml', import.meta.url), 'utf8');
const version = process.env.STAGEGATE_VERSION ?? 'dev';
const port = Number(process.env.PORT ?? 8080);
// the payment provider answers within 0-40 ms; a timeout below that fails some checkouts (504)
const paymentTimeoutMs = Number(/^paymentTimeoutMs:\s*(\d+)/m.exec(config)?.[1] ?? 3000);

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version }));
    return;
  }
  if (req.url === '/') {
    if (Math.random() * 40 > paymentTimeoutMs) {
      res.writeHead(504, { 'content-type': 'text/plain' });
      res.end(`checkout ${version}: payment provider timed out after ${paymentTimeoutMs} ms\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`checkout ${version}\n${config}`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});
server.listen(port, () => console.log(`checkout ${version} listening on :${server.address().port}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
