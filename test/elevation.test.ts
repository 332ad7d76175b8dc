/**
 * Just-in-time elevation end to end through the HTTP API: a viewer asks for releaser, cannot approve
 * their own request, another person approves, the role works, and it stops working when the time box
 * ends — measured by the server's own clock (a test clock moved forward, no sleeping).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { type App, createApp } from '../src/app.ts';
import { runCli } from '../src/cli/main.ts';
import { loadConfig } from '../src/config.ts';
import { knownRoles, stateOf } from '../src/engine/elevation.ts';
import { ADMIN_TOKEN, api, type Fixture, makeFixture, makeRelease, push, waitTerminal } from './helpers/fixture.ts';

const identities = `
identities:
  users:
    - name: vera
      roles: [viewer]
    - name: dave
      roles: [developer]
    - name: erin
      roles: [admin]
    - name: frank
      roles: [admin]
    - name: sam
      roles: [security]
  groups:
    - name: oncall
      roles: [oncall-lead]
`;

describe('just-in-time elevation', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  /** the server's clock runs this far ahead of real time */
  let offsetMs = 0;
  const tokens: Record<string, string> = {};
  const as = (who: string) => api(url, tokens[who]);
  const reason = 'hotfix for INC-7 needs a dev deploy';

  before(async () => {
    fx = await makeFixture((y) => y + identities);
    const config = loadConfig({ port: 0, dataDir: fx.dataDir, projectFile: fx.projectFile, reconcileIntervalMs: 50, bootstrapToken: ADMIN_TOKEN }, {});
    app = await createApp({ config, logger: pino({ level: process.env['SG_TEST_LOG'] ?? 'silent' }), clock: () => new Date(Date.now() + offsetMs) });
    url = `http://127.0.0.1:${(await app.listen()).port}`;
    tokens['admin'] = ADMIN_TOKEN;
    for (const who of ['vera', 'dave', 'erin', 'frank', 'sam']) {
      const r = await as('admin')('POST', '/v1/tokens', { name: who, actor: `user:${who}`, role: 'viewer' });
      assert.equal(r.status, 201, r.text);
      tokens[who] = r.json.token;
    }
    const ci = await as('admin')('POST', '/v1/tokens', { name: 'ci', actor: 'service:ci', role: 'admin' });
    tokens['ci'] = ci.json.token;
    for (const v of ['1.0.0', '1.0.1']) assert.equal((await push(as('admin'), await makeRelease(fx, v))).status, 201);
  });
  after(async () => {
    await app.close();
    fx.cleanup();
  });

  test('the roles one may ask for: the default roles and the ones the identities name', () => {
    assert.deepEqual(knownRoles(undefined), ['admin', 'approver', 'developer', 'releaser', 'security', 'viewer']);
    assert.ok(knownRoles({ groups: [{ name: 'g', roles: ['oncall-lead'] }] }).includes('oncall-lead'));
    const base = { id: 'elv_0000000000000000', principal: 'user:x', role: 'admin', reason: 'r', durationMs: 60_000, requestedAt: '2030-01-01T00:00:00.000Z', decidedBy: 'user:y', decidedAt: '2030-01-01T00:00:00.000Z' };
    assert.equal(stateOf({ ...base, status: 'active', expiresAt: '2030-01-01T00:01:00.000Z' }, '2030-01-01T00:00:59.999Z'), 'active');
    assert.equal(stateOf({ ...base, status: 'active', expiresAt: '2030-01-01T00:01:00.000Z' }, '2030-01-01T00:01:00.000Z'), 'expired');
    assert.equal(stateOf({ ...base, status: 'denied', expiresAt: null }, '2030-01-01T00:00:00.000Z'), 'denied');
  });

  test('bad requests are refused with the field and the fix', async () => {
    const unknown = await as('vera')('POST', '/v1/elevations', { role: 'wizard', minutes: 5, reason });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.json.error.message, /not a default role/);
    assert.match(unknown.json.error.details.fix, /releaser/);
    for (const minutes of [0, 241, 1.5, -3]) assert.equal((await as('vera')('POST', '/v1/elevations', { role: 'releaser', minutes, reason })).status, 400, `minutes ${minutes}`);
    const terse = await as('vera')('POST', '/v1/elevations', { role: 'releaser', minutes: 5, reason: '   because ' });
    assert.equal(terse.status, 400);
    assert.equal(terse.json.error.details.field, 'reason');
    assert.equal((await as('vera')('POST', '/v1/elevations', { role: 'releaser', minutes: 5, reason, extra: 1 })).status, 400);
    assert.equal((await as('vera')('POST', '/v1/elevations', { role: 'r'.repeat(64), minutes: 5, reason })).status, 400);
    const held = await as('vera')('POST', '/v1/elevations', { role: 'viewer', minutes: 5, reason });
    assert.equal(held.status, 409);
    assert.match(held.json.error.message, /already holds role viewer/);
    // a role only the identities name may be asked for
    assert.equal((await as('vera')('POST', '/v1/elevations', { role: 'oncall-lead', minutes: 5, reason })).status, 201);
    // a service account is not a person: the named forbid rule refuses it
    const svc = await api(url, tokens['ci'])('POST', '/v1/elevations', { role: 'releaser', minutes: 5, reason });
    assert.equal(svc.status, 403, svc.text);
    assert.match(svc.json.error.details.fix, /forbid-non-human-decisions|person/);
    assert.equal((await api(url)('POST', '/v1/elevations', { role: 'releaser', minutes: 5, reason })).status, 401);
  });

  test('a viewer elevated to releaser can promote; not before approval, not after the time box', async () => {
    const promote = (version: string) => as('vera')('POST', '/v1/promotions', { service: 'checkout', version, environment: 'dev' });
    assert.equal((await promote('1.0.0')).status, 403, 'a viewer cannot promote');

    const req = await as('vera')('POST', '/v1/elevations', { role: 'releaser', minutes: 1, reason });
    assert.equal(req.status, 201, req.text);
    const e = req.json.elevation;
    assert.match(e.id, /^elv_[a-f0-9]{16}$/);
    assert.equal(e.status, 'pending');
    assert.equal(e.expiresAt, null);
    assert.equal((await promote('1.0.0')).status, 403, 'a pending request grants nothing');

    // a viewer may not approve at all (Cedar: elevation.approve is the admin's)
    const self = await as('vera')('POST', `/v1/elevations/${e.id}/approve`);
    assert.equal(self.status, 403, self.text);
    assert.match(self.json.error.message, /may not elevation\.approve on Role:releaser/);
    // approving is the admin's by default: a developer cannot, and the viewer cannot list requests
    assert.equal((await as('dave')('POST', `/v1/elevations/${e.id}/approve`)).status, 403);
    assert.equal((await as('vera')('GET', '/v1/elevations?status=pending')).status, 403);
    // security can see what waits (identity.read), but not decide
    const seen = await as('sam')('GET', '/v1/elevations?status=pending');
    assert.equal(seen.status, 200, seen.text);
    assert.ok(seen.json.elevations.some((x: any) => x.id === e.id && x.state === 'pending'));
    assert.equal((await as('sam')('POST', `/v1/elevations/${e.id}/approve`)).status, 403);

    const before = Date.now() + offsetMs;
    const ok = await as('erin')('POST', `/v1/elevations/${e.id}/approve`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.elevation.status, 'active');
    assert.equal(ok.json.elevation.decidedBy, 'user:erin');
    const expires = Date.parse(ok.json.elevation.expiresAt);
    assert.ok(expires >= before + 60_000 && expires <= Date.now() + offsetMs + 60_000, 'expires one minute after approval');
    assert.equal((await as('frank')('POST', `/v1/elevations/${e.id}/approve`)).status, 409, 'decided once');

    const who = await as('vera')('GET', '/v1/whoami');
    assert.ok(who.json.roles.includes('releaser'), who.text);
    const active = await as('erin')('GET', '/v1/elevations?status=active');
    assert.deepEqual(active.json.elevations.map((x: any) => x.id), [e.id]);
    assert.equal((await as('erin')('GET', '/v1/elevations?status=pending')).json.elevations.some((x: any) => x.id === e.id), false);

    const p = await promote('1.0.0');
    assert.equal(p.status, 202, p.text);
    assert.equal((await waitTerminal(as('vera'), p.json.promotion.id)).state, 'Succeeded');

    // the time box ends by the server's clock: nothing revokes it, it simply stops counting
    offsetMs += 61_000;
    const after = await promote('1.0.1');
    assert.equal(after.status, 403, after.text);
    assert.equal((await as('vera')('GET', '/v1/whoami')).json.roles.includes('releaser'), false);
    assert.deepEqual((await as('erin')('GET', '/v1/elevations?status=active')).json.elevations, []);
    const expired = await as('erin')('GET', '/v1/elevations?status=expired');
    assert.deepEqual(expired.json.elevations.map((x: any) => x.id), [e.id]);

    // all of it is in the audit log
    const log = await as('erin')('GET', '/v1/audit/entries?from=0&limit=1000');
    const entries = log.json.entries.map((x: any) => x.entry).filter((x: any) => x.subject === `elevation:${e.id}` || x.action.startsWith('elevation.'));
    const requested = entries.find((x: any) => x.action === 'elevation.request' && x.subject === `elevation:${e.id}`);
    assert.equal(requested.actor, 'user:vera');
    assert.equal(requested.details.role, 'releaser');
    assert.equal(requested.details.reason, reason);
    const cedarRefusal = entries.find((x: any) => x.action === 'elevation.approve' && x.actor === 'user:vera' && x.outcome === 'denied');
    assert.equal(cedarRefusal.details.decision, 'deny');
    const granted = entries.find((x: any) => x.action === 'elevation.approve' && x.outcome === 'succeeded' && x.subject === `elevation:${e.id}`);
    assert.equal(granted.actor, 'user:erin');
    assert.equal(granted.details.expiresAt, ok.json.elevation.expiresAt);
    // the guard's decision names the Role resource and the policy that allowed it
    const decision = entries.find((x: any) => x.action === 'elevation.approve' && x.actor === 'user:erin' && x.outcome === 'allowed');
    assert.equal(decision.subject, 'Role:releaser');
    assert.ok(decision.details.policies.includes('admin-all'), JSON.stringify(decision.details));
  });

  test('the requester cannot approve their own request, even an admin: 403 with the reason, audited', async () => {
    // an admin holds every default role; a role only the identities name is one they can ask for
    const r = await as('erin')('POST', '/v1/elevations', { role: 'oncall-lead', minutes: 10, reason });
    assert.equal(r.status, 201, r.text);
    const id = r.json.elevation.id;
    const self = await as('erin')('POST', `/v1/elevations/${id}/approve`);
    assert.equal(self.status, 403, self.text);
    assert.match(self.json.error.message, /user:erin requested elevation elv_[a-f0-9]{16} and cannot also approve it/);
    assert.match(self.json.error.details.fix, /another person/);
    const still = await as('erin')('GET', '/v1/elevations?status=pending');
    assert.ok(still.json.elevations.some((x: any) => x.id === id), 'the refusal left it pending');
    const log = await as('erin')('GET', '/v1/audit/entries?from=0&limit=1000');
    const refusal = log.json.entries.map((x: any) => x.entry).find((x: any) => x.action === 'elevation.approve' && x.subject === `elevation:${id}` && x.outcome === 'denied');
    assert.equal(refusal.actor, 'user:erin');
    assert.match(refusal.details.reason, /cannot also approve/);
    assert.equal((await as('frank')('POST', `/v1/elevations/${id}/approve`)).status, 200);
    assert.ok((await as('erin')('GET', '/v1/whoami')).json.roles.includes('oncall-lead'));
  });

  test('the CLI: elevate, elevation list --pending, elevation approve, usage errors', async () => {
    const run = async (who: string, argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env: { STAGEGATE_SERVER: url, STAGEGATE_TOKEN: tokens[who] }, cwd: fx.projectDir }).catch((e: Error) => {
        err.push(e.message);
        return -1;
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const asked = await run('dave', ['elevate', '--role', 'approver', '--minutes', '15', '--reason', 'covering the approver rota today', '--json']);
    assert.equal(asked.code, 0, asked.err);
    const id = JSON.parse(asked.out).elevation.id as string;
    const pending = await run('erin', ['elevation', 'list', '--pending']);
    assert.equal(pending.code, 0, pending.err);
    assert.match(pending.out, new RegExp(`${id}  pending  user:dave -> approver for 15 min: covering the approver rota today`));
    const self = await run('dave', ['elevation', 'approve', id]);
    assert.equal(self.code, 5, 'forbidden exits 5');
    assert.match(self.err, /forbidden|may not/);
    const ok = await run('frank', ['elevation', 'approve', id]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, new RegExp(`approved ${id}: user:dave holds approver until `));
    const usage = await run('dave', ['elevate', '--role', 'approver', '--minutes', 'ten', '--reason', 'x']);
    assert.equal(usage.code, 2, usage.err);
    assert.equal((await run('dave', ['elevate', '--role', 'approver'])).code, 2);
    assert.equal((await run('erin', ['elevation', 'list', '--pending', '--active'])).code, 2);
  });

  test('a denied request grants nothing; an undecided one times out after a day', async () => {
    const a = (await as('dave')('POST', '/v1/elevations', { role: 'releaser', minutes: 30, reason })).json.elevation;
    const selfDeny = await as('dave')('POST', `/v1/elevations/${a.id}/deny`);
    assert.equal(selfDeny.status, 403);
    const denied = await as('frank')('POST', `/v1/elevations/${a.id}/deny`);
    assert.equal(denied.status, 200, denied.text);
    assert.equal(denied.json.elevation.status, 'denied');
    assert.equal(denied.json.elevation.expiresAt, null);
    assert.equal((await as('erin')('POST', `/v1/elevations/${a.id}/approve`)).status, 409, 'a denial is final');
    assert.equal((await as('dave')('GET', '/v1/whoami')).json.roles.includes('releaser'), false);
    assert.ok((await as('erin')('GET', '/v1/elevations?status=denied')).json.elevations.some((x: any) => x.id === a.id));

    assert.equal((await as('erin')('POST', '/v1/elevations/elv_0123456789abcdef/approve')).status, 404);
    assert.equal((await as('erin')('GET', '/v1/elevations?status=bogus')).status, 400);

    const b = (await as('dave')('POST', '/v1/elevations', { role: 'releaser', minutes: 30, reason })).json.elevation;
    offsetMs += 25 * 3_600_000;
    const late = await as('erin')('POST', `/v1/elevations/${b.id}/approve`);
    assert.equal(late.status, 409, late.text);
    assert.match(late.json.error.message, /timed out/);
  });
});
