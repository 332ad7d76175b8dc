/**
 * Session tokens, workload identity and failed-authentication limiting through the real server:
 * login, scopes, expiry, logout, revocation through the API token, forged / alg-none / wrong-audience
 * tokens, an OIDC ID token from a real issuer on 127.0.0.1, and the 429 lockout.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, exportJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { createSessionIssuer, SESSION_TYP } from '../src/auth/session.ts';
import type { App } from '../src/app.ts';
import { loginCommand } from '../src/cli/commands/login.ts';
import { loadPrivateKey } from '../src/crypto/keys.ts';
import { fromSessionScopes, scopeCovered, toSessionScopes } from '../src/engine/sessions.ts';
import { ADMIN_TOKEN, api, type Fixture, makeFixture, makeRelease, push, startApp } from './helpers/fixture.ts';

const ADMIN_ID = 'testadmin0001';
const ISSUER = 'stagegate/shop';
const OIDC_AUDIENCE = 'stagegate-ci';

/** a minimal OIDC issuer on loopback: serves a JWKS with one ES256 key and signs ID tokens */
async function startOidcIssuer() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `es-${randomBytes(4).toString('hex')}`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks') {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}/jwks`,
    fetches: () => fetches,
    sign: (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** every audit entry, read from the store (the API may be locked for this address) */
async function auditEntries(app: App): Promise<Array<{ action: string; outcome: string; actor: string; details: Record<string, unknown> }>> {
  const rows = await app.store.read.audit.listEntries(0, 10_000);
  return rows.map((r) => JSON.parse(r.entry));
}

async function auditText(app: App): Promise<string> {
  return (await app.store.read.audit.listEntries(0, 10_000)).map((r) => r.entry).join('\n');
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('session tokens, workload identity', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  let issuer: Awaited<ReturnType<typeof startOidcIssuer>>;
  const admin = () => api(url, ADMIN_TOKEN);
  /** the reason of the latest auth.failed entry */
  const lastFailure = async () => {
    const failed = (await auditEntries(app)).filter((e) => e.action === 'auth.failed');
    return String(failed.at(-1)?.details['reason']);
  };
  const login = async (token: string, body: unknown = {}) => api(url, token)('POST', '/v1/login', body);

  before(async () => {
    issuer = await startOidcIssuer();
    fx = await makeFixture(
      (yaml) =>
        `${yaml}\nidentities:\n  oidc:\n    - name: ci\n      issuer: ${issuer.url}\n      audience: ${OIDC_AUDIENCE}\n      jwksUrl: ${issuer.jwksUrl}\n      principal: "workload:ci:{repository}"\n      roles: [viewer]\n      require:\n        repository_owner: my-org\n`,
    );
    // a generous limit here: this suite sends many refused tokens on purpose; the limiter has its own suite below
    ({ app, url } = await startApp(fx, { authMaxFailures: 10_000 }));
    const rel = await makeRelease(fx, '1.0.0');
    assert.equal((await push(admin(), rel)).status, 201);
  });
  after(async () => {
    await app?.close();
    await issuer?.close();
    fx?.cleanup();
  });

  test('scope encoding round-trips and never widens', () => {
    assert.deepEqual(toSessionScopes([]), ['api']);
    assert.deepEqual(fromSessionScopes(['api']), []);
    for (const s of [['*.read'], ['promotion.*', 'release.push'], ['*']]) assert.deepEqual(fromSessionScopes(toSessionScopes(s)), s);
    assert.equal(scopeCovered([], '*'), true);
    assert.equal(scopeCovered(['*.read'], 'release.read'), true);
    assert.equal(scopeCovered(['release.read'], '*.read'), false);
    assert.equal(scopeCovered(['promotion.*'], 'promotion.request'), true);
  });

  test('login gives an ES256 session JWT that works for reads and is verifiable with the JWKS', async () => {
    const r = await login(ADMIN_TOKEN);
    assert.equal(r.status, 201, r.text);
    const { token, expiresAt, jti } = r.json;
    assert.match(token, /^eyJ/);
    assert.ok(Math.abs(Date.parse(expiresAt) - Date.now() - 900_000) < 5_000, expiresAt);
    const jwks = await api(url)('GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.json), { audience: 'stagegate', issuer: ISSUER });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.typ, SESSION_TYP);
    assert.equal(payload.sub, 'user:admin');
    assert.equal(payload['tok'], ADMIN_ID);
    assert.equal(payload.jti, jti);
    const who = await api(url, token)('GET', '/v1/whoami');
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json.actor, 'user:admin');
    assert.equal((await api(url, token)('GET', '/v1/releases')).status, 200);
    const entries = await auditEntries(app);
    const created = entries.find((e) => e.action === 'session.create' && e.outcome === 'succeeded');
    assert.equal(created?.details['token'], ADMIN_ID);
    assert.ok(!(await auditText(app)).includes(token.split('.')[2]!), 'the session signature is in the audit log');
  });

  test('a session scoped to *.read reads but cannot push; a TTL over 15 minutes is refused', async () => {
    const r = await login(ADMIN_TOKEN, { scopes: ['*.read'], ttlSeconds: 600 });
    assert.equal(r.status, 201, r.text);
    assert.ok(Math.abs(Date.parse(r.json.expiresAt) - Date.now() - 600_000) < 5_000);
    const s = api(url, r.json.token);
    assert.equal((await s('GET', '/v1/releases')).status, 200);
    const rel = await makeRelease(fx, '1.0.1');
    const pushed = await s('POST', '/v1/releases', { bundle: rel.bundleJson });
    assert.equal(pushed.status, 403, pushed.text);
    assert.match(pushed.json.error.details.fix, /scopes/);
    assert.equal((await login(ADMIN_TOKEN, { ttlSeconds: 901 })).status, 400);
    assert.equal((await login(ADMIN_TOKEN, { scopes: ['not a scope'] })).status, 400);
  });

  test('login cannot widen the API token scopes, and a session cannot log in again', async () => {
    const created = await admin()('POST', '/v1/tokens', { name: 'reader', actor: 'user:rita', role: 'admin', scopes: ['release.read', 'session.create'] });
    assert.equal(created.status, 201, created.text);
    const wider = await login(created.json.token, { scopes: ['*.read'] });
    assert.equal(wider.status, 403, wider.text);
    const kept = await login(created.json.token);
    assert.equal(kept.status, 201, kept.text);
    assert.equal((await api(url, kept.json.token)('GET', '/v1/releases')).status, 200);
    assert.equal((await api(url, kept.json.token)('GET', '/v1/promotions')).status, 403);
    const again = await login((await login(ADMIN_TOKEN)).json.token);
    assert.equal(again.status, 403, again.text);
  });

  test('an expired session (issued with a past clock by the server key) is 401', async () => {
    const keyFile = path.join(fx.dataDir, 'keys', 'session.key');
    const key = loadPrivateKey(await readFile(keyFile, 'utf8'), keyFile);
    const past = await createSessionIssuer({ key, issuer: ISSUER, audience: 'stagegate', clock: () => new Date(Date.now() - 3_600_000) });
    const old = await past.issue({ principal: { kind: 'user', name: 'admin', roles: ['admin'] }, scopes: ['api'], ttlSeconds: 900, extraClaims: { tok: ADMIN_ID } });
    const r = await api(url, old.token)('GET', '/v1/releases');
    assert.equal(r.status, 401);
    assert.equal(r.json.error.message, 'missing, malformed, unknown or revoked token');
    assert.match(await lastFailure(), /expired/);
    // the same issuer with the current clock: accepted (so the refusal above is the expiry)
    const now = await createSessionIssuer({ key, issuer: ISSUER, audience: 'stagegate', clock: () => new Date() });
    const fresh = await now.issue({ principal: { kind: 'user', name: 'admin', roles: ['admin'] }, scopes: ['api'], ttlSeconds: 60, extraClaims: { tok: ADMIN_ID } });
    assert.equal((await api(url, fresh.token)('GET', '/v1/releases')).status, 200);
  });

  test('forged (other key), alg none, wrong audience, deploy audience and oversized tokens are 401 with one message', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forger = await createSessionIssuer({ key: privateKey, issuer: ISSUER, audience: 'stagegate', clock: () => new Date() });
    const forged = await forger.issue({ principal: { kind: 'user', name: 'admin', roles: ['admin'] }, scopes: ['api'], ttlSeconds: 60, extraClaims: { tok: ADMIN_ID } });
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, aud: 'stagegate', sub: 'user:admin', kind: 'user', scope: 'api', roles: ['admin'], groups: [], iat: now, nbf: now, exp: now + 60, jti: 'AAAAAAAAAAAAAAAAAAAAAA', tok: ADMIN_ID };
    const none = `${b64({ alg: 'none', typ: SESSION_TYP })}.${b64(claims)}.`;
    const keyFile = path.join(fx.dataDir, 'keys', 'session.key');
    const real = await createSessionIssuer({ key: loadPrivateKey(await readFile(keyFile, 'utf8'), keyFile), issuer: ISSUER, audience: 'stagegate', clock: () => new Date() });
    const otherAud = await real.issue({ principal: { kind: 'user', name: 'admin', roles: ['admin'] }, scopes: ['api'], ttlSeconds: 60, audience: 'elsewhere', extraClaims: { tok: ADMIN_ID } });
    const deploy = await app.engine.tokens.sessions.deployCredentialFor('prm_0123456789abcdef', 'dev');
    const cases: Array<[string, RegExp]> = [
      [forged.token, /unknown_key|bad_signature/],
      [none, /wrong_algorithm/],
      [otherAud.token, /wrong_audience/],
      [deploy.token, /wrong_audience/],
      [`eyJ${'a'.repeat(9000)}.e.e`, /malformed/],
    ];
    for (const [token, reason] of cases) {
      const r = await api(url, token)('GET', '/v1/releases');
      assert.equal(r.status, 401, `${reason}: ${r.text}`);
      assert.equal(r.json.error.message, 'missing, malformed, unknown or revoked token');
      assert.match(await lastFailure(), reason);
    }
    const text = await auditText(app);
    for (const [token] of cases) assert.ok(!text.includes(token.slice(-40)), 'token text in the audit log');
  });

  test('logout revokes the session; revoking the API token kills its sessions', async () => {
    const s = (await login(ADMIN_TOKEN)).json.token;
    assert.equal((await api(url, s)('GET', '/v1/releases')).status, 200);
    const out = await api(url, s)('POST', '/v1/logout');
    assert.equal(out.status, 200, out.text);
    assert.equal((await api(url, s)('GET', '/v1/releases')).status, 401);
    assert.match(await lastFailure(), /revoked/);
    assert.equal((await api(url, ADMIN_TOKEN)('POST', '/v1/logout')).status, 400, 'logout with an API token is refused');

    const created = await admin()('POST', '/v1/tokens', { name: 'val', actor: 'user:val', role: 'viewer' });
    const session = (await login(created.json.token)).json.token;
    assert.equal((await api(url, session)('GET', '/v1/releases')).status, 200);
    assert.equal((await admin()('DELETE', `/v1/tokens/${created.json.record.id}`)).status, 200);
    assert.equal((await api(url, session)('GET', '/v1/releases')).status, 401);
    assert.match(await lastFailure(), new RegExp(`API token ${created.json.record.id} was revoked`));
  });

  test('a deploy credential is refused for another promotion and once its promotion is not active', async () => {
    const t = app.engine.tokens.sessions;
    const cred = await t.deployCredentialFor('prm_0123456789abcdef', 'dev');
    assert.ok(cred.expiresAt.getTime() - Date.now() <= 900_000);
    const other = await t.verifyDeployCredential(cred.token, 'prm_fedcba9876543210');
    assert.equal(other.ok ? 'ok' : other.reason, 'missing_scope');
    const unknown = await t.verifyDeployCredential(cred.token);
    assert.equal(unknown.ok ? 'ok' : unknown.reason, 'promotion_ended');
  });

  test('stagegate login prints a session token, --json gives the details', async () => {
    const out: string[] = [];
    const ctx = { out: (t: string) => out.push(t), err: () => undefined, env: {}, cwd: fx.dir };
    assert.equal(await loginCommand.run(['--server', url, '--token', ADMIN_TOKEN, '--scopes', '*.read', '--ttl', '600', '--json'], ctx), 0);
    const r = JSON.parse(out.join('\n'));
    assert.deepEqual(r.scopes, ['*.read']);
    assert.equal((await api(url, r.token)('GET', '/v1/releases')).status, 200);
    out.length = 0;
    assert.equal(await loginCommand.run(['--server', url, '--token', ADMIN_TOKEN], ctx), 0);
    assert.match(out.join(''), /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    await assert.rejects(loginCommand.run(['--server', url, '--token', ADMIN_TOKEN, '--ttl', '901'], ctx), /--ttl/);
  });

  test('an OIDC ID token from the configured local issuer is accepted; others are 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer.url, aud: OIDC_AUDIENCE, sub: 'repo:my-org/app:ref:refs/heads/main', repository: 'my-org/app', repository_owner: 'my-org', iat: now - 10, nbf: now - 10, exp: now + 300 };
    const good = await issuer.sign(claims);
    const who = await api(url, good)('GET', '/v1/whoami');
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json.actor, 'workload:ci:my-org/app');
    assert.deepEqual(who.json.roles, ['viewer']);
    assert.equal((await api(url, good)('GET', '/v1/releases')).status, 200);
    assert.ok(issuer.fetches() >= 1, 'the JWKS was fetched from the issuer');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...claims, repository_owner: 'evil-org' }, /claim_mismatch/],
      [{ ...claims, aud: 'stagegate' }, /wrong_audience/],
      [{ ...claims, iss: 'http://127.0.0.1:1' }, /unknown_issuer/],
      [{ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, /expired/],
    ];
    for (const [c, reason] of cases) {
      const r = await api(url, await issuer.sign(c))('GET', '/v1/whoami');
      assert.equal(r.status, 401, r.text);
      assert.match(await lastFailure(), reason);
    }
    // the workload is a viewer: no push
    const rel = await makeRelease(fx, '1.0.2');
    assert.equal((await api(url, good)('POST', '/v1/releases', { bundle: rel.bundleJson })).status, 403);
  });
});

