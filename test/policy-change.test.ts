/**
 * Policy changes are promoted: a changed policy of an environment that needs approvals holds its
 * promotions until approvers under the previously accepted rules approve the change.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { api, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

const secured = (y: string) =>
  y.replace('    minSoak: 10s', '    approvals:\n      rules: [{groups: [sre], count: 1}]') +
  '\nidentities:\n  users:\n    - {name: alice, roles: [approver], groups: [sre]}\n    - {name: carol, roles: [releaser]}\n  groups:\n    - {name: sre}\n';

test('a changed prod policy holds prod promotions until approved under the old rules; other environments go on', { timeout: 120_000 }, async () => {
  const fx = await makeFixture(secured);
  try {
    let s = await startApp(fx);
    const admin = api(s.url, s.token);
    const alice = (await admin('POST', '/v1/tokens', { name: 'alice', actor: 'user:alice', role: 'viewer' })).json.token as string;
    const carol = (await admin('POST', '/v1/tokens', { name: 'carol', actor: 'user:carol', role: 'viewer' })).json.token as string;
    await push(admin, await makeRelease(fx, '1.0.0'));
    const state1 = (await admin('GET', '/v1/policy-state')).json.environments;
    assert.ok(state1.every((e: any) => e.accepted && !e.pending), JSON.stringify(state1));
    await s.app.close();

    // someone edits the prod policy: a new gate rule
    const y = await readFile(fx.projectFile, 'utf8');
    await writeFile(fx.projectFile, y.replace('      rules: [{groups: [sre], count: 1}]', '      rules: [{groups: [sre], count: 1}]\n    rules:\n      - {id: weekdays, expression: "weekday >= 0.0", message: any day}'));
    s = await startApp(fx);
    const as = (t: string) => api(s.url, t);
    const state2 = (await as(s.token)('GET', '/v1/policy-state')).json.environments;
    assert.deepEqual(state2.filter((e: any) => e.pending).map((e: any) => e.environment), ['prod']);

    for (const env of ['dev', 'staging']) {
      const r = await as(carol)('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: env });
      assert.equal((await waitTerminal(as(carol), r.json.promotion.id)).state, 'Succeeded', `${env} is not held`);
    }
    const r = await as(carol)('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'prod' });
    await new Promise((res) => setTimeout(res, 400));
    const held = (await as(carol)('GET', `/v1/promotions/${r.json.promotion.id}`)).json.promotion;
    assert.equal(held.state, 'Pending');
    assert.match(held.message, /policy of prod changed/);

    const approved = await as(alice)('POST', '/v1/environments/prod/policy-approvals', { decision: 'approve', comment: 'rule reviewed' });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.accepted, true);
    // now the promotion goes on, and itself waits for alice's approval of the release
    for (let i = 0; i < 60 && (await as(carol)('GET', `/v1/promotions/${r.json.promotion.id}`)).json.promotion.state !== 'AwaitingApproval'; i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal((await as(alice)('POST', `/v1/promotions/${r.json.promotion.id}/approvals`, { decision: 'approve', comment: '' })).status, 201);
    assert.equal((await waitTerminal(as(carol), r.json.promotion.id)).state, 'Succeeded');
    const log = (await as(s.token)('GET', '/v1/audit/entries?from=0&limit=1000')).json.entries.map((e: any) => e.entry.action);
    assert.ok(log.includes('policy.change.pending') && log.includes('policy.accepted'));
    await s.app.close();
  } finally {
    fx.cleanup();
  }
});
