/**
 * End to end on the `local` target: real child processes behind the local host's proxy, a canary with
 * weight steps, analysis over the proxy's own counters, a pause a person promotes, verification through
 * the proxy with injected latency, and an automatic rollback of a faulty release (code and config).
 * A request loop runs through the proxy the whole time: no request may fail except the faulty
 * version's own 500s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type api, waitTerminal } from './helpers/fixture.ts';
import { errorRateTemplate, releaseToProd, startLocalApp, untilRollout } from './helpers/rollout-fixture.ts';

const rollout = `    rollout:
      strategy: canary
      steps:
        - setWeight: 25
        - analysis: { templates: [error-rate] }
        - setWeight: 50
        - pause: {}
      scaleDownDelay: 1s
    verification:
      command: ["node", "smoke.js"]
      inject: { latency: 20ms }
      analysis: { templates: [error-rate] }`;
const templates = errorRateTemplate({ interval: '300ms', count: 4, failureLimit: 1 });

describe('canary rollout on the local target', () => {
  let app: Awaited<ReturnType<typeof startLocalApp>>;
  let call: ReturnType<typeof api>;
  const load = { on: false, ok: 0, failed: [] as string[], byVersion: new Map<string, number>() };
  let loop: Promise<void> | undefined;

  before(async () => {
    app = await startLocalApp(rollout, templates);
    call = app.call;
  });
  after(async () => {
    load.on = false;
    await loop;
    await app.close();
  });

  const through = (version: string, opts: { failRate?: number } = {}) => releaseToProd(app.fx, call, version, opts);
  const status = async () => (await call('GET', '/v1/rollouts/checkout/prod')).json;
  const until = (what: string, pred: (s: any) => boolean) => untilRollout(call, what, pred);
  const startLoad = (url: string) => {
    load.on = true;
    loop = (async () => {
      while (load.on) {
        try {
          const res = await fetch(`${url}/`);
          const v = res.headers.get('x-stagegate-version') ?? '?';
          const body = await res.text();
          if (res.status === 200) load.ok++;
          else if (!body.includes('injected bug')) load.failed.push(`${res.status} ${v}: ${body.slice(0, 100)}`);
          load.byVersion.set(v, (load.byVersion.get(v) ?? 0) + 1);
        } catch (e) {
          load.failed.push(String(e));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  };

  test('first release goes all at once; a good one is canaried, promoted, verified; a faulty one is rolled back', async () => {
    const first = await through('1.0.0');
    const done1 = await waitTerminal(call, first, 60_000);
    assert.equal(done1.state, 'Succeeded', done1.message);
    const s1 = await status();
    assert.equal(s1.rollout.strategy, 'canary');
    assert.deepEqual(s1.traffic.weights, { '1.0.0': 100 });
    startLoad(s1.traffic.url);

    // 1.1.0: canary steps, analysis passes, pause until promoted, verification through the proxy
    const second = await through('1.1.0');
    const paused = await until('the pause', (s) => s.rollout.canaryVersion === '1.1.0' && s.rollout.phase === 'Paused');
    assert.deepEqual(paused.traffic.weights, { '1.0.0': 50, '1.1.0': 50 });
    assert.equal(paused.analysis[0].phase, 'Successful');
    assert.ok(load.byVersion.get('1.1.0')! > 0, 'the canary got traffic');
    const promoted = await call('POST', '/v1/rollouts/checkout/prod/promote', { reason: 'looks good' });
    assert.equal(promoted.status, 202, promoted.text);
    const done2 = await waitTerminal(call, second, 60_000);
    assert.equal(done2.state, 'Succeeded', done2.message);
    const s2 = await status();
    assert.deepEqual(s2.traffic.weights, { '1.1.0': 100 });
    assert.match(s2.analysis.find((a: any) => a.label === 'verification').message, /tests succeeded/);
    assert.ok(!s2.traffic.versions.some((v: any) => v.version === '1.0.0' && v.phase === 'ready'), 'the old version was scaled down');

    // 1.2.0 fails half its requests: the step analysis fails and traffic goes back to 1.1.0
    const third = await through('1.2.0', { failRate: 0.5 });
    const done3 = await waitTerminal(call, third, 60_000);
    assert.equal(done3.state, 'RolledBack', done3.message);
    assert.match(done3.message, /rolled back to 1\.1\.0 .*error-rate/);
    const s3 = await status();
    assert.deepEqual(s3.traffic.weights, { '1.1.0': 100 });
    const res = await fetch(`${s3.traffic.url}/`);
    assert.match(await res.text(), /^checkout 1\.1\.0/);

    load.on = false;
    await loop;
    assert.deepEqual(load.failed, [], 'no request failed except the faulty version\'s own 500s');
    assert.ok(load.ok > 50, `the load loop ran (${load.ok} ok)`);

    // the audit log tells the story
    const actions: string[] = [];
    for (let from = 0; ; from += 1000) {
      const page = (await call('GET', `/v1/audit/entries?from=${from}&limit=1000`)).json.entries as any[];
      actions.push(...page.map((e) => e.entry.action));
      if (page.length < 1000) break;
    }
    for (const a of ['rollout.started', 'rollout.step', 'rollout.analysis', 'rollout.paused', 'rollout.promote', 'rollout.verified', 'rollout.rolled-back']) {
      assert.ok(actions.includes(a), `audit has ${a}`);
    }
  });

  test('bad commands are refused with a reason and audited; unknown service/env are 404', async () => {
    const r = await call('POST', '/v1/rollouts/checkout/prod/promote', {});
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.error.message, /has ended/);
    assert.equal((await call('GET', '/v1/rollouts/nope/prod')).status, 404);
    assert.equal((await call('GET', '/v1/rollouts/checkout/nope')).status, 404);
    assert.equal((await call('POST', '/v1/rollouts/checkout/prod/abort', { bogus: 1 })).status, 400);
    assert.equal((await call('POST', '/v1/rollouts/checkout/prod/abort', { reason: 'x'.repeat(2000) })).status, 400);
  });
});
