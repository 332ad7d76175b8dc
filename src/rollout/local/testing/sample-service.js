// A tiny HTTP service for the `local` target's tests and the demo (plain Node, no dependencies).
// Listens on 127.0.0.1:$PORT. GET /healthz -> {status:'ok'}; any other path -> {version, config, pid}
// where config is ./effective-config.json (cwd) if present; `?delay=MS` delays the answer.
// Env: SAMPLE_FAIL_RATE (0..1) answers that share of requests with 500; SAMPLE_CRASH_AFTER_MS exits(1)
// after that time; SAMPLE_HANG_HEALTH=1 makes /healthz never answer; SAMPLE_HEALTH_FAIL_FILE=path
// makes /healthz answer 503 while that file exists; SAMPLE_IGNORE_SIGTERM=1 ignores SIGTERM;
// SAMPLE_SPAWN_GRANDCHILD=1 spawns a sleeping grandchild (which ignores SIGTERM) and prints its pid.
// On SIGTERM it stops accepting, finishes in-flight requests, then exits 0.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const version = process.env.STAGEGATE_VERSION ?? 'dev';
const port = Number(process.env.PORT ?? 8080);
const failRate = Number(process.env.SAMPLE_FAIL_RATE ?? 0);
let config = null;
try {
  config = JSON.parse(readFileSync('effective-config.json', 'utf8'));
} catch {
  // no config file: config stays null
}

const send = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') {
    if (process.env.SAMPLE_HANG_HEALTH === '1') return; // never answers
    const sick = process.env.SAMPLE_HEALTH_FAIL_FILE && existsSync(process.env.SAMPLE_HEALTH_FAIL_FILE);
    return send(res, sick ? 503 : 200, { status: sick ? 'sick' : 'ok', version });
  }
  const delay = Math.min(Number(url.searchParams.get('delay') ?? 0) || 0, 600_000);
  setTimeout(() => {
    if (failRate > 0 && Math.random() < failRate) return send(res, 500, { error: 'injected by SAMPLE_FAIL_RATE', version });
    send(res, 200, { version, config, pid: process.pid });
  }, delay);
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => console.log(`sample-service ${version} listening on 127.0.0.1:${port}`));

if (process.env.SAMPLE_CRASH_AFTER_MS) {
  setTimeout(() => {
    console.error(`sample-service ${version}: crashing on purpose (SAMPLE_CRASH_AFTER_MS)`);
    process.exit(1);
  }, Number(process.env.SAMPLE_CRASH_AFTER_MS));
}
if (process.env.SAMPLE_SPAWN_GRANDCHILD === '1') {
  const g = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1e9)"], { stdio: 'ignore' });
  console.log(`grandchild pid ${g.pid}`);
}
process.on('SIGTERM', () => {
  if (process.env.SAMPLE_IGNORE_SIGTERM === '1') return console.log('SIGTERM ignored');
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
