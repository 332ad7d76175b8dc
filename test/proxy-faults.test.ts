/**
 * Weighted proxy faults over real loopback sockets: injected latency and errors counted per version,
 * backend 5xx counted, a refused connection retried once on another version for GET (not for POST),
 * and the per-version circuit breaker that opens, shifts traffic, goes half-open and closes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, test } from 'node:test';
import { createWeightedProxy, type ProxyEvent, type WeightedProxyOptions } from '../src/rollout/proxy/proxy.ts';
import { closeClientAgent, memoryLogger, refusedUrl, request, startBackend, type TestBackend } from './helpers/proxy-backends.ts';

const cleanups: (() => Promise<void>)[] = [];
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  assert.ok(cond(), 'condition not reached within 5 s');
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  closeClientAgent();
});

async function setup(urls: Record<string, string | null>, weights: Record<string, number>, extra: Partial<WeightedProxyOptions> = {}) {
  const backends: Record<string, TestBackend> = {};
  const list: { version: string; url: string }[] = [];
  for (const [version, url] of Object.entries(urls)) {
    if (url === null) {
      const b = await startBackend(version);
      backends[version] = b;
      cleanups.push(b.close);
      list.push({ version, url: b.url });
    } else list.push({ version, url });
  }
  const events: ProxyEvent[] = [];
  const logger = memoryLogger();
  const proxy = await createWeightedProxy({ backends: list, weights, logger, clock: () => new Date(), onEvent: (e) => events.push(e), ...extra });
  cleanups.push(proxy.close);
  return { proxy, backends, events, logger };
}

test('injected errors and latency are counted per version; clearing them restores the version', async () => {
  let n = 0;
  const { proxy } = await setup({ v1: null, v2: null }, { v1: 50, v2: 50 }, { random: () => (n++ % 4) / 4 });
  proxy.inject('v2', { errorRate: 0.5, latencyMs: 30 });
  const replies = await Promise.all(Array.from({ length: 40 }, () => request(proxy.url, '/')));
  const byVersion = (v: string, status: number) => replies.filter((r) => r.version === v && r.status === status).length;
  assert.equal(byVersion('v1', 200), 20);
  assert.equal(byVersion('v2', 503), 10, 'random() < 0.5 for half of the draws');
  assert.equal(byVersion('v2', 200), 10);
  assert.match(replies.find((r) => r.status === 503)!.body, /injected fault for version v2 \(errorRate 0\.5\)/);
  const s = proxy.stats();
  assert.deepEqual([s.versions['v1']!.requests, s.versions['v1']!.errors], [20, 0]);
  assert.deepEqual([s.versions['v2']!.requests, s.versions['v2']!.errors, s.versions['v2']!.errorRate], [20, 10, 0.5]);
  assert.ok(s.versions['v2']!.latencyMs.p50 >= 29, `injected latency shows in v2's p50 (${s.versions['v2']!.latencyMs.p50} ms)`);
  assert.ok(s.versions['v1']!.latencyMs.p50 < s.versions['v2']!.latencyMs.p50);
  assert.equal(s.versions['v2']!.health, 'closed', 'injected faults do not trip the breaker by default');
  assert.equal(s.totals.failed, 10);
  proxy.inject('v2', {});
  proxy.resetStats();
  const again = await Promise.all(Array.from({ length: 10 }, () => request(proxy.url, '/')));
  assert.ok(again.every((r) => r.status === 200));
  assert.equal(proxy.stats().versions['v2']!.errors, 0);
});

test('backend 5xx responses pass through and count as errors of that version', async () => {
  const { proxy } = await setup({ v1: null }, { v1: 100 });
  assert.equal((await request(proxy.url, '/?status=500')).status, 500);
  assert.equal((await request(proxy.url, '/?status=404')).status, 404);
  const v = proxy.stats().versions['v1']!;
  assert.deepEqual([v.requests, v.errors], [2, 1]);
});

test('a refused connection is retried once on another version for GET and HEAD, not for POST', async () => {
  const dead = await refusedUrl();
  const { proxy, events } = await setup({ v1: null, v2: dead }, { v1: 50, v2: 50 }, { breaker: { consecutiveFailures: 1000 } });
  const gets = await Promise.all(Array.from({ length: 20 }, () => request(proxy.url, '/')));
  assert.ok(gets.every((r) => r.status === 200 && r.version === 'v1'), 'every GET served by v1');
  assert.equal((await request(proxy.url, '/', { method: 'HEAD' })).status, 200);
  const posts = await Promise.all(Array.from({ length: 4 }, () => request(proxy.url, '/', { method: 'POST', body: 'x' })));
  const failed = posts.filter((r) => r.status === 502);
  assert.equal(failed.length, 2, 'the POSTs routed to v2 fail (not idempotent)');
  assert.equal(failed[0]!.version, 'v2');
  assert.match(failed[0]!.body, /version v2 at http:\/\/127\.0\.0\.1:\d+ failed before responding \(ECONNREFUSED\); the request is not a bodiless GET or HEAD, so it is not retried/);
  const s = proxy.stats();
  assert.ok(s.totals.retries >= 10);
  assert.equal(s.versions['v2']!.errors, s.versions['v2']!.requests);
  assert.ok(events.some((e) => e.type === 'retry' && /retried on v1/.test(e.message)));
});

test('with no other version to retry on, GET gets a 502 that says why', async () => {
  const { proxy } = await setup({ v1: await refusedUrl() }, { v1: 100 });
  const r = await request(proxy.url, '/');
  assert.equal(r.status, 502);
  assert.match(r.body, /version v1 .* failed before responding \(ECONNREFUSED\); no other healthy version can serve it/);
});

test('the breaker opens after consecutive failures, shifts traffic, goes half-open and closes', async () => {
  const { proxy, backends, events, logger } = await setup({ v1: null, v2: null }, { v1: 50, v2: 50 }, { breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 } });
  backends['v2']!.setStatus(500);
  const first = [];
  for (let i = 0; i < 20; i++) first.push(await request(proxy.url, '/'));
  const fromV2 = first.filter((r) => r.version === 'v2');
  assert.equal(fromV2.length, 3, 'v2 gets exactly 3 requests, then its breaker is open');
  assert.ok(first.slice(6).every((r) => r.version === 'v1' && r.status === 200), 'after the breaker opened, v1 serves everything');
  const s = proxy.stats();
  assert.equal(s.versions['v2']!.health, 'open');
  assert.equal(s.versions['v2']!.errors, 3);
  assert.ok(events.some((e) => e.type === 'breaker-open' && e.version === 'v2' && /its traffic goes to the other versions/.test(e.message)));
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /circuit breaker of version v2 opened/.test(l.msg)));
  backends['v2']!.setStatus(null);
  await sleep(350);
  const after = [];
  for (let i = 0; i < 10; i++) after.push(await request(proxy.url, '/'));
  assert.ok(after.every((r) => r.status === 200));
  assert.ok(after.some((r) => r.version === 'v2'), 'v2 gets traffic again');
  assert.deepEqual(events.filter((e) => e.version === 'v2' && e.type.startsWith('breaker')).map((e) => e.type), ['breaker-open', 'breaker-half-open', 'breaker-closed']);
  assert.equal(proxy.stats().versions['v2']!.health, 'closed');
});

test('a breaker that opens on the only weighted version falls back to a weight-0 version', async () => {
  const { proxy, backends } = await setup({ v1: null, v2: null }, { v1: 0, v2: 100 }, { breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
  backends['v2']!.setStatus(503);
  const replies = [];
  for (let i = 0; i < 6; i++) replies.push(await request(proxy.url, '/'));
  assert.deepEqual(replies.map((r) => `${r.status} ${r.version}`), ['503 v2', '503 v2', '200 v1', '200 v1', '200 v1', '200 v1']);
  assert.equal(proxy.stats().totals.fallbacks, 4);
});

test('a client that goes away counts as aborted, not as a failure of the version', async () => {
  const { proxy } = await setup({ v1: null }, { v1: 100 });
  await new Promise<void>((resolve) => {
    const req = http.get(`${proxy.url}/?delay=300`, () => undefined);
    req.on('error', () => resolve());
    setTimeout(() => req.destroy(), 50);
  });
  await until(() => proxy.stats().totals.aborted === 1);
  const s = proxy.stats();
  assert.deepEqual([s.totals.failed, s.versions['v1']!.errors, s.versions['v1']!.health], [0, 0, 'closed']);
});

test('a backend that dies mid-response cuts the client connection and counts as an error', async () => {
  const dying = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((r) => dying.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise((r) => dying.close(() => r())));
  const { proxy } = await setup({ v1: `http://127.0.0.1:${(dying.address() as { port: number }).port}` }, { v1: 100 });
  await assert.rejects(request(proxy.url, '/'), /aborted|socket hang up|ECONNRESET/);
  await until(() => proxy.stats().totals.failed === 1);
  assert.equal(proxy.stats().versions['v1']!.errors, 1);
});
