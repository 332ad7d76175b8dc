/** Users, groups and service accounts managed through the API, next to the project file's. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

test('an API-managed group grants its roles to its members; cycles and project-declared names are refused; it survives a restart', { timeout: 60_000 }, async () => {
  const fx = await makeFixture((y) => `${y}\nidentities:\n  users:\n    - {name: alice, roles: [approver]}\n`);
  try {
    let s = await startApp(fx);
    const admin = api(s.url, s.token);
    await push(admin, await makeRelease(fx, '1.0.0'));
    const zed = (await admin('POST', '/v1/tokens', { name: 'zed', actor: 'user:zed', role: 'viewer' })).json.token as string;
    const promote = () => api(s.url, zed)('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' });
    assert.equal((await promote()).status, 403);

    assert.equal((await admin('PUT', '/v1/identities/groups/oncall', { roles: ['releaser'] })).status, 200);
    const put = await admin('PUT', '/v1/identities/users/zed', { roles: ['viewer'], groups: ['oncall'] });
    assert.equal(put.status, 200, put.text);
    const r = await promote();
    assert.equal(r.status, 202, r.text);
    assert.equal((await waitTerminal(admin, r.json.promotion.id)).state, 'Succeeded');

    const cycle = await admin('PUT', '/v1/identities/groups/a', { members: ['group:b'] });
    assert.equal(cycle.status, 400, cycle.text); // group b does not exist
    assert.equal((await admin('PUT', '/v1/identities/groups/b', { members: ['group:oncall'] })).status, 200);
    const loop = await admin('PUT', '/v1/identities/groups/oncall', { roles: ['releaser'], members: ['group:b'] });
    assert.equal(loop.status, 400, loop.text);
    assert.match(loop.json.error.message, /cycle/i);
    const declared = await admin('PUT', '/v1/identities/users/alice', { roles: ['admin'] });
    assert.equal(declared.status, 409);
    assert.match(declared.json.error.message, /declared in stagegate\.yaml/);
    const listed = await admin('GET', '/v1/identities');
    assert.deepEqual(listed.json.managed.users.map((u: { name: string }) => u.name), ['zed']);
    assert.deepEqual(listed.json.project.users.map((u: { name: string }) => u.name), ['alice']);

    await s.app.close();
    s = await startApp(fx);
    assert.equal((await api(s.url, zed)('GET', '/v1/whoami')).json.roles.includes('releaser'), true, 'survives a restart');
    assert.equal((await api(s.url, s.token)('DELETE', '/v1/identities/users/zed')).status, 200);
    assert.equal((await api(s.url, zed)('GET', '/v1/whoami')).json.roles.includes('releaser'), false);
    const log = (await api(s.url, s.token)('GET', '/v1/audit/entries?from=0&limit=1000')).json.entries.map((e: any) => e.entry.action);
    assert.ok(log.includes('identity.put') && log.includes('identity.delete'));
    await s.app.close();
  } finally {
    fx.cleanup();
  }
});
