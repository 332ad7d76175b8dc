/**
 * Blue-green on the local target: the new stack answers only the preview header until a person
 * promotes, then gets all traffic at once; a post-promotion analysis failure switches back. Also: a
 * canary that cannot start (crash loop) and one whose readiness probe hangs end Failed/RolledBack with
 * the reason, and an abort during a pause rolls back at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { api, Fixture } from './helpers/fixture.ts';
import { push, waitTerminal } from './helpers/fixture.ts';
import { errorRateTemplate, makeServiceRelease, promoteToProd, releaseToProd, startLocalApp, untilRollout } from './helpers/rollout-fixture.ts';

const rollout = `    rollout:
      strategy: blueGreen
      autoPromotion: false
      postPromotionAnalysis: { templates: [error-rate] }
      scaleDownDelay: 1s`;
const templates = errorRateTemplate({ interval: '300ms', count: 3, initialDelay: '300ms' });

describe('blue-green rollout on the local target', () => {
  let app: Awaited<ReturnType<typeof startLocalApp>>;
  let fx: Fixture;
  let call: ReturnType<typeof api>;

  before(async () => {
    app = await startLocalApp(rollout, templates);
    ({ fx, call } = app);
  });
  after(() => app.close());

  const release = (version: string, opts: { failRate?: number } = {}) => releaseToProd(fx, call, version, opts);
  const status = async () => (await call('GET', '/v1/rollouts/checkout/prod')).json;
  const until = (what: string, pred: (s: any) => boolean) => untilRollout(call, what, pred);
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/`, { headers });
    return { status: res.status, version: res.headers.get('x-stagegate-version'), body: await res.text() };
  };

  test('preview, promote, switch; a bad post-promotion analysis switches back', async () => {
    assert.equal((await waitTerminal(call, await release('1.0.0'), 60_000)).state, 'Succeeded');

    const id2 = await release('2.0.0');
    const paused = await until('the preview pause', (s) => s.rollout.canaryVersion === '2.0.0' && s.rollout.phase === 'Paused');
    const url = paused.traffic.url;
    assert.equal((await get(url)).version, '1.0.0', 'without the header: the blue stack');
    assert.equal((await get(url, { 'x-stagegate-preview': '1' })).version, '2.0.0', 'with the preview header: the green stack');
    assert.equal((await call('POST', '/v1/rollouts/checkout/prod/promote', {})).status, 202);
    assert.equal((await waitTerminal(call, id2, 60_000)).state, 'Succeeded');
    assert.equal((await get(url)).version, '2.0.0');

    // 3.0.0 fails every request: after the switch the analysis fails and traffic switches back
    const id3 = await release('3.0.0', { failRate: 1 });
    await until('the preview pause', (s) => s.rollout.canaryVersion === '3.0.0' && s.rollout.phase === 'Paused');
    assert.equal((await call('POST', '/v1/rollouts/checkout/prod/promote', {})).status, 202);
    const load = (async () => {
      for (let i = 0; i < 200; i++) {
        await get(url).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const done = await waitTerminal(call, id3, 60_000);
    await load;
    assert.equal(done.state, 'RolledBack', done.message);
    assert.match(done.message, /post-promotion analysis Failed/);
    assert.equal((await get(url)).version, '2.0.0');
  });

  test('abort during the preview pause rolls back at once and is audited with the reason', async () => {
    const id = await release('4.0.0');
    await until('the preview pause', (s) => s.rollout.canaryVersion === '4.0.0' && s.rollout.phase === 'Paused');
    const t0 = Date.now();
    const r = await call('POST', '/v1/rollouts/checkout/prod/abort', { reason: 'wrong build' });
    assert.equal(r.status, 202, r.text);
    const done = await waitTerminal(call, id, 30_000);
    assert.equal(done.state, 'RolledBack');
    assert.match(done.message, /aborted by .*admin/);
    assert.ok(Date.now() - t0 < 15_000);
    const s = await status();
    assert.deepEqual(s.traffic.weights, { '2.0.0': 100 });
  });

  test('a canary that crashes at start ends RolledBack naming the exit; the stable keeps serving', async () => {
    const rel = await makeServiceRelease(fx, '5.0.0');
    // a build whose server exits at once
    const { writeFile } = await import('node:fs/promises');
    await writeFile(rel.artifact, 'console.error("boom: missing DATABASE_URL"); process.exit(3);\n');
    const { createRelease } = await import('../src/engine/release-create.ts');
    const { readFile } = await import('node:fs/promises');
    const bad = { ...(await createRelease({ service: 'checkout', version: '5.0.1', artifacts: [rel.artifact], images: [], configDir: rel.configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') })), artifact: rel.artifact, configDir: rel.configDir };
    assert.equal((await push(call, bad)).status, 201);
    const done = await waitTerminal(call, await promoteToProd(call, '5.0.1'), 60_000);
    assert.equal(done.state, 'RolledBack', done.message);
    assert.match(done.message, /5\.0\.1 did not become ready/);
    assert.match(done.message, /exit|code 3|boom/);
    const s = await status();
    assert.deepEqual(s.traffic.weights, { '2.0.0': 100 });
  });
});
