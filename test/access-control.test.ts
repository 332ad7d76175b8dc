/**
 * Access control end to end: Cedar decisions by role and tier, multi-party approvals with separation
 * of duties, a freeze window refusing and holding, break-glass with a second person and a review
 * item, gate rules, dry runs — through the real HTTP API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, type Fixture, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

const identities = `
identities:
  users:
    - name: alice
      roles: [approver]
      groups: [sre]
    - name: bob
      roles: [approver]
      groups: [security-team]
    - name: carol
      roles: [releaser, approver]
      groups: [sre]
    - name: dave
      roles: [developer]
    - name: erin
      roles: [admin]
    - name: frank
      roles: [admin]
  groups:
    - name: sre
    - name: security-team
`;

function editProject(y: string): string {
  return (
    y
      .replace(
        / {2}- name: staging\n {4}tier: staging\n {4}target: local-exec\n {4}trustedKeys: \[ci\]\n {4}requires: \[dev\]\n/,
        `  - name: staging
    tier: staging
    target: local-exec
    trustedKeys: [ci]
    requires: [dev]
    freezes:
      - name: code-freeze
        reason: quarter close
        start: "${new Date(Date.now() - 86_400_000).toISOString()}"
        end: "${new Date(Date.now() + 86_400_000).toISOString()}"
`,
      )
      .replace(
        '    minSoak: 10s',
        `    approvals:
      rules:
        - {name: sre, groups: [sre], count: 1}
        - {name: security, groups: [security-team], count: 1}
    rules:
      - id: two-approvals
        expression: approvalCount >= 2.0
        message: prod needs two approvals
      - id: not-cursed
        expression: release.version != "6.6.6"
        message: version 6.6.6 may not reach prod`,
      ) + identities
  );
}

describe('access control', () => {
  let fx: Fixture;
  let close: () => Promise<void>;
  let url: string;
  const tokens: Record<string, string> = {};
  const as = (who: string) => api(url, tokens[who]);

  before(async () => {
    fx = await makeFixture(editProject);
    const s = await startApp(fx);
    url = s.url;
    close = () => s.app.close();
    const admin = api(url, s.token);
    // each token carries the least role (viewer); the rest comes from the declared identities
    for (const who of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      const r = await admin('POST', '/v1/tokens', { name: who, actor: `user:${who}`, role: 'viewer' });
      assert.equal(r.status, 201, r.text);
      tokens[who] = r.json.token;
    }
    for (const v of ['1.0.0', '6.6.6', '2.0.0']) assert.equal((await push(admin, await makeRelease(fx, v))).status, 201);
    // dev for everything (carol is a releaser)
    for (const v of ['1.0.0', '6.6.6', '2.0.0']) {
      const r = await as('carol')('POST', '/v1/promotions', { service: 'checkout', version: v, environment: 'dev' });
      assert.equal((await waitTerminal(as('carol'), r.json.promotion.id)).state, 'Succeeded');
    }
  });
  after(async () => {
    await close();
    fx.cleanup();
  });

  test('a developer may not promote to prod: a named Cedar decision, audited with the policy ids', async () => {
    const r = await as('dave')('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'prod' });
    assert.equal(r.status, 403, r.text);
    assert.match(r.json.error.details.fix, /releaser|forbid-prod-promote-without-releaser/);
    const log = await as('erin')('GET', '/v1/audit/entries?from=0&limit=1000');
    const denial = log.json.entries.map((e: any) => e.entry).reverse().find((e: any) => e.actor === 'user:dave' && e.outcome === 'denied');
    assert.equal(denial.action, 'promotion.request');
    assert.match(denial.details.policyDigest, /^sha256:/);
    assert.ok(Array.isArray(denial.details.policies));
    // and a viewer-only read works, recorded as an allowed decision naming its policy
    assert.equal((await as('dave')('GET', '/v1/status')).status, 200);
  });

  test('a frozen environment refuses new promotions; break-glass needs a second person, then shows as a review item', async () => {
    const refused = await as('carol')('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.json.error.message, /code-freeze/);
    const bg = await as('erin')('POST', '/v1/promotions', {
      service: 'checkout',
      version: '1.0.0',
      environment: 'staging',
      breakGlass: { justification: 'payment outage, fix must ship now', skip: ['freeze'], minutes: 30 },
    });
    assert.equal(bg.status, 202, bg.text);
    const id = bg.json.promotion.id;
    const bgId = bg.json.breakGlass.id;
    await new Promise((r) => setTimeout(r, 300));
    const held = (await as('erin')('GET', `/v1/promotions/${id}`)).json.promotion;
    assert.equal(held.state, 'Pending');
    assert.match(held.message, /second person/);
    const self = await as('erin')('POST', `/v1/break-glass/${bgId}/confirm`);
    assert.equal(self.status, 403, self.text);
    assert.match(self.json.error.message, /cannot also confirm/);
    assert.equal((await as('frank')('POST', `/v1/break-glass/${bgId}/confirm`)).status, 200);
    const done = await waitTerminal(as('erin'), id);
    assert.equal(done.state, 'Succeeded', done.message);
    const open = await as('erin')('GET', '/v1/break-glass');
    assert.deepEqual(open.json.openReviews.map((b: any) => b.id), [bgId]);
    assert.equal((await as('frank')('POST', `/v1/break-glass/${bgId}/review`, { comment: 'ok' })).status, 403);
    assert.equal((await as('erin')('POST', `/v1/break-glass/${bgId}/review`, { comment: 'ok' })).status, 403);
    const adminToken = (await api(url, tokens['erin'])('POST', '/v1/tokens', { name: 'grace', actor: 'user:grace', role: 'admin' })).json.token;
    assert.equal((await api(url, adminToken)('POST', `/v1/break-glass/${bgId}/review`, { comment: 'justified: outage INC-42' })).status, 200);
    assert.deepEqual((await as('erin')('GET', '/v1/break-glass')).json.openReviews, []);
    const log = await as('erin')('GET', '/v1/audit/entries?from=0&limit=1000');
    const high = log.json.entries.filter((e: any) => e.entry.details.severity === 'high').map((e: any) => e.entry.action);
    assert.ok(high.includes('breakglass.request') && high.includes('breakglass.confirm'), high.join());
  });

  test('prod waits for one approver from sre and one from security; self-approval is refused with the reason', async () => {
    // staging for 2.0.0 and 6.6.6 under break-glass (staging is frozen), confirmed by a second admin
    for (const v of ['2.0.0', '6.6.6']) {
      const r = await as('erin')('POST', '/v1/promotions', { service: 'checkout', version: v, environment: 'staging', breakGlass: { justification: 'needed for the prod test', skip: ['freeze'], minutes: 10 } });
      await as('frank')('POST', `/v1/break-glass/${r.json.breakGlass.id}/confirm`);
      assert.equal((await waitTerminal(as('erin'), r.json.promotion.id)).state, 'Succeeded');
    }
    const dry = await as('carol')('POST', '/v1/promotions', { service: 'checkout', version: '2.0.0', environment: 'prod', dryRun: true });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.json.dryRun, true);
    assert.deepEqual(dry.json.approvals.map((a: any) => a.rule), ['sre', 'security']);
    assert.ok(dry.json.gates.some((g: any) => g.gate === 'rule:two-approvals' && !g.passed), 'with no approvals yet the rule fails in the dry run');

    const r = await as('carol')('POST', '/v1/promotions', { service: 'checkout', version: '2.0.0', environment: 'prod' });
    const id = r.json.promotion.id;
    for (let i = 0; i < 50 && (await as('carol')('GET', `/v1/promotions/${id}`)).json.promotion.state !== 'AwaitingApproval'; i++) await new Promise((res) => setTimeout(res, 50));
    const self = await as('carol')('POST', `/v1/promotions/${id}/approvals`, { decision: 'approve', comment: 'lgtm' });
    assert.equal(self.status, 403, self.text);
    assert.match(self.json.error.message, /you requested this promotion/);
    const waiting = await as('alice')('GET', '/v1/approvals');
    assert.deepEqual(waiting.json.waiting.map((w: any) => w.promotion.id), [id]);
    assert.equal((await as('alice')('POST', `/v1/promotions/${id}/approvals`, { decision: 'approve', comment: 'sre ok' })).status, 201);
    await new Promise((res) => setTimeout(res, 300));
    const mid = (await as('carol')('GET', `/v1/promotions/${id}`)).json.promotion;
    assert.equal(mid.state, 'AwaitingApproval');
    assert.match(mid.message, /security: 0\/1/);
    const bob = await as('bob')('POST', `/v1/promotions/${id}/approvals`, { decision: 'approve', comment: 'security ok' });
    assert.equal(bob.status, 201, bob.text);
    assert.equal(bob.json.approval.bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const done = await waitTerminal(as('carol'), id);
    assert.equal(done.state, 'Succeeded', done.message);
    assert.ok(done.gates.some((g: any) => g.gate === 'rule:two-approvals' && g.passed));
  });

  test('a rejection ends the promotion with the reason; a failing gate rule names its id', async () => {
    const r = await as('carol')('POST', '/v1/promotions', { service: 'checkout', version: '6.6.6', environment: 'prod' });
    const id = r.json.promotion.id;
    for (let i = 0; i < 50 && (await as('carol')('GET', `/v1/promotions/${id}`)).json.promotion.state !== 'AwaitingApproval'; i++) await new Promise((res) => setTimeout(res, 50));
    await as('alice')('POST', `/v1/promotions/${id}/approvals`, { decision: 'approve', comment: '' });
    await as('bob')('POST', `/v1/promotions/${id}/approvals`, { decision: 'approve', comment: '' });
    const cursed = await waitTerminal(as('carol'), id);
    assert.equal(cursed.state, 'Failed');
    assert.match(cursed.message, /rule:not-cursed.*6\.6\.6 may not reach prod/);

    // 1.0.0 reached staging by break-glass earlier; a rejection fails it
    const r2 = await as('carol')('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'prod' });
    const id2 = r2.json.promotion.id;
    for (let i = 0; i < 50 && (await as('carol')('GET', `/v1/promotions/${id2}`)).json.promotion.state !== 'AwaitingApproval'; i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal((await as('bob')('POST', `/v1/promotions/${id2}/approvals`, { decision: 'reject', comment: 'not during the audit' })).status, 201);
    const rejected = await waitTerminal(as('carol'), id2);
    assert.equal(rejected.state, 'Failed');
    assert.match(rejected.message, /rejected by user:bob: not during the audit/);
  });

  test('freeze list shows the window', async () => {
    const r = await as('dave')('GET', '/v1/freezes?horizon=1d');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.freezes.map((f: any) => f.name), ['code-freeze']);
  });
});
