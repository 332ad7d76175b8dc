/**
 * The `webhook` target behind the Target interface with callbacks, over real loopback sockets: a
 * receiver that answers pending and calls back (success, failure), a forged callback (401, the
 * waiter untouched), unknown deliveries and bad bodies, a callback that never comes (timed out),
 * adopt after a restart re-sending with the same delivery id, and a secret missing from the
 * server's environment (a clear error that names the variable and never holds the secret).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DomainError } from '../src/domain/errors.ts';
import type { StepFacts } from '../src/rollout/target.ts';
import { type CallbackHub, createCallbackHub } from '../src/rollout/targets/webhook/callbacks.ts';
import { type WebhookTargetConfig, normalizeWebhookTarget, webhookTargetSchema } from '../src/rollout/targets/webhook/config.ts';
import { signRequest, verifySignature } from '../src/rollout/targets/webhook/sign.ts';
import { createWebhookTarget } from '../src/rollout/targets/webhook/webhook-target.ts';
import { statusOf } from '../src/server/http.ts';
import { webhookCallbackRoutes } from '../src/server/routes/webhook-callbacks.ts';

const SECRET = 'callback-shared-secret-0123456789';
const D = (c: string) => `sha256:${c.repeat(64)}`;
const clock = () => new Date();
const logs: unknown[] = [];
const logger = { info: (...a: unknown[]) => void logs.push(a), warn: (...a: unknown[]) => void logs.push(a) };

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}
type Handler = (s: Seen, res: ServerResponse) => void;

const listen = (s: Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
const close = (s: Server) => new Promise((r) => s.close(r).closeAllConnections());
const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** a stagegate-side HTTP server with only the callback route, errors mapped like the real server */
function stagegateServer(hub: CallbackHub): Server {
  const [route] = webhookCallbackRoutes(hub);
  return createServer(async (req, res) => {
    const m = route && req.method === route.method ? route.pattern.exec(req.url ?? '') : null;
    if (!route || !m) return json(res, 404, { error: { code: 'not_found' } });
    try {
      const reply = await route.handler({ req, params: { ...m.groups }, query: new URLSearchParams(), ctx: { actor: 'anonymous', requestDigest: null }, body: Buffer.alloc(0), json: async () => undefined as never });
      json(res, reply.status, 'json' in reply ? reply.json : {});
    } catch (e) {
      const err = e as DomainError;
      json(res, e instanceof DomainError ? statusOf[err.code] : 500, { error: { code: err.code, message: err.message } });
    }
  });
}

/** what a receiver does to report an outcome: a signed POST to the callbackUrl */
async function callBack(url: string, body: unknown, secret = SECRET, override: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = { ...signRequest(secret, text), 'content-type': 'application/json', ...override };
  const res = await fetch(url, { method: 'POST', headers, body: text });
  return { status: res.status, body: (await res.json()) as { error?: { message: string }; received?: boolean } };
}

let dir: string;
let receiver: Server;
let receiverUrl = '';
let handler: Handler = (_s, res) => res.end();
let seen: Seen[] = [];
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-webhook-cb-'));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers };
      seen.push(s);
      handler(s, res);
    });
  });
  receiverUrl = await listen(receiver);
});
after(async () => {
  await close(receiver);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
});

const config = (over: Partial<WebhookTargetConfig> = {}): WebhookTargetConfig => ({
  name: 'deploy-bot', type: 'webhook', url: `${receiverUrl}/deploy`, secretEnv: 'SG_TEST_HOOK_SECRET',
  timeoutMs: 5_000, retries: 1, poll: { intervalMs: 100, deadlineMs: 20_000 }, callback: true, ...over,
});

