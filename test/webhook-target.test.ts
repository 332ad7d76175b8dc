/**
 * The webhook target against a real loopback HTTP receiver: signatures verify on the receiver side
 * (the bad cases are in src/rollout/targets/webhook/sign.test.ts), success, failure, 503 then success
 * with retries counted, 400 not retried, pending then polled, a hanging receiver, pending forever,
 * an abort, bounded error excerpts that never carry the secret.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { isDomainError } from '../src/domain/errors.ts';
import { deployViaWebhook, type Sleep } from '../src/rollout/targets/webhook/deliver.ts';
import type { WebhookOptionsInput } from '../src/rollout/targets/webhook/input.ts';
import { verifySignature } from '../src/rollout/targets/webhook/sign.ts';

const SECRET = 'test-shared-secret-0123456789';
const D = (c: string) => `sha256:${c.repeat(64)}`;
const request = {
  service: 'checkout',
  version: '1.2.0',
  releaseId: D('a'),
  promotionId: 'p-42',
  environment: 'prod',
  artifacts: [{ name: 'checkout.tar.gz', digest: D('b') }],
  configDigest: D('c'),
};

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
  verified: ReturnType<typeof verifySignature>;
}
type Handler = (req: Seen, res: ServerResponse, n: number) => void;

let server: Server;
let base = '';
let handler: Handler = (_q, res) => res.end();
let seen: Seen[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', body, headers: req.headers, verified: verifySignature(SECRET, req.headers, body) };
      seen.push(s);
      handler(s, res, seen.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen = [];
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** a fake clock that an injected sleep advances; records every sleep */
function fakeTime() {
  let t = Date.now();
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    t += ms;
  };
  return { clock: () => new Date(t), sleep, sleeps };
}

const opts = (extra: Partial<WebhookOptionsInput> = {}): WebhookOptionsInput => ({
  url: `${base}/deploy`,
  secret: SECRET,
  request,
  timeoutMs: 2_000,
  retries: 2,
  backoffMs: 10,
  ...extra,
});

describe('signatures', () => {
  test('the receiver verifies the delivery; the body is the request', async () => {
    handler = (_q, res) => json(res, 200, { status: 'succeeded' });
    await deployViaWebhook(opts(), { deliveryId: 'd-1' });
    const s = seen[0];
    assert.ok(s);
    assert.deepEqual(s.verified, { ok: true, deliveryId: 'd-1' });
    assert.equal(s.method, 'POST');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(s.body), { type: 'stagegate.deploy/v1', deliveryId: 'd-1', ...request });
    assert.match(String(s.headers['x-stagegate-signature']), /^sha256=[0-9a-f]{64}$/);
  });
});

