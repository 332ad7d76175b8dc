/**
 * Weighted proxy lifecycle over real loopback sockets: weight changes under concurrent load fail no
 * request, drain waits for in-flight requests (or times out), backends come and go, and close()
 * leaves no socket or handle open.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createWeightedProxy } from '../src/rollout/proxy/proxy.ts';
import { closeClientAgent, memoryLogger, request, startBackend } from './helpers/proxy-backends.ts';

const opts = { logger: memoryLogger(), clock: () => new Date() };
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('changing weights 10 -> 50 -> 100 -> 0 under concurrent load fails no request', { timeout: 60_000 }, async () => {
  const v1 = await startBackend('v1');
  const v2 = await startBackend('v2');
  const proxy = await createWeightedProxy({ ...opts, backends: [{ version: 'v1', url: v1.url }, { version: 'v2', url: v2.url }], weights: { v1: 90, v2: 10 } });
  try {
    let stop = false;
    const statuses: number[] = [];
    const worker = async () => {
      while (!stop) statuses.push((await request(proxy.url, '/?delay=2')).status);
    };
    const workers = Array.from({ length: 32 }, worker);
    for (const w of [50, 100, 0, 10, 100, 50]) {
      await sleep(150);
      proxy.setWeights({ v1: 100 - w, v2: w });
    }
    await sleep(150);
    const drain = proxy.drain('v1', 5000);
    await sleep(150);
    stop = true;
    await Promise.all(workers);
    assert.equal((await drain).drained, true);
    assert.ok(statuses.length > 100, `${statuses.length} requests`);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'no request failed');
    const s = proxy.stats();
    assert.equal(s.totals.failed, 0);
    assert.ok(s.versions['v1']!.requests > 0 && s.versions['v2']!.requests > 0);
    assert.equal(s.versions['v1']!.inFlight + s.versions['v2']!.inFlight, 0);
  } finally {
    await proxy.close();
    closeClientAgent();
    await v1.close();
    await v2.close();
  }
});

test('drain stops new requests to a version and resolves when its in-flight requests finish', async () => {
  const v1 = await startBackend('v1');
  const v2 = await startBackend('v2');
  const events: string[] = [];
  const proxy = await createWeightedProxy({ ...opts, backends: [{ version: 'v1', url: v1.url }, { version: 'v2', url: v2.url }], weights: { v1: 100 }, onEvent: (e) => events.push(e.type) });
  try {
    const slow = Array.from({ length: 3 }, () => request(proxy.url, '/?delay=300'));
    await until(() => proxy.stats().versions['v1']!.inFlight === 3, 'three requests in flight on v1');
    proxy.setWeights({ v2: 100 });
    const result = await proxy.drain('v1', 10_000);
    assert.equal(v1.served(), 3, 'drain resolved only after v1 answered the in-flight requests');
    assert.deepEqual([result.version, result.drained, result.inFlight], ['v1', true, 0]);
    assert.ok((await Promise.all(slow)).every((r) => r.status === 200 && r.version === 'v1'));
    proxy.setWeights({ v1: 100 });
    assert.equal((await request(proxy.url, '/')).version, 'v2', 'a draining version gets no new request even with weight 100');
    assert.deepEqual(events.filter((e) => e.startsWith('drain')), ['drain-started', 'drain-finished']);
    proxy.undrain('v1');
    const timedOut = request(proxy.url, '/?delay=1500');
    await until(() => proxy.stats().versions['v1']!.inFlight === 1, 'one request in flight on v1');
    const r2 = await proxy.drain('v1', 100);
    assert.deepEqual([r2.drained, r2.inFlight], [false, 1], 'drain resolves at its timeout and says how many are left');
    assert.equal((await timedOut).status, 200, 'a drain timeout does not cut the request');
  } finally {
    await proxy.close();
    closeClientAgent();
    await v1.close();
    await v2.close();
  }
});

test('backends are added with weight 0, removed after draining, and replaced atomically', async () => {
  const v1 = await startBackend('v1');
  const v2 = await startBackend('v2');
  const v3 = await startBackend('v3');
  const proxy = await createWeightedProxy({ ...opts, backends: [{ version: 'v1', url: v1.url }], weights: { v1: 100 } });
  try {
    proxy.addBackend({ version: 'v2', url: v2.url });
    assert.deepEqual(proxy.weights(), { v1: 100, v2: 0 });
    proxy.setWeights({ v1: 0, v2: 100 });
    assert.equal((await request(proxy.url, '/')).version, 'v2');
    const removed = await proxy.removeBackend('v1');
    assert.equal(removed.drained, true);
    assert.deepEqual(proxy.weights(), { v2: 100 });
    await until(async () => (await v1.connections()) === 0, "v1's keep-alive sockets closed");
    await proxy.setBackends([{ version: 'v2', url: v2.url }, { version: 'v3', url: v3.url }], { v2: 50, v3: 50 });
    const versions = new Set((await Promise.all(Array.from({ length: 10 }, () => request(proxy.url, '/')))).map((r) => r.version));
    assert.deepEqual([...versions].sort(), ['v2', 'v3']);
    await assert.rejects(proxy.setBackends([{ version: 'v3', url: v3.url }], { v2: 100 }), /weights\.v2: unknown version "v2"/);
    assert.deepEqual(proxy.weights(), { v2: 50, v3: 50 }, 'a refused setBackends changes nothing');
  } finally {
    await proxy.close();
    closeClientAgent();
    for (const b of [v1, v2, v3]) await b.close();
  }
});

test('close() finishes in-flight requests, then leaves no socket or handle open', async () => {
  await sleep(50);
  const baseline = tcpHandles();
  const v1 = await startBackend('v1');
  const proxy = await createWeightedProxy({ ...opts, backends: [{ version: 'v1', url: v1.url }], weights: { v1: 100 } });
  const clientAgent = new http.Agent({ keepAlive: true });
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      http.get(`${proxy.url}${path}`, { agent: clientAgent }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0))).on('error', reject);
    });
  try {
    await Promise.all(Array.from({ length: 8 }, () => get('/')));
    assert.ok((await v1.connections()) > 0, 'keep-alive sockets to the backend are open');
    const inflight = get('/?delay=200');
    await until(() => proxy.stats().versions['v1']!.inFlight === 1, 'one request in flight');
    await proxy.close();
    assert.equal(await inflight, 200, 'the in-flight request finished');
    await until(async () => (await v1.connections()) === 0, 'no socket from the proxy to the backend');
    await assert.rejects(get('/'), /ECONNREFUSED/, 'the proxy no longer listens');
  } finally {
    clientAgent.destroy();
    await proxy.close();
    await v1.close();
  }
  await until(() => tcpHandles() === baseline, `TCP handles back to ${baseline}`);
});