async function facts(promotionId: string): Promise<StepFacts> {
  const artifactsDir = join(dir, `a-${n++}`);
  await rm(artifactsDir, { recursive: true, force: true });
  await mkdir(artifactsDir, { recursive: true });
  await writeFile(join(artifactsDir, 'effective-config.json'), JSON.stringify({ document: { config: { port: 1 } }, digest: D('c') }));
  return {
    promotionId, service: 'checkout', version: '1.2.0', releaseId: D('a'), environment: 'prod', artifactsDir,
    subjects: [
      { name: 'checkout.tar.gz', kind: 'artifact', digest: D('b') },
      { name: 'ghcr.io/acme/checkout', kind: 'image', digest: D('d') },
    ],
    secrets: { DB_PASSWORD: 'never-sent-canary-0123456789' },
  };
}

/** a hub, the stagegate server around it, and a target that publishes that server's URL */
async function setup(over: Partial<WebhookTargetConfig> = {}, secrets: Record<string, string> = { SG_TEST_HOOK_SECRET: SECRET }) {
  const hub = createCallbackHub({ clock });
  const server = stagegateServer(hub);
  const publicUrl = await listen(server);
  const target = createWebhookTarget({ config: config(over), secretFromEnv: (k) => secrets[k], callbacks: hub, publicUrl, clock, logger });
  return { hub, target, publicUrl, close: () => close(server) };
}

/** answer the POST with pending, then call back after it (as a real deploy bot would) */
const pendingThenCallBack = (outcome: Record<string, unknown>, before?: (url: string) => Promise<void>): Handler => (s, res) => {
  json(res, 202, { status: 'pending' });
  const body = JSON.parse(s.body) as { callbackUrl: string; deliveryId: string };
  setTimeout(async () => {
    await before?.(body.callbackUrl);
    await callBack(body.callbackUrl, { deliveryId: body.deliveryId, ...outcome });
  }, 20);
};