describe('failed authentication is rate-limited', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  before(async () => {
    fx = await makeFixture();
    ({ app, url } = await startApp(fx)); // the defaults: 10 failures a minute, 5 minutes locked
  });
  after(async () => {
    await app?.close();
    fx?.cleanup();
  });

  test('11 bad tokens from one address: the 11th is 429 with Retry-After, and the address stays locked', async () => {
    assert.equal((await api(url, ADMIN_TOKEN)('GET', '/v1/whoami')).status, 200);
    const bad = (i: number) => (i % 2 === 0 ? `sgt_badtoken${String(i).padStart(4, '0')}_SECRETsecretSECRETsecret${i}` : `eyJhbGciOiJFUzI1NiJ9.eyJTRUNSRVQiOjF9.SECRETsig${i}`);
    for (let i = 0; i < 10; i++) {
      const r = await api(url, bad(i))('GET', '/v1/releases');
      assert.equal(r.status, 401, `attempt ${i + 1}: ${r.text}`);
    }
    const res = await fetch(`${url}/v1/releases`, { headers: { authorization: `Bearer ${bad(10)}` } });
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter > 250 && retryAfter <= 300, `Retry-After ${retryAfter}`);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'rate_limited');
    // locked: even the right token is refused from this address, and health probes still answer
    assert.equal((await api(url, ADMIN_TOKEN)('GET', '/v1/whoami')).status, 429);
    assert.equal((await api(url)('GET', '/healthz')).status, 200);

    const entries = await auditEntries(app);
    const failed = entries.filter((e) => e.action === 'auth.failed');
    assert.equal(failed.length, 12);
    assert.deepEqual(
      failed.slice(-2).map((e) => e.details['reason']),
      ['rate limited', 'rate limited'],
    );
    assert.ok(failed.every((e) => e.outcome === 'denied' && e.actor === 'anonymous'));
    const text = await auditText(app);
    assert.ok(!text.includes('SECRET'), 'token text in the audit log');
  });
});
