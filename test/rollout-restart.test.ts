/**
 * A server killed (SIGKILL) in the middle of a canary: the local host keeps serving, so no request
 * through the proxy fails; the restarted server resumes the rollout at its stored step, and the audit
 * log shows every step done exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, type Fixture, startServerProcess, waitTerminal } from './helpers/fixture.ts';
import { makeLocalFixture, releaseToProd, shutdownLocalHost } from './helpers/rollout-fixture.ts';

const rollout = `    rollout:
      strategy: canary
      steps:
        - setWeight: 25
        - pause: { duration: 3s }
        - setWeight: 50
        - pause: { duration: 1s }
        - setWeight: 75
      scaleDownDelay: 0s`;

describe('a server restart in the middle of a rollout', () => {
  let fx: Fixture;
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;

  before(async () => {
    fx = await makeLocalFixture(rollout);
  });
  after(async () => {
    server?.proc.kill('SIGKILL');
    await shutdownLocalHost(fx);
    fx.cleanup();
  });

  test('resumes at the stored step, loses no request and runs no step twice', async () => {
    server = await startServerProcess(fx);
    let call = api(server.url, server.token);
    const release = (version: string) => releaseToProd(fx, call, version);
    assert.equal((await waitTerminal(call, await release('1.0.0'), 60_000)).state, 'Succeeded');
    const url = (await call('GET', '/v1/rollouts/checkout/prod')).json.traffic.url as string;

    // steady load through the proxy for the whole test
    const load = { on: true, ok: 0, failed: [] as string[] };
    const loop = (async () => {
      while (load.on) {
        try {
          const res = await fetch(`${url}/`);
          await res.text();
          if (res.status === 200) load.ok++;
          else load.failed.push(`${res.status}`);
        } catch (e) {
          load.failed.push(String(e));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const id = await release('1.1.0');
    // wait for the first timed pause, then kill the server without warning
    for (let i = 0; ; i++) {
      const s = (await call('GET', '/v1/rollouts/checkout/prod')).json;
      if (s.rollout?.canaryVersion === '1.1.0' && s.rollout.stepIndex === 2) break;
      assert.ok(i < 600, `never reached the pause: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    server.proc.kill('SIGKILL');
    await new Promise((r) => server!.proc.once('exit', r));
    const okBefore = load.ok;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(load.ok > okBefore, 'the proxy kept serving while the server was down');

    server = await startServerProcess(fx);
    call = api(server.url, server.token);
    const done = await waitTerminal(call, id, 60_000);
    assert.equal(done.state, 'Succeeded', done.message);
    load.on = false;
    await loop;
    assert.deepEqual(load.failed, []);

    const entries: any[] = [];
    for (let from = 0; ; from += 1000) {
      const page = (await call('GET', `/v1/audit/entries?from=${from}&limit=1000`)).json.entries as any[];
      entries.push(...page.map((e) => e.entry));
      if (page.length < 1000) break;
    }
    const steps = entries.filter((e) => e.action === 'rollout.step' && e.subject === `promotion:${id}`).map((e) => e.details.step);
    assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6], 'each step once, in order');
    assert.equal(entries.filter((e) => e.action === 'rollout.started' && e.subject === `promotion:${id}`).length, 1);
    const s = (await call('GET', '/v1/rollouts/checkout/prod')).json;
    assert.deepEqual(s.traffic.weights, { '1.1.0': 100 });
  });
});