describe('webhook target with callbacks', () => {
  test('pending, then a signed callback: succeeded; the request carries callbackUrl, digests and no secret', async () => {
    const s = await setup();
    try {
      handler = pendingThenCallBack({ status: 'succeeded', message: 'rolled out 3/3' });
      assert.equal(s.target.has('deploy'), true);
      assert.equal(s.target.has('verify'), false);
      const data = await s.target.prepare('deploy', await facts('prm_ok'));
      const out = await (await s.target.launch(data)).wait();
      assert.equal(out.status, 'succeeded', out.message);
      assert.match(out.message, /called back: succeeded: rolled out 3\/3/);
      const [post] = seen;
      assert.ok(post);
      assert.deepEqual(verifySignature(SECRET, post.headers, post.body), { ok: true, deliveryId: 'prm_ok-deploy' });
      const body = JSON.parse(post.body);
      assert.equal(body.callbackUrl, `${s.publicUrl}/v1/callbacks/webhook/prm_ok-deploy`);
      assert.equal(body.deliveryId, 'prm_ok-deploy');
      assert.equal(body.configDigest, D('c'));
      assert.deepEqual(body.artifacts, [
        { name: 'checkout.tar.gz', digest: D('b'), kind: 'artifact' },
        { name: 'ghcr.io/acme/checkout', digest: D('d'), kind: 'image' },
      ]);
      for (const text of [post.body, data, out.message, out.outputTail]) {
        assert.ok(!text.includes(SECRET) && !text.includes('never-sent-canary'));
      }
      // the delivery is over: a late callback is 404
      assert.equal((await callBack(body.callbackUrl, { deliveryId: 'prm_ok-deploy', status: 'failed' })).status, 404);
    } finally {
      await s.close();
    }
  });

  test('a failure callback fails the step with the receiver message', async () => {
    const s = await setup();
    try {
      handler = pendingThenCallBack({ status: 'failed', message: 'image pull backoff' });
      const out = await (await s.target.launch(await s.target.prepare('deploy', await facts('prm_bad')))).wait();
      assert.equal(out.status, 'failed');
      assert.match(out.message, /called back: failed: image pull backoff/);
    } finally {
      await s.close();
    }
  });

  test('forged, unknown and malformed callbacks are refused and leave the waiter untouched', async () => {
    const s = await setup();
    const answers: Record<string, number> = {};
    try {
      handler = pendingThenCallBack({ status: 'succeeded', message: 'the real one' }, async (url) => {
        const id = 'prm_forge-deploy';
        answers['wrong secret'] = (await callBack(url, { deliveryId: id, status: 'failed' }, 'attacker-secret-0123456789abc')).status;
        answers['changed body'] = (await callBack(url, { deliveryId: id, status: 'failed' }, SECRET, { 'X-Stagegate-Signature': signRequest(SECRET, '{}')['X-Stagegate-Signature'] ?? '' })).status;
        answers['old timestamp'] = (await callBack(url, { deliveryId: id, status: 'failed' }, SECRET, { 'X-Stagegate-Timestamp': '1000' })).status;
        answers['unknown delivery'] = (await callBack(url.replace('prm_forge-deploy', 'prm_other-deploy'), { deliveryId: 'prm_other-deploy', status: 'failed' })).status;
        answers['not json'] = (await callBack(url, 'status=failed')).status;
        answers['bad status'] = (await callBack(url, { deliveryId: id, status: 'done' })).status;
        answers['other delivery in body'] = (await callBack(url, { deliveryId: 'prm_other-deploy', status: 'failed' })).status;
        answers['too large'] = (await callBack(url, { deliveryId: id, status: 'failed', message: 'x'.repeat(20_000) })).status;
        const bad = await callBack(url, { deliveryId: id, status: 'failed' }, 'attacker-secret-0123456789abc');
        answers['no secret echoed'] = bad.body.error?.message.includes(SECRET) ? 1 : 0;
        answers.pending = (await callBack(url, { deliveryId: id, status: 'pending', message: '1/3' })).status;
      });
      const out = await (await s.target.launch(await s.target.prepare('deploy', await facts('prm_forge')))).wait();
      assert.deepEqual(answers, {
        'wrong secret': 401, 'changed body': 401, 'old timestamp': 401, 'unknown delivery': 404, 'not json': 400,
        'bad status': 400, 'other delivery in body': 400, 'too large': 413, 'no secret echoed': 0, pending: 200,
      });
      assert.equal(out.status, 'succeeded', out.message);
      assert.match(out.message, /the real one/);
    } finally {
      await s.close();
    }
  });

  test('no callback and nothing to poll: timed out at the deadline, naming the receiver', async () => {
    const s = await setup({ poll: { intervalMs: 100, deadlineMs: 400 } });
    try {
      handler = (_s, res) => json(res, 202, { status: 'pending' });
      const out = await (await s.target.launch(await s.target.prepare('deploy', await facts('prm_silent')))).wait();
      assert.equal(out.status, 'failed');
      assert.match(out.message, new RegExp(`^timed out: no callback or final status within 400ms; check the receiver at ${receiverUrl}/deploy \\(delivery prm_silent-deploy\\)`));
    } finally {
      await s.close();
    }
  });

  test('polling still works beside callbacks: the first final answer wins', async () => {
    const s = await setup();
    try {
      handler = (q, res) => (q.method === 'POST' ? json(res, 202, { status: 'pending', statusUrl: '/status/1' }) : json(res, 200, { status: 'succeeded', message: 'polled' }));
      const out = await (await s.target.launch(await s.target.prepare('deploy', await facts('prm_poll')))).wait();
      assert.equal(out.status, 'succeeded', out.message);
      assert.match(out.message, /reported success at .*\/status\/1: polled/);
    } finally {
      await s.close();
    }
  });

  test('adopt after a restart re-sends with the same delivery id and takes the callback', async () => {
    const first = await setup();
    const data = await first.target.prepare('deploy', await facts('prm_restart'));
    await first.close(); // the server died after recording the step
    const second = await setup();
    try {
      handler = pendingThenCallBack({ status: 'succeeded', message: 'deduplicated by delivery id' });
      const out = await (await second.target.adopt(data)).wait();
      assert.equal(out.status, 'succeeded', out.message);
      const [post] = seen;
      assert.ok(post);
      assert.equal(post.headers['x-stagegate-delivery'], 'prm_restart-deploy');
      assert.equal(JSON.parse(post.body).callbackUrl, `${second.publicUrl}/v1/callbacks/webhook/prm_restart-deploy`);
      // and it is the same delivery id a launch uses
      assert.equal(JSON.parse(data).deliveryId, 'prm_restart-deploy');
    } finally {
      await second.close();
    }
  });

  test('a secret missing from, or too short in, the environment fails naming the variable, never the value', async () => {
    for (const [value, want] of [
      [undefined, /environment variable SG_TEST_HOOK_SECRET is not set; set SG_TEST_HOOK_SECRET in the environment of the stagegate server/],
      ['short-s3cr3t', /environment variable SG_TEST_HOOK_SECRET holds 12 characters, not 16 to 1024/],
    ] as const) {
      const s = await setup({}, value === undefined ? {} : { SG_TEST_HOOK_SECRET: value });
      try {
        const out = await (await s.target.launch(await s.target.prepare('deploy', await facts('prm_nosecret')))).wait();
        assert.equal(out.status, 'failed');
        assert.match(out.message, /^deploy not started: webhook target deploy-bot: /);
        assert.match(out.message, want);
        if (value) assert.ok(!out.message.includes(value) && !out.outputTail.includes(value));
        assert.equal(seen.length, 0, 'nothing was sent');
      } finally {
        await s.close();
      }
    }
  });

  test('without a public URL no callbackUrl is sent', async () => {
    const hub = createCallbackHub({ clock });
    const target = createWebhookTarget({ config: config(), secretFromEnv: () => SECRET, callbacks: hub, clock, logger });
    handler = (_s, res) => json(res, 200, { status: 'succeeded' });
    const out = await (await target.launch(await target.prepare('deploy', await facts('prm_nourl')))).wait();
    assert.equal(out.status, 'succeeded', out.message);
    assert.equal(JSON.parse(seen[0]?.body ?? '{}').callbackUrl, undefined);
  });
});

