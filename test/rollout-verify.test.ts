/**
 * Verification after a rollout on the local target: the test command runs against the proxy with the
 * injected latency; a failing test rolls back code and config together; an abort during a hanging test
 * rolls back at once; a test that prints a flood of output still leaves a bounded, readable message.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type api, waitTerminal } from './helpers/fixture.ts';
import { releaseToProd, startLocalApp } from './helpers/rollout-fixture.ts';

const rollout = `    rollout:
      strategy: allAtOnce
      scaleDownDelay: 30s
    verification:
      command: ["node", "vcheck.js"]
      inject: { latency: 150ms }`;

// pass: one request must take the injected latency; fail: prints a lot, exits 1; hang: never ends
const vcheck = `import { readFileSync } from 'node:fs';
const mode = readFileSync(new URL('./vcheck.mode', import.meta.url), 'utf8').trim();
if (mode === 'hang') setInterval(() => {}, 1000);
else if (mode === 'fail') { console.error('x'.repeat(20000)); console.error('checkout returned the wrong total'); process.exit(1); }
else {
  const t0 = performance.now();
  const res = await fetch(process.env.STAGEGATE_URL + '/');
  const ms = performance.now() - t0;
  if (res.status !== 200 || ms < 140) { console.error('status', res.status, 'ms', ms); process.exit(1); }
  console.log('saw', Math.round(ms), 'ms through the proxy');
}
`;

describe('verification on the local target', () => {
  let app: Awaited<ReturnType<typeof startLocalApp>>;
  let call: ReturnType<typeof api>;
  let servingPromotion = '';
  const mode = (m: string) => writeFileSync(path.join(app.fx.projectDir, 'vcheck.mode'), m);

  before(async () => {
    app = await startLocalApp(rollout);
    call = app.call;
    writeFileSync(path.join(app.fx.projectDir, 'vcheck.js'), vcheck);
    mode('pass');
  });
  after(() => app.close());

  const release = (version: string, configNote?: string) => releaseToProd(app.fx, call, version, configNote ? { configNote } : {});
  const body = async () => {
    const s = (await call('GET', '/v1/rollouts/checkout/prod')).json;
    return (await fetch(`${s.traffic.url}/`)).text();
  };

  test('tests see the injected latency; a failing test rolls back code and config; output stays bounded', async () => {
    const first = await waitTerminal(call, await release('1.0.0', 'config of 1.0.0'), 60_000);
    assert.equal(first.state, 'Succeeded', first.message);
    servingPromotion = first.id;
    assert.match(first.message, /verified: tests succeeded/);

    mode('fail');
    const second = await waitTerminal(call, await release('1.1.0', 'config of 1.1.0'), 60_000);
    assert.equal(second.state, 'RolledBack', second.message);
    assert.match(second.message, /verification failed: tests failed/);
    assert.ok(second.message.length < 2000, `message is bounded (${second.message.length})`);
    const now = await body();
    assert.match(now, /^checkout 1\.0\.0/);
    assert.match(now, /config of 1\.0\.0/);
    assert.doesNotMatch(now, /config of 1\.1\.0/);
  });

  test('an abort during a hanging test rolls back without waiting for it', async () => {
    mode('hang');
    const id = await release('1.2.0');
    for (let i = 0; ; i++) {
      const p = (await call('GET', `/v1/promotions/${id}`)).json.promotion;
      if (p.state === 'Verifying') break;
      assert.ok(i < 600, `never reached Verifying: ${p.state} ${p.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const r = await call('POST', '/v1/rollouts/checkout/prod/abort', { reason: 'tests hang' });
    assert.equal(r.status, 202, r.text);
    const done = await waitTerminal(call, id, 30_000);
    assert.equal(done.state, 'RolledBack', done.message);
    assert.match(done.message, /aborted by .* during verification/);
    assert.ok(Date.now() - t0 < 10_000, `rolled back in ${Date.now() - t0} ms`);
    assert.match(await body(), /^checkout 1\.0\.0/);
  });

  test('drift: the local target reports what its serving version runs from; a hand edit is a finding', async () => {
    const clean = await call('GET', '/v1/drift/prod');
    assert.equal(clean.status, 200, clean.text);
    assert.equal(clean.json.observable, true);
    assert.equal(clean.json.findings.length, 0, JSON.stringify(clean.json.findings));
    writeFileSync(path.join(app.fx.dataDir, 'runs', servingPromotion, 'artifacts', 'server.js'), '// edited by hand\n', { flag: 'a' });
    const drifted = await call('GET', '/v1/drift/prod');
    assert.ok(drifted.json.findings.some((f: any) => JSON.stringify(f).includes('server.js')), JSON.stringify(drifted.json.findings));
  });
});
