// The sample "checkout" service: a tiny HTTP server. GET /healthz answers ok; GET / shows the
// configuration it was released with. Listens on $PORT (default 8080). Dependency-free ESM.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const config = readFileSync(new URL('./config/app.yaml', import.meta.url), 'utf8');
const version = process.env.STAGEGATE_VERSION ?? 'dev';
const port = Number(process.env.PORT ?? 8080);

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version }));
    return;
  }
  if (req.url === '/') {
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
