/**
 * Analysis outcomes decide a canary on the local target, against a real loopback metric endpoint:
 * Inconclusive pauses for a person (retry measures again), promote --full skips what is left, a
 * metric endpoint answering garbage or timing out is an Error that rolls back with the reason.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type api, waitTerminal } from './helpers/fixture.ts';
import { releaseToProd, startLocalApp, untilRollout } from './helpers/rollout-fixture.ts';

const rollout = `    rollout:
      strategy: canary
      steps:
        - setWeight: 20
        - analysis: { templates: [latency-slo] }
        - pause: {}
      scaleDownDelay: 0s`;
const templates = (port: number) => `
analysis:
  templates:
    latency-slo:
      metrics:
        - name: slo-burn
          interval: 200ms
          count: 2
          successCondition: result < 0.05
          failureCondition: result > 0.2
          consecutiveErrorLimit: 1
          provider:
            web: { url: "http://127.0.0.1:${port}/burn?version={{args.canary}}", jsonPath: "$.value", timeout: 400ms }
`;

describe('analysis outcomes in a canary', () => {
  let app: Awaited<ReturnType<typeof startLocalApp>>;
  let call: ReturnType<typeof api>;
  let metrics: Server;
  let mode: 'good' | 'meh' | 'garbage' | 'hang' = 'good';
  const seen: string[] = [];

  before(async () => {
    metrics = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (mode === 'hang') return; // never answers
      if (mode === 'garbage') {
        res.end('<html>oops</html>');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ value: mode === 'good' ? 0.01 : 0.1 }));
    });
    await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
    app = await startLocalApp(rollout, templates((metrics.address() as AddressInfo).port));
    call = app.call;
  });
  after(async () => {
    await app.close();
    metrics.closeAllConnections();
    metrics.close();
  });

  const release = (version: string) => releaseToProd(app.fx, call, version);
  const until = (what: string, pred: (s: any) => boolean) => untilRollout(call, what, pred);

  test('inconclusive pauses; retry measures again; promote --full finishes', async () => {
    assert.equal((await waitTerminal(call, await release('1.0.0'), 60_000)).state, 'Succeeded');
    mode = 'meh';
    const id = await release('1.1.0');
    const paused = await until('the inconclusive pause', (s) => s.rollout.canaryVersion === '1.1.0' && s.rollout.phase === 'Paused');
    assert.match(paused.rollout.pauseReason, /inconclusive/);
    assert.equal(paused.rollout.stepIndex, 2, 'paused at the analysis step');
    assert.deepEqual(paused.traffic.weights, { '1.0.0': 80, '1.1.0': 20 });
    assert.ok(seen.some((u) => u === '/burn?version=1.1.0'), 'the canary version was passed as an argument');

    mode = 'good';
    assert.equal((await call('POST', '/v1/rollouts/checkout/prod/retry', { reason: 'metrics fixed' })).status, 202);
    const atPause = await until('the manual pause', (s) => s.rollout.phase === 'Paused' && s.rollout.stepIndex === 3);
    assert.equal(atPause.analysis.at(-1).phase, 'Successful');
    const full = await call('POST', '/v1/rollouts/checkout/prod/promote', { full: true });
    assert.equal(full.status, 202, full.text);
    assert.equal((await waitTerminal(call, id, 60_000)).state, 'Succeeded');
  });

  test('a metric endpoint answering garbage is an Error: rolled back, naming the metric', async () => {
    mode = 'garbage';
    const done = await waitTerminal(call, await release('1.2.0'), 60_000);
    assert.equal(done.state, 'RolledBack', done.message);
    assert.match(done.message, /slo-burn/);
    assert.match(done.message, /Error/);
    const s = (await call('GET', '/v1/rollouts/checkout/prod')).json;
    assert.deepEqual(s.traffic.weights, { '1.1.0': 100 });
  });

  test('a metric endpoint that never answers times out: an Error, rolled back', async () => {
    mode = 'hang';
    const done = await waitTerminal(call, await release('1.3.0'), 60_000);
    assert.equal(done.state, 'RolledBack', done.message);
    assert.match(done.message, /slo-burn.*(time|abort)/i);
  });
});
