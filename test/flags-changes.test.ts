/**
 * Feature-flag change requests end to end through the HTTP API: seeding from the flag files, a
 * draft -> approved -> applied flow under prod's approval rules with separation of duties, the
 * audit entry holding the RFC 6902 patch and the digests, and bad input (invalid JSON Pointer, a
 * failed test op, a result flagd refuses, a stale base version) leaving the state unchanged.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { api, type Fixture, makeFixture, startApp } from './helpers/fixture.ts';

const identities = `
identities:
  users:
    - { name: alice, roles: [approver], groups: [sre] }
    - { name: carol, roles: [releaser, approver], groups: [sre] }
    - { name: dave, roles: [developer] }
    - { name: erin, roles: [admin] }
    - { name: svc-approver, roles: [approver] }
  groups:
    - { name: sre }
`;

export const withFlagApprovals = (y: string): string =>
  y.replace('    minSoak: 10s', '    minSoak: 10s\n    approvals:\n      rules:\n        - {name: sre, groups: [sre], count: 1}') + identities;

describe('flag change requests', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  let admin: ReturnType<typeof api>;
  const tokens: Record<string, string> = {};
  const as = (who: string) => api(url, tokens[who]);
  const entries = async () => {
    const all: any[] = [];
    for (let from = 0; ; from += 1000) {
      const page = (await admin('GET', `/v1/audit/entries?from=${from}&limit=1000`)).json.entries.map((e: { entry: unknown }) => e.entry);
      all.push(...page);
      if (page.length < 1000) return all;
    }
  };
  const state = async (env: string) => {
    const cur = await admin('GET', `/v1/flags/${env}`);
    const changes = await admin('GET', `/v1/flags/${env}/changes`);
    return { version: cur.json.version, digest: cur.json.digest, changes: changes.json.changes.map((c: any) => `${c.id}:${c.state}`) };
  };

  before(async () => {
    fx = await makeFixture(withFlagApprovals);
    const s = await startApp(fx);
    app = s.app;
    url = s.url;
    admin = api(url, s.token);
    for (const who of ['alice', 'carol', 'dave', 'erin']) {
      const r = await admin('POST', '/v1/tokens', { name: who, actor: `user:${who}`, role: 'viewer' });
      assert.equal(r.status, 201, r.text);
      tokens[who] = r.json.token;
    }
  });
  after(async () => {
    await app?.close();
    fx?.cleanup();
  });

  test('each environment is seeded from flags/<env>.flagd.json at start, audited as flag.seed', async () => {
    const prod = await admin('GET', '/v1/flags/prod');
    assert.equal(prod.status, 200, prod.text);
    assert.equal(prod.json.version, 1);
    assert.match(prod.json.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(prod.json.flagSet.flags['new-checkout'].state, 'DISABLED');
    const seeds = (await entries()).filter((e) => e.action === 'flag.seed');
    assert.deepEqual(seeds.map((e) => e.details.environment).sort(), ['dev', 'prod', 'staging']);
    assert.equal(seeds.find((e) => e.details.environment === 'prod').details.digest, prod.json.digest);
  });

  test('prod: draft, the author may not approve (audited), apply waits for approvals, then applies with the patch in the audit entry', async () => {
    const before = await admin('GET', '/v1/flags/prod');
    const created = await as('carol')('POST', '/v1/flags/prod/changes', {
      patch: [
        { op: 'test', path: '/flags/new-checkout/state', value: 'DISABLED' },
        { op: 'replace', path: '/flags/new-checkout/state', value: 'ENABLED' },
      ],
      reason: 'launch the new checkout',
    });
    assert.equal(created.status, 201, created.text);
    const c = created.json.change;
    assert.equal(c.state, 'draft');
    assert.equal(c.baseVersion, 1);
    assert.equal(c.approvalsNeeded.satisfied, false);
    assert.equal(c.approvalsNeeded.missing[0].rule, 'sre');

    const self = await as('carol')('POST', `/v1/flags/prod/changes/${c.id}/approve`, { comment: 'mine' });
    assert.equal(self.status, 403, self.text);
    assert.match(self.json.error.message, /separation of duties/);
    const denial = (await entries()).reverse().find((e) => e.action === 'flag.approve' && e.actor === 'user:carol');
    assert.equal(denial.outcome, 'denied');
    assert.match(denial.details.reason, /you proposed it/);

    const early = await as('carol')('POST', `/v1/flags/prod/changes/${c.id}/apply`);
    assert.equal(early.status, 409, early.text);
    assert.match(early.json.error.message, /lacks approvals: sre: 0\/1/);
    assert.equal((await admin('GET', '/v1/flags/prod')).json.version, 1, 'nothing applied');

    const dave = await as('dave')('POST', `/v1/flags/prod/changes/${c.id}/approve`);
    assert.equal(dave.status, 403, 'a developer holds no flag.approve');

    const ok = await as('alice')('POST', `/v1/flags/prod/changes/${c.id}/approve`, { comment: 'lgtm' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.change.state, 'approved');
    assert.deepEqual(ok.json.change.approvalsNeeded.counted, [{ rule: 'sre', approver: 'user:alice' }]);
    const twice = await as('alice')('POST', `/v1/flags/prod/changes/${c.id}/approve`);
    assert.equal(twice.status, 409, twice.text);

    const applied = await as('carol')('POST', `/v1/flags/prod/changes/${c.id}/apply`);
    assert.equal(applied.status, 200, applied.text);
    assert.equal(applied.json.change.state, 'applied');
    assert.equal(applied.json.change.version, 2);
    const after = await admin('GET', '/v1/flags/prod');
    assert.equal(after.json.version, 2);
    assert.equal(after.json.flagSet.flags['new-checkout'].state, 'ENABLED');
    assert.equal(after.json.digest, applied.json.change.digest);

    const entry = (await entries()).reverse().find((e) => e.action === 'flag.apply');
    assert.equal(entry.outcome, 'succeeded');
    assert.equal(entry.actor, 'user:carol');
    assert.equal(entry.subject, `flag-change:${c.id}`);
    assert.deepEqual(entry.details.patch, [{ op: 'replace', path: '/flags/new-checkout/state', value: 'ENABLED' }]);
    assert.equal(entry.details.digestBefore, before.json.digest);
    assert.equal(entry.details.digestAfter, after.json.digest);
    assert.deepEqual(entry.details.approvers, ['user:alice']);

    const history = await admin('GET', '/v1/flags/prod/history');
    assert.deepEqual(history.json.versions.map((v: any) => [v.version, v.changeId]), [[2, c.id], [1, null]]);
    const again = await as('carol')('POST', `/v1/flags/prod/changes/${c.id}/apply`);
    assert.equal(again.status, 409, 'an applied change is not applied twice');
  });

  test('roles: a developer proposes in staging but not in prod (a named forbid rule)', async () => {
    const prod = await as('dave')('POST', '/v1/flags/prod/changes', { patch: [{ op: 'replace', path: '/flags/max-cart-items/defaultVariant', value: 'small' }], reason: 'try' });
    assert.equal(prod.status, 403, prod.text);
    assert.match(prod.json.error.details.fix, /forbid-prod-flags-without-releaser/);
    const staging = await as('dave')('POST', '/v1/flags/staging/changes', { patch: [{ op: 'replace', path: '/flags/max-cart-items/defaultVariant', value: 'small' }], reason: 'try' });
    assert.equal(staging.status, 201, staging.text);
    const rejected = await as('dave')('POST', `/v1/flags/staging/changes/${staging.json.change.id}/reject`, { comment: 'withdrawn' });
    assert.equal(rejected.status, 200, rejected.text);
    assert.equal(rejected.json.change.state, 'rejected');
    const cannot = await as('dave')('POST', `/v1/flags/staging/changes/${staging.json.change.id}/apply`);
    assert.equal(cannot.status, 409);
  });

  test('bad input names the op index, pointer and fix, and changes nothing', async () => {
    const start = await state('prod');
    const post = (body: unknown) => as('carol')('POST', '/v1/flags/prod/changes', body);
    const badPointer = await post({ patch: [{ op: 'replace', path: 'flags/new-checkout/state', value: 'DISABLED' }], reason: 'x' });
    assert.equal(badPointer.status, 400, badPointer.text);
    assert.match(badPointer.json.error.message, /patch operation 0 at flags\/new-checkout\/state: the path is not a JSON Pointer/);
    assert.match(badPointer.json.error.details.fix, /RFC 6901/);

    const missing = await post({ patch: [{ op: 'replace', path: '/flags/no-such-flag/state', value: 'DISABLED' }], reason: 'x' });
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.json.error.message, /patch operation 0 at \/flags\/no-such-flag\/state: the path does not exist/);

    const testFails = await post({
      patch: [
        { op: 'replace', path: '/flags/max-cart-items/defaultVariant', value: 'small' },
        { op: 'test', path: '/flags/new-checkout/state', value: 'DISABLED' },
      ],
      reason: 'x',
    });
    assert.equal(testFails.status, 400, testFails.text);
    assert.match(testFails.json.error.message, /patch operation 1 at \/flags\/new-checkout\/state: test failed/);
    assert.equal(testFails.json.error.details.opIndex, 1);

    const schema = await post({ patch: [{ op: 'replace', path: '/flags/new-checkout/state', value: 'ON' }], reason: 'x' });
    assert.equal(schema.status, 400, schema.text);
    assert.match(schema.json.error.message, /\/flags\/new-checkout\/state: does not match flagd's schema: must be one of ENABLED, DISABLED/);

    const variant = await post({ patch: [{ op: 'replace', path: '/flags/new-checkout/defaultVariant', value: 'maybe' }], reason: 'x' });
    assert.equal(variant.status, 400, variant.text);
    assert.match(variant.json.error.message, /\/flags\/new-checkout\/defaultVariant: Default variant maybe missing/);

    const badKey = await post({ flags: { flags: { 'bad key!': { state: 'ENABLED', variants: { on: true }, defaultVariant: 'on' } } }, reason: 'x' });
    assert.equal(badKey.status, 400, badKey.text);
    assert.match(badKey.json.error.message, /flag key is not allowed/);

    const noop = await post({ patch: [{ op: 'replace', path: '/flags/new-checkout/state', value: 'ENABLED' }], reason: 'x' });
    assert.equal(noop.status, 400, noop.text);
    assert.match(noop.json.error.message, /leaves the prod flag set as it is/);

    const both = await post({ patch: [], flags: { flags: {} }, reason: 'x' });
    assert.equal(both.status, 400, both.text);
    assert.deepEqual(await state('prod'), start, 'no version and no change request was stored');
  });

  test('a change made against an older version is superseded and refused with "rebase"', async () => {
    const start = await state('staging');
    const make = (value: string) => admin('POST', '/v1/flags/staging/changes', { patch: [{ op: 'replace', path: '/flags/checkout-banner/defaultVariant', value }], reason: value });
    const a = (await make('holiday')).json.change;
    const b = (await make('free-shipping')).json.change;
    assert.equal(a.baseVersion, start.version);
    assert.equal(b.baseVersion, start.version);
    const applied = await admin('POST', `/v1/flags/staging/changes/${a.id}/apply`);
    assert.equal(applied.status, 200, applied.text);
    const stale = await admin('POST', `/v1/flags/staging/changes/${b.id}/apply`);
    assert.equal(stale.status, 409, stale.text);
    assert.match(stale.json.error.details.fix, /rebase/);
    const now = await state('staging');
    assert.equal(now.version, start.version + 1);
    assert.ok(now.changes.includes(`${b.id}:superseded`));
    const sup = (await entries()).reverse().find((e) => e.action === 'flag.supersede');
    assert.equal(sup.subject, `flag-change:${b.id}`);
    // the whole-set form: compare() makes the patch
    const cur = (await admin('GET', '/v1/flags/staging')).json;
    const next = structuredClone(cur.flagSet);
    next.flags['checkout-banner'].defaultVariant = 'free-shipping';
    const whole = await admin('POST', '/v1/flags/staging/changes', { flags: next, reason: 'rebased' });
    assert.equal(whole.status, 201, whole.text);
    assert.deepEqual(whole.json.change.patch, [{ op: 'replace', path: '/flags/checkout-banner/defaultVariant', value: 'free-shipping' }]);
    assert.equal(whole.json.change.baseVersion, now.version);
  });

  test('apply against a base that moved (without being superseded) supersedes the change and stores nothing', async () => {
    const c = (await admin('POST', '/v1/flags/dev/changes', { patch: [{ op: 'replace', path: '/flags/debug-panel/state', value: 'DISABLED' }], reason: 'quiet' })).json.change;
    const cur = await app.store.read.flags.latest('dev');
    assert.ok(cur);
    // another writer's version slipped in (what a race between two applies looks like)
    await app.store.transaction((tx) => tx.flags.insertVersion({ ...cur, version: cur.version + 1, createdAt: new Date().toISOString(), changeId: null }));
    const start = await state('dev');
    const r = await admin('POST', `/v1/flags/dev/changes/${c.id}/apply`);
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.error.message, new RegExp(`made against version ${c.baseVersion} of dev, which is now at version ${cur.version + 1}`));
    assert.match(r.json.error.details.fix, /rebase/);
    const end = await state('dev');
    assert.equal(end.version, start.version, 'no new version');
    assert.ok(end.changes.includes(`${c.id}:superseded`));
  });

  test('a malformed flag file stops the start with the file, JSON pointer and fix', async () => {
    const bad = await makeFixture();
    try {
      await writeFile(path.join(bad.projectDir, 'flags', 'dev.flagd.json'), JSON.stringify({ flags: { x: { state: 'ENABLED', variants: { on: true, off: 1 }, defaultVariant: 'on' } } }));
      await assert.rejects(startApp(bad), (e: any) => {
        assert.match(e.message, /dev\.flagd\.json: \/flags\/x\/variants\/(on|off): does not match flagd's schema/);
        assert.ok(e.details.fix);
        return true;
      });
    } finally {
      bad.cleanup();
    }
  });
});