describe('webhook target config', () => {
  test('defaults and normalization; the secret is a variable name, never a value', () => {
    const parsed = webhookTargetSchema.parse({ type: 'webhook', url: 'https://deploy.example.com/hook', secretEnv: 'DEPLOY_HOOK_SECRET', poll: { interval: '10s' } });
    assert.deepEqual(normalizeWebhookTarget('bot', parsed), {
      name: 'bot', type: 'webhook', url: 'https://deploy.example.com/hook', secretEnv: 'DEPLOY_HOOK_SECRET', timeoutMs: 10_000, retries: 3,
      poll: { intervalMs: 10_000, deadlineMs: 1_800_000 }, callback: true,
    });
    const problem = (over: Record<string, unknown>) => {
      const r = webhookTargetSchema.safeParse({ type: 'webhook', url: 'https://d.example/h', secretEnv: 'X', ...over });
      assert.equal(r.success, false);
      return `${r.error?.issues[0]?.path.join('.')}: ${r.error?.issues[0]?.message}`;
    };
    assert.match(problem({ secretEnv: 'my secret value' }), /^secretEnv: an environment variable name/);
    assert.match(problem({ secret: 'abcdefabcdefabcdef' }), /secret/);
    assert.match(problem({ url: 'ftp://x' }), /^url: an http\(s\) URL/);
    assert.match(problem({ url: 'https://user:pw@d.example/h' }), /^url: an http\(s\) URL without user-info/);
    assert.match(problem({ poll: { deadline: '0s' } }), /^poll\.deadline: duration "0s" must be from 1s to 1d/);
    assert.match(problem({ retries: 11 }), /^retries: /);
  });
});
