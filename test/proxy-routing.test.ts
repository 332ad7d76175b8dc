/**
 * Weighted proxy routing over real loopback sockets: weights 0/100 and 10/90 (exact over 2,000
 * requests), header routes, the X-Stagegate-Version header, request bodies, bounded headers, and
 * refused inputs that leave the proxy unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDomainError } from '../src/domain/errors.ts';
import { createWeightedProxy, type WeightedProxy } from '../src/rollout/proxy/proxy.ts';
import { closeClientAgent, memoryLogger, request, startBackend, type TestBackend } from './helpers/proxy-backends.ts';

const clock = () => new Date('2026-11-26T12:00:00Z');

describe('weighted proxy routing', () => {
  let v1: TestBackend;
  let v2: TestBackend;
  let proxy: WeightedProxy;
  const events: string[] = [];
  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    proxy = await createWeightedProxy({
      backends: [
        { version: 'v1', url: v1.url },
        { version: 'v2', url: v2.url },
      ],
      weights: { v1: 100 },
      headerRoutes: [{ header: 'X-Canary', value: 'always', version: 'v2' }],
      logger: memoryLogger(),
      clock,
      onEvent: (e) => events.push(`${e.type} ${e.message}`),
    });
  });
  after(async () => {
    await proxy.close();
    closeClientAgent();
    await v1.close();
    await v2.close();
  });

  const count = async (n: number, headers?: Record<string, string>) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await request(proxy.url, '/hello', headers ? { headers } : {});
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body) as { version: string };
      assert.equal(r.version, body.version, 'X-Stagegate-Version names the version that served (the backend cannot spoof it)');
      counts[body.version] = (counts[body.version] ?? 0) + 1;
    }
    return counts;
  };

  test('weights 100/0 and 0/100 send everything to one version', async () => {
    assert.deepEqual(await count(50), { v1: 50 });
    proxy.setWeights({ v1: 0, v2: 100 });
    assert.deepEqual(await count(50), { v2: 50 });
    assert.ok(events.includes('weights-changed weights v1=100, v2=0 -> v1=0, v2=100'), events.join('\n'));
  });

  test('10/90 over 2,000 requests is within 2 percentage points (smooth WRR: exact)', async () => {
    proxy.setWeights({ v1: 90, v2: 10 });
    proxy.resetStats();
    const counts = await count(2000);
    const share = (counts['v2'] ?? 0) / 2000;
    assert.ok(Math.abs(share - 0.1) <= 0.02, `v2 share ${share}`);
    assert.deepEqual(counts, { v1: 1800, v2: 200 });
    const s = proxy.stats();
    assert.equal(s.versions['v1']!.requests, 1800);
    assert.equal(s.versions['v2']!.requests, 200);
    assert.equal(s.totals.requests, 2000);
    assert.equal(s.versions['v1']!.latencyMs.count, 1800);
    assert.ok(s.versions['v1']!.latencyMs.p99 >= s.versions['v1']!.latencyMs.p50);
    assert.equal(s.at, '2026-11-26T12:00:00.000Z');
  });

  test('a header route wins over the weights; other values and headers follow the weights', async () => {
    proxy.setWeights({ v1: 100 });
    assert.deepEqual(await count(20, { 'x-canary': 'always' }), { v2: 20 });
    assert.deepEqual(await count(5, { 'x-canary': 'never' }), { v1: 5 });
    proxy.setHeaderRoutes([{ header: 'x-version', value: 'one', version: 'v1' }]);
    proxy.setWeights({ v2: 100 });
    assert.deepEqual(await count(5, { 'x-version': 'one' }), { v1: 5 });
    assert.deepEqual(await count(5, { 'x-canary': 'always' }), { v2: 5 });
  });

  test('a header route to a draining version answers 503 naming the route (strict preview route)', async () => {
    proxy.setWeights({ v2: 100 });
    await proxy.drain('v1', 1000);
    const r = await request(proxy.url, '/', { headers: { 'x-version': 'one' } });
    assert.equal(r.status, 503);
    assert.match(r.body, /header route x-version: one -> version v1, but v1 is draining/);
    proxy.undrain('v1');
    assert.equal((await request(proxy.url, '/', { headers: { 'x-version': 'one' } })).version, 'v1');
  });

  test('request bodies, methods and paths stream through unchanged', async () => {
    const body = 'x'.repeat(200_000);
    const r = await request(proxy.url, '/upload?q=1', { method: 'PUT', body, headers: { 'x-test': 'kept', 'content-type': 'text/plain' } });
    assert.equal(r.status, 200);
    const got = JSON.parse(r.body) as { method: string; path: string; body: string; header: string };
    assert.deepEqual([got.method, got.path, got.body.length, got.header], ['PUT', '/upload', 200_000, 'kept']);
  });

  test('a request head over the bound gets 431 and reaches no backend', async () => {
    const before = v1.served() + v2.served();
    const r = await request(proxy.url, '/', { headers: { 'x-big': 'y'.repeat(20_000) } });
    assert.equal(r.status, 431);
    assert.equal(v1.served() + v2.served(), before);
  });

  test('bad weights, routes, faults and versions are refused with a clear error and change nothing', async () => {
    proxy.setWeights({ v1: 30, v2: 70 });
    const refused = (fn: () => unknown, code: string, message: RegExp) =>
      assert.throws(fn, (e: unknown) => isDomainError(e) && e.code === code && message.test(e.message) && typeof e.details.fix === 'string');
    refused(() => proxy.setWeights({ v1: 30, v2: 60 }), 'invalid_input', /weights must sum to 100, got 90/);
    refused(() => proxy.setWeights({ v1: 30, v3: 70 }), 'invalid_input', /weights\.v3: unknown version "v3"/);
    refused(() => proxy.setWeights({ v1: 30.5, v2: 69.5 }), 'invalid_input', /must be an integer from 0 to 100/);
    refused(() => proxy.setHeaderRoutes([{ header: 'x', value: 'y', version: 'v9' }]), 'invalid_input', /headerRoutes\[0\]\.version: unknown version "v9"/);
    refused(() => proxy.setHeaderRoutes([{ header: 'bad header', value: 'y', version: 'v1' }]), 'invalid_input', /headerRoutes\[0\]\.header: must be an HTTP header name/);
    refused(() => proxy.inject('v1', { errorRate: 1.5 }), 'invalid_input', /inject\(v1\)\.errorRate/);
    refused(() => proxy.inject('v9', { latencyMs: 1 }), 'not_found', /no backend with version "v9"; versions: v1, v2/);
    await assert.rejects(proxy.drain('v9', 10), /no backend with version "v9"/);
    await assert.rejects(proxy.removeBackend('v1'), (e: unknown) => isDomainError(e) && e.code === 'conflict' && /still has weight 30/.test(e.message));
    refused(() => proxy.addBackend({ version: 'v1', url: v1.url }), 'conflict', /version "v1" is already a backend/);
    refused(() => proxy.addBackend({ version: 'v3', url: 'https://example.org' }), 'invalid_input', /backend\.url: must be an http:\/\/ URL/);
    assert.deepEqual(proxy.weights(), { v1: 30, v2: 70 });
    assert.deepEqual(Object.keys(proxy.stats().versions), ['v1', 'v2']);
  });
});

test('createWeightedProxy refuses bad options before listening', async () => {
  const v1 = await startBackend('v1');
  try {
    const base = { logger: memoryLogger(), clock };
    await assert.rejects(createWeightedProxy({ ...base, backends: [], weights: {} }), /backends: needs at least one backend/);
    await assert.rejects(createWeightedProxy({ ...base, backends: [{ version: 'v1', url: v1.url }], weights: { v1: 50 } }), /weights must sum to 100, got 50/);
    await assert.rejects(createWeightedProxy({ ...base, backends: [{ version: 'v 1', url: v1.url }], weights: { 'v 1': 100 } }), /backends\[0\]\.version: must start with a letter or digit/);
    await assert.rejects(createWeightedProxy({ ...base, backends: [{ version: 'v1', url: v1.url }], weights: { v1: 100 }, breaker: { consecutiveFailures: 0 } }), /options\.breaker\.consecutiveFailures/);
  } finally {
    await v1.close();
  }
});

test('a port in use is refused with a clear error; a pino logger keeps its `this`', async () => {
  const v1 = await startBackend('v1');
  const lines: string[] = [];
  const logger = {
    prefix: 'pino-like',
    info(this: { prefix: string }, _o: object, msg: string) {
      lines.push(`${this.prefix} ${msg}`);
    },
    warn(this: { prefix: string }, _o: object, msg: string) {
      lines.push(`${this.prefix} ${msg}`);
    },
  };
  const first = await createWeightedProxy({ backends: [{ version: 'v1', url: v1.url }], weights: { v1: 100 }, logger, clock });
  try {
    assert.ok(lines.includes('pino-like weights (none) -> v1=100'), lines.join('\n'));
    const port = Number(new URL(first.url).port);
    await assert.rejects(
      createWeightedProxy({ backends: [{ version: 'v1', url: v1.url }], weights: { v1: 100 }, logger, clock, listen: { port } }),
      (e: unknown) => isDomainError(e) && e.code === 'unavailable' && /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/.test(e.message),
    );
  } finally {
    await first.close();
    await v1.close();
  }
});
