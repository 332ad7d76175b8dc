/**
 * The webhook and gitops targets through the real server: dev deploys by a signed webhook whose
 * receiver answers "pending" and calls back (signed) to the server's public URL; staging deploys by a
 * commit to a real bare Git repository. A forged callback is refused and audited; the environment's
 * promotion names the commit and the callback.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { App } from '../src/app.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { signRequest, verifySignature } from '../src/rollout/targets/webhook/sign.ts';
import { api, type Fixture, makeFixture, push, startApp, waitTerminal } from './helpers/fixture.ts';

const run = promisify(execFile);
const SECRET = 'webhook-secret-for-tests-0123456789';
const IMAGE = `registry.example.com/shop/checkout@sha256:${'cd'.repeat(32)}`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('webhook and gitops targets through the server', () => {
  let fx: Fixture;
  let app: App;
  let call: ReturnType<typeof api>;
  let receiver: Server;
  let remote: string;
  const received: Array<{ ok: boolean; body: any }> = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        const v = verifySignature(SECRET, req.headers, body);
        const json = JSON.parse(body);
        received.push({ ok: v.ok, body: json });
        res.writeHead(v.ok ? 202 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'pending' }));
        if (!v.ok || !json.callbackUrl) return;
        const deliveryId = v.deliveryId ?? json.callbackUrl.split('/').at(-1);
        setTimeout(() => {
          const cb = JSON.stringify({ deliveryId, status: 'succeeded', message: `rolled out ${json.version}` });
          void fetch(json.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(SECRET, cb, { deliveryId }) }, body: cb });
        }, 200);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/deploy`;
    fx = await makeFixture((y) =>
      y
        .replace(
          /targets:\n/,
          `targets:
  hook:
    type: webhook
    url: ${hook}
    secretEnv: SG_TEST_WEBHOOK_SECRET
    poll: { deadline: 30s }
  git:
    type: gitops
    remote: gitops.git
`,
        )
        .replace(/(- name: dev\n\s+tier: dev\n\s+target: )local-exec/, '$1hook')
        .replace(/(- name: staging\n\s+tier: staging\n\s+target: )local-exec/, '$1git'),
    );
    remote = path.join(fx.projectDir, 'gitops.git');
    await run('git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
    process.env['SG_TEST_WEBHOOK_SECRET'] = SECRET;
    const port = await freePort();
    const s = await startApp(fx, { port, publicUrl: `http://127.0.0.1:${port}` });
    app = s.app;
    call = api(s.url, s.token);
  });
  after(async () => {
    await app.close();
    receiver.closeAllConnections();
    receiver.close();
    delete process.env['SG_TEST_WEBHOOK_SECRET'];
    fx.cleanup();
  });

  test('dev by signed webhook + callback, staging by a Git commit naming the promotion', async () => {
    const artifact = path.join(fx.projectDir, 'checkout', 'server.js');
    const configDir = path.join(fx.projectDir, 'checkout', 'config');
    const rel = await createRelease({ service: 'checkout', version: '1.0.0', artifacts: [artifact], images: [IMAGE], configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') });
    assert.equal((await push(call, { ...rel, artifact, configDir })).status, 201);

    const r = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' });
    const dev = await waitTerminal(call, r.json.promotion.id, 60_000);
    assert.equal(dev.state, 'Succeeded', dev.message);
    assert.match(dev.message, /called back: succeeded: rolled out 1\.0\.0/);
    assert.equal(received.length, 1);
    assert.ok(received[0]!.ok, 'the deployment request was signed with the shared secret');
    assert.equal(received[0]!.body.releaseId, rel.releaseId);
    assert.ok(!JSON.stringify(received[0]!.body).includes(SECRET));

    // a forged callback for the same delivery is refused and audited
    const forged = JSON.stringify({ deliveryId: `${dev.id}-deploy`, status: 'failed' });
    const bad = await call('POST', `/v1/callbacks/webhook/${dev.id}-deploy`, forged, signRequest('not-the-secret-0123456789abcdef', forged));
    assert.ok([401, 404].includes(bad.status), `${bad.status} ${bad.text}`);

    const r2 = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    const staging = await waitTerminal(call, r2.json.promotion.id, 60_000);
    assert.equal(staging.state, 'Succeeded', staging.message);
    const log = (await run('git', ['--git-dir', remote, 'log', '-1', '--format=%B', 'main'])).stdout;
    assert.match(log, new RegExp(`Promotion: ${staging.id}`));
    const files = (await run('git', ['--git-dir', remote, 'ls-tree', '-r', '--name-only', 'main'])).stdout;
    assert.match(files, /staging\/checkout\//);
    const manifests = (await run('git', ['--git-dir', remote, 'grep', '-h', 'image:', 'main'])).stdout;
    assert.match(manifests, new RegExp(IMAGE.replace(/[.]/g, '\\.')));
  });
});