describe('delivery', () => {
  test('immediate success', async () => {
    handler = (_q, res) => json(res, 200, { status: 'succeeded', message: 'deployed 1.2.0' });
    const out = await deployViaWebhook(opts());
    assert.equal(out.status, 'succeeded');
    assert.equal(out.attempts, 1);
    assert.match(out.message, /deployed 1\.2\.0/);
  });

  test('the receiver reports failure', async () => {
    handler = (_q, res) => json(res, 202, { status: 'failed', message: 'image pull error' });
    const out = await deployViaWebhook(opts());
    assert.equal(out.status, 'failed');
    assert.equal(out.attempts, 1);
    assert.match(out.message, /reported failure: image pull error/);
  });

  test('503 twice then success: retried with doubling backoff, same delivery id', async () => {
    handler = (_q, res, n) => (n <= 2 ? json(res, 503, 'busy') : json(res, 200, { status: 'succeeded' }));
    const t = fakeTime();
    const out = await deployViaWebhook(opts({ backoffMs: 100 }), t);
    assert.equal(out.status, 'succeeded');
    assert.equal(out.attempts, 3);
    assert.deepEqual(t.sleeps, [100, 200]);
    assert.equal(new Set(seen.map((s) => s.headers['x-stagegate-delivery'])).size, 1);
    assert.ok(seen.every((s) => s.verified.ok));
  });

  test('503 on every attempt: failed after 1 + retries, names the status', async () => {
    handler = (_q, res) => json(res, 503, 'down for maintenance');
    const out = await deployViaWebhook(opts({ retries: 1 }), fakeTime());
    assert.equal(out.status, 'failed');
    assert.equal(out.attempts, 2);
    assert.match(out.message, /after 2 attempt\(s\): HTTP 503 .*down for maintenance/);
  });

  test('400 is not retried; the message names status and a bounded excerpt without the secret', async () => {
    handler = (_q, res) => json(res, 400, `bad request: secret was ${SECRET} ${'x'.repeat(5000)}`);
    const t = fakeTime();
    const out = await deployViaWebhook(opts(), t);
    assert.equal(out.status, 'failed');
    assert.equal(out.attempts, 1);
    assert.equal(seen.length, 1);
    assert.deepEqual(t.sleeps, []);
    assert.match(out.message, /HTTP 400 from .*bad request.*not retried/);
    assert.ok(!out.message.includes(SECRET));
    assert.ok(out.message.length < 600, `message too long: ${out.message.length}`);
  });

  test('a redirect is not followed and not retried', async () => {
    handler = (_q, res) => {
      res.writeHead(302, { location: 'http://evil.example/deploy' });
      res.end();
    };
    const out = await deployViaWebhook(opts(), fakeTime());
    assert.equal(out.status, 'failed');
    assert.equal(out.attempts, 1);
    assert.match(out.message, /HTTP 302 .*not retried/);
  });

  test('a 2xx with a body that is not a status is failed, not retried', async () => {
    handler = (_q, res) => json(res, 200, { status: 'done' });
    const out = await deployViaWebhook(opts(), fakeTime());
    assert.equal(out.status, 'failed');
    assert.equal(out.attempts, 1);
    assert.match(out.message, /unusable body \(status: /);
  });

  test('a receiver that hangs: each attempt times out, retried, then timed-out with a clear message', async () => {
    handler = () => {}; // never answers
    const t = fakeTime();
    const out = await deployViaWebhook(opts({ timeoutMs: 40, retries: 2 }), t);
    assert.equal(out.status, 'timed-out');
    assert.equal(out.attempts, 3);
    assert.equal(seen.length, 3);
    assert.match(out.message, /after 3 attempt\(s\): no answer from .* within the timeout.*40 ms/);
  });

  test('nobody listening: connection errors retried, then failed', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const out = await deployViaWebhook(opts({ url: `http://127.0.0.1:${port}/deploy`, retries: 1 }), fakeTime());
    assert.equal(out.status, 'failed');
    assert.equal(out.attempts, 2);
    assert.match(out.message, /cannot connect to .*ECONNREFUSED/);
  });

  test('invalid options throw invalid_input without echoing the secret', async () => {
    await assert.rejects(deployViaWebhook({ ...opts(), secret: 'short' }), (e) => {
      assert.ok(isDomainError(e));
      assert.equal(e.code, 'invalid_input');
      assert.match(e.message, /secret/);
      assert.ok(!e.message.includes('short'));
      return true;
    });
    await assert.rejects(deployViaWebhook({ ...opts(), url: 'ftp://x' }), /url/);
    await assert.rejects(deployViaWebhook({ ...opts(), request: { ...request, releaseId: 'abc' } }), /request\.releaseId/);
  });
});

