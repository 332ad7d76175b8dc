/**
 * Kill the server (SIGKILL) at many points while promotions run; start it again each time. Every
 * promotion must finish, every deploy and verify step must have run exactly once, no transition may
 * be recorded twice, and the audit log must still verify.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { api, type Fixture, makeFixture, makeRelease, push, startServerProcess } from './helpers/fixture.ts';

const slowStep = `
import { appendFileSync, mkdirSync } from 'node:fs';
const dir = process.env.STAGEGATE_STATE_DIR;
mkdirSync(dir, { recursive: true });
appendFileSync(dir + '/steps.log', process.env.STAGEGATE_PROMOTION_ID + ' ' + process.argv[2] + '\\n');
await new Promise((r) => setTimeout(r, 600));
console.log(process.argv[2] + ' done for ' + process.env.STAGEGATE_ENVIRONMENT);
`;

test('promotions survive server kills at any point; no step runs twice', { timeout: 240_000 }, async () => {
  const fx: Fixture = await makeFixture((y) =>
    y.replace('deploy: ["node", "deploy.js"]', 'deploy: ["node", "slow-step.js", "deploy"]').replace('verify: ["node", "verify.js"]', 'verify: ["node", "slow-step.js", "verify"]').replace('minSoak: 10s', 'minSoak: 0s'),
  );
  await writeFile(path.join(fx.projectDir, 'slow-step.js'), slowStep);
  let proc: ChildProcess | undefined;
  try {
    let s = await startServerProcess(fx);
    proc = s.proc;
    let call = api(s.url, s.token);
    const releases = ['1.0.0', '1.0.1', '1.0.2'];
    for (const v of releases) assert.equal((await push(call, await makeRelease(fx, v))).status, 201);

    // each release goes dev -> staging -> prod; requests are made as earlier stages succeed
    const stages = ['dev', 'staging', 'prod'];
    const next = new Map(releases.map((v) => [v, 0]));
    const current = new Map<string, string>();
    const done = new Map<string, string>();
    let kills = 0;
    const deadline = Date.now() + 200_000;
    while (done.size < releases.length * stages.length) {
      assert.ok(Date.now() < deadline, `not finished: ${[...current.entries()].join(', ')}`);
      for (const v of releases) {
        const i = next.get(v)!;
        const id = current.get(v);
        if (id) {
          const r = await call('GET', `/v1/promotions/${id}`);
          const state = r.json?.promotion?.state;
          if (['Succeeded', 'Failed', 'Aborted', 'RolledBack'].includes(state)) {
            assert.equal(state, 'Succeeded', `${id}: ${r.json.promotion.message}`);
            done.set(`${v}:${stages[i]}`, id);
            current.delete(v);
            next.set(v, i + 1);
          }
        } else if (i < stages.length) {
          const r = await call('POST', '/v1/promotions', { service: 'checkout', version: v, environment: stages[i] });
          assert.equal(r.status, 202, r.text);
          current.set(v, r.json.promotion.id);
        }
      }
      // kill at a pseudo-random moment, then start again on the same data folder
      await new Promise((r) => setTimeout(r, 150 + ((kills * 137) % 500)));
      if (current.size > 0 && kills < 12) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc!.once('exit', r));
        kills++;
        s = await startServerProcess(fx);
        proc = s.proc;
        call = api(s.url, s.token);
      }
    }
    assert.ok(kills >= 5, `killed the server ${kills} times`);

    // every step ran exactly once per promotion
    const lines = (await readFile(path.join(fx.dataDir, 'target-state', 'steps.log'), 'utf8')).trim().split('\n');
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const id of done.values()) {
      assert.equal(counts.get(`${id} deploy`), 1, `deploy of ${id} ran ${counts.get(`${id} deploy`)} times`);
      assert.equal(counts.get(`${id} verify`), 1, `verify of ${id} ran ${counts.get(`${id} verify`)} times`);
    }
    assert.equal(lines.length, done.size * 2);

    // no transition recorded twice; the log verifies
    const log = await call('GET', '/v1/audit/entries?from=0&limit=1000');
    const transitions = log.json.entries.filter((e: any) => e.entry.action === 'promotion.transition').map((e: any) => `${e.entry.subject} ${e.entry.details.from}->${e.entry.details.to}`);
    assert.equal(new Set(transitions).size, transitions.length, 'a transition was recorded twice');
    assert.equal(transitions.length, done.size * 4); // Pending->Gating->Deploying->Verifying->Succeeded
    const v = await call('GET', '/v1/audit/verify');
    assert.equal(v.json.ok, true, JSON.stringify(v.json));
  } finally {
    proc?.kill('SIGKILL');
    fx.cleanup();
  }
});
