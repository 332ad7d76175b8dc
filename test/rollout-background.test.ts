/**
 * Background analysis watches a canary for the whole rollout, pauses included: a faulty canary waiting
 * at a manual pause is rolled back without anyone promoting or aborting it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type api, waitTerminal } from './helpers/fixture.ts';
import { errorRateTemplate, releaseToProd, startLocalApp } from './helpers/rollout-fixture.ts';

const rollout = `    rollout:
      strategy: canary
      steps:
        - setWeight: 40
        - pause: {}
      analysis: { templates: [error-rate], startingStep: 1 }
      scaleDownDelay: 0s`;

describe('background analysis of a canary', () => {
  let app: Awaited<ReturnType<typeof startLocalApp>>;
  let call: ReturnType<typeof api>;
  before(async () => {
    app = await startLocalApp(rollout, errorRateTemplate({ interval: '300ms', failureLimit: 1 }));
    call = app.call;
  });
  after(() => app.close());

  test('a faulty canary at a manual pause is rolled back by the background analysis', async () => {
    assert.equal((await waitTerminal(call, await releaseToProd(app.fx, call, '1.0.0'), 60_000)).state, 'Succeeded');
    const url = (await call('GET', '/v1/rollouts/checkout/prod')).json.traffic.url as string;
    let on = true;
    const load = (async () => {
      while (on) {
        await fetch(`${url}/`).then((r) => r.text()).catch(() => '');
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const id = await releaseToProd(app.fx, call, '1.1.0', { failRate: 0.8 });
    const done = await waitTerminal(call, id, 60_000);
    on = false;
    await load;
    assert.equal(done.state, 'RolledBack', done.message);
    assert.match(done.message, /background analysis Failed: error-rate/);
    const s = (await call('GET', '/v1/rollouts/checkout/prod')).json;
    assert.deepEqual(s.traffic.weights, { '1.0.0': 100 });
    assert.equal(s.rollout.stepIndex, 2, 'the rollout was at its manual pause when the analysis decided');
  });
});