describe('polling', () => {
  test('pending then polled to success through the returned statusUrl (signed GETs)', async () => {
    handler = (q, res) => {
      if (q.method === 'POST') return json(res, 202, { status: 'pending', statusUrl: '/status/p-42' });
      const polls = seen.filter((s) => s.method === 'GET').length;
      return json(res, 200, polls < 3 ? { status: 'pending' } : { status: 'succeeded', message: 'all pods ready' });
    };
    const t = fakeTime();
    const out = await deployViaWebhook(opts({ poll: { intervalMs: 1_000, deadlineMs: 60_000 } }), t);
    assert.equal(out.status, 'succeeded');
    assert.equal(out.attempts, 1);
    assert.equal(out.polls, 3);
    assert.match(out.message, /all pods ready/);
    const gets = seen.filter((s) => s.method === 'GET');
    assert.ok(gets.every((g) => g.url === '/status/p-42' && g.body === '' && g.verified.ok));
    assert.deepEqual(t.sleeps, [1_000, 1_000, 1_000]);
  });

  test('the configured template is used when no statusUrl is returned; 5xx while polling is tolerated', async () => {
    handler = (q, res) => {
      if (q.method === 'POST') return json(res, 202, { status: 'pending' });
      const polls = seen.filter((s) => s.method === 'GET').length;
      return polls === 1 ? json(res, 502, 'gateway') : json(res, 200, { status: 'failed', message: 'rolled back' });
    };
    const out = await deployViaWebhook(opts({ poll: { statusUrl: `${base}/s/{promotionId}/{deliveryId}`, intervalMs: 10 } }), { ...fakeTime(), deliveryId: 'd 9' });
    assert.equal(out.status, 'failed');
    assert.equal(out.polls, 2);
    assert.match(out.message, /reported failure .*rolled back/);
    assert.equal(seen[1]?.url, '/s/p-42/d%209');
  });

  test('pending forever ends timed-out at the deadline', async () => {
    handler = (q, res) => json(res, q.method === 'POST' ? 202 : 200, { status: 'pending', statusUrl: `${base}/st`, message: 'waiting for capacity' });
    const t = fakeTime();
    const out = await deployViaWebhook(opts({ poll: { intervalMs: 300, deadlineMs: 1_000 } }), t);
    assert.equal(out.status, 'timed-out');
    assert.deepEqual(t.sleeps, [300, 300, 300, 100]);
    assert.equal(out.polls, 4);
    assert.match(out.message, /not finished after 1000 ms .*waiting for capacity/);
  });

  test('pending with nowhere to poll, or a statusUrl on another origin, is failed', async () => {
    handler = (_q, res) => json(res, 202, { status: 'pending' });
    const none = await deployViaWebhook(opts(), fakeTime());
    assert.equal(none.status, 'failed');
    assert.match(none.message, /no statusUrl and no poll\.statusUrl/);
    handler = (_q, res) => json(res, 202, { status: 'pending', statusUrl: 'http://evil.example/st' });
    const other = await deployViaWebhook(opts(), fakeTime());
    assert.equal(other.status, 'failed');
    assert.match(other.message, /same origin/);
    assert.equal(seen.filter((s) => s.method === 'GET').length, 0);
  });

  test('a 404 on the status URL ends it as failed, not retried', async () => {
    handler = (q, res) => (q.method === 'POST' ? json(res, 202, { status: 'pending', statusUrl: '/gone' }) : json(res, 404, 'no such delivery'));
    const out = await deployViaWebhook(opts({ poll: { intervalMs: 10 } }), fakeTime());
    assert.equal(out.status, 'failed');
    assert.equal(out.polls, 1);
    assert.match(out.message, /HTTP 404 .*no such delivery.*not retried/);
  });
});

describe('abort', () => {
  test('an abort while the receiver hangs ends it at once as aborted', async () => {
    handler = () => {};
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const out = await deployViaWebhook(opts({ timeoutMs: 5_000, retries: 5 }), { signal: ac.signal });
    assert.equal(out.status, 'aborted');
    assert.equal(out.attempts, 1);
    assert.match(out.message, /aborted by the caller/);
  });

  test('an abort while polling ends it as aborted; an already aborted signal sends nothing', async () => {
    handler = (q, res) => json(res, q.method === 'POST' ? 202 : 200, { status: 'pending', statusUrl: '/st' });
    const ac = new AbortController();
    const t = fakeTime();
    const sleep: Sleep = async (ms) => {
      await t.sleep(ms);
      if (t.sleeps.length === 2) ac.abort();
    };
    const out = await deployViaWebhook(opts({ poll: { intervalMs: 10 } }), { clock: t.clock, sleep, signal: ac.signal });
    assert.equal(out.status, 'aborted');
    assert.equal(out.polls, 1);
    seen = [];
    const pre = await deployViaWebhook(opts(), { signal: AbortSignal.abort() });
    assert.equal(pre.status, 'aborted');
    assert.equal(pre.attempts, 0);
    assert.equal(seen.length, 0);
  });
});
