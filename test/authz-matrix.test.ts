/**
 * The route authorization matrix: every route the server serves x every default role (and no token),
 * sent as a minimal request and checked against the decision written down here. "Denied" is 403
 * (401 without a token); "allowed" is any other status: a 400, 404 or 409 passed authorization and
 * failed later. A route the server serves without an entry here fails the suite ("new route without
 * a decision"), and so does an entry for a route that no longer exists.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { defaultRoles, type DefaultRole } from '../src/policy/principal.ts';
import { api, type Fixture, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

type Who = DefaultRole | 'none';
const WHO: readonly Who[] = ['none', ...defaultRoles];
const ALL: readonly DefaultRole[] = defaultRoles;

/** ids the probes refer to, known once the setup ran */
interface Ids {
  /** a Succeeded dev promotion requested by the bootstrap admin (no matrix user) */
  devPromotion: string;
}

interface Probe {
  /** what the probe shows, for the failure message */
  label?: string;
  path: (ids: Ids) => string;
  body?: unknown;
  headers?: Record<string, string>;
  /** the roles let through; `public`: no token needed, everybody (no token included) gets through */
  allow: readonly DefaultRole[] | 'public';
}

const blob = 'matrix probe blob\n';
const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const NO_PRM = 'prm_0000000000000000';
const reason = 'matrix probe: checking who may do this';

/** key: `METHOD pattern.source`, exactly as app.routes has it */
const matrix: Record<string, Probe | Probe[]> = {
  // health probes and the session key set are unauthenticated by design
  [String.raw`GET ^\/healthz$`]: { path: () => '/healthz', allow: 'public' },
  [String.raw`GET ^\/readyz$`]: { path: () => '/readyz', allow: 'public' },
  [String.raw`GET ^\/\.well-known\/jwks\.json$`]: { path: () => '/.well-known/jwks.json', allow: 'public' },

  // releases
  [String.raw`PUT ^\/v1\/blobs\/(?<digest>[^/]{1,100})$`]: {
    path: () => `/v1/blobs/${blobDigest}`,
    body: blob,
    headers: { 'content-type': 'application/octet-stream' },
    allow: ['developer', 'releaser', 'admin'],
  },
  [String.raw`POST ^\/v1\/releases$`]: { path: () => '/v1/releases', body: { bundle: '{}' }, allow: ['developer', 'releaser', 'admin'] },
  [String.raw`GET ^\/v1\/releases$`]: { path: () => '/v1/releases', allow: ALL },
  [String.raw`GET ^\/v1\/releases\/(?<ref>[^/]{1,200})$`]: { path: () => '/v1/releases/checkout@1.0.0', allow: ALL },

  // promotions: non-prod for developers, prod only for releasers (and admins)
  [String.raw`POST ^\/v1\/promotions$`]: [
    { label: 'dev', path: () => '/v1/promotions', body: { service: 'checkout', version: '9.9.9', environment: 'dev' }, allow: ['developer', 'releaser', 'admin'] },
    { label: 'prod', path: () => '/v1/promotions', body: { service: 'checkout', version: '9.9.9', environment: 'prod' }, allow: ['releaser', 'admin'] },
    { label: 'prod dry run', path: () => '/v1/promotions', body: { service: 'checkout', version: '9.9.9', environment: 'prod', dryRun: true }, allow: ['releaser', 'admin'] },
  ],
  [String.raw`POST ^\/v1\/rollbacks$`]: [
    { label: 'dev', path: () => '/v1/rollbacks', body: { service: 'checkout', environment: 'dev' }, allow: ['developer', 'releaser', 'admin'] },
    { label: 'prod', path: () => '/v1/rollbacks', body: { service: 'checkout', environment: 'prod' }, allow: ['releaser', 'admin'] },
  ],
  [String.raw`GET ^\/v1\/promotions$`]: { path: () => '/v1/promotions', allow: ALL },
  [String.raw`GET ^\/v1\/promotions\/(?<id>prm_[a-f0-9]{16})$`]: { path: (ids) => `/v1/promotions/${ids.devPromotion}`, allow: ALL },
  [String.raw`POST ^\/v1\/promotions\/(?<id>prm_[a-f0-9]{16})\/abort$`]: {
    path: (ids) => `/v1/promotions/${ids.devPromotion}/abort`,
    body: { reason },
    allow: ['developer', 'releaser', 'admin'],
  },
  [String.raw`GET ^\/v1\/status$`]: { path: () => '/v1/status', allow: ALL },
  // rollouts: status for every role (404: no rollout yet), commands like promoting (prod: releasers and admins)
  [String.raw`GET ^\/v1\/rollouts\/(?<service>[a-z][a-z0-9-]{0,62})\/(?<env>[a-z][a-z0-9-]{0,62})$`]: { path: () => '/v1/rollouts/checkout/prod', allow: ALL },
  [String.raw`POST ^\/v1\/rollouts\/(?<service>[a-z][a-z0-9-]{0,62})\/(?<env>[a-z][a-z0-9-]{0,62})\/(?<command>promote|abort|retry)$`]: [
    { label: 'staging', path: () => '/v1/rollouts/checkout/staging/abort', body: { reason }, allow: ['developer', 'releaser', 'admin'] },
    { label: 'prod', path: () => '/v1/rollouts/checkout/prod/abort', body: { reason }, allow: ['releaser', 'admin'] },
  ],
  // webhook receivers call back with an HMAC signature instead of a token (unknown delivery: 404)
  [String.raw`POST ^\/v1\/callbacks\/webhook\/(?<deliveryId>[A-Za-z0-9_-]{1,128})$`]: { path: () => '/v1/callbacks/webhook/prm_x-deploy', body: {}, allow: 'public' },

  // parity, drift, attestation and the event stream: reads for every role (maxSeconds=0 ends the stream at once)
  [String.raw`GET ^\/v1\/parity$`]: { path: () => '/v1/parity?a=dev&b=staging', allow: ALL },
  [String.raw`GET ^\/v1\/drift\/(?<env>[^/]{1,100})$`]: { path: () => '/v1/drift/dev', allow: ALL },
  [String.raw`GET ^\/v1\/attestation$`]: { path: () => '/v1/attestation', allow: ALL },
  [String.raw`GET ^\/v1\/events$`]: { path: () => '/v1/events?maxSeconds=0', allow: ALL },

  // the audit log is readable by every role
  [String.raw`GET ^\/v1\/audit\/entries$`]: { path: () => '/v1/audit/entries?from=0&limit=1', allow: ALL },
  [String.raw`GET ^\/v1\/audit\/checkpoint$`]: { path: () => '/v1/audit/checkpoint', allow: ALL },
  [String.raw`GET ^\/v1\/audit\/key$`]: { path: () => '/v1/audit/key', allow: ALL },
  [String.raw`GET ^\/v1\/audit\/proof$`]: { path: () => '/v1/audit/proof?index=0&size=1', allow: ALL },
  [String.raw`GET ^\/v1\/audit\/consistency$`]: { path: () => '/v1/audit/consistency?from=1&to=1', allow: ALL },
  [String.raw`GET ^\/v1\/audit\/export$`]: { path: () => '/v1/audit/export?from=0', allow: ALL },
  [String.raw`GET ^\/v1\/audit\/verify$`]: { path: () => '/v1/audit/verify', allow: ALL },

  // credentials: tokens are the admin's, reading them also security's; sessions are self-service
  [String.raw`POST ^\/v1\/tokens$`]: { path: () => '/v1/tokens', body: { name: 'probe', actor: 'user:probe', role: 'viewer' }, allow: ['admin'] },
  [String.raw`GET ^\/v1\/tokens$`]: { path: () => '/v1/tokens', allow: ['security', 'admin'] },
  [String.raw`DELETE ^\/v1\/tokens\/(?<id>[A-Za-z0-9]{8,40})$`]: { path: () => '/v1/tokens/nosuchtoken0', allow: ['admin'] },
  [String.raw`POST ^\/v1\/login$`]: { path: () => '/v1/login', body: { ttlSeconds: 60 }, allow: ALL },
  // logout ends the caller's own session and nothing else; with an API token it is a 400 for everyone
  [String.raw`POST ^\/v1\/logout$`]: { path: () => '/v1/logout', allow: ALL },
  [String.raw`GET ^\/v1\/whoami$`]: { path: () => '/v1/whoami', allow: ALL },

  // approvals, break-glass, freezes
  [String.raw`GET ^\/v1\/approvals$`]: { path: () => '/v1/approvals', allow: ALL },
  [String.raw`POST ^\/v1\/promotions\/(?<id>prm_[a-f0-9]{16})\/approvals$`]: {
    path: (ids) => `/v1/promotions/${ids.devPromotion}/approvals`,
    body: { decision: 'approve', comment: '' },
    allow: ['approver', 'admin'],
  },
  // the statement an approver signs with their own key (approval.read: what it would say is no secret)
  [String.raw`GET ^\/v1\/promotions\/(?<id>prm_[a-f0-9]{16})\/approval-statement$`]: {
    path: (ids) => `/v1/promotions/${ids.devPromotion}/approval-statement?decision=approve`,
    allow: ALL,
  },
  [String.raw`POST ^\/v1\/promotions\/(?<id>prm_[a-f0-9]{16})\/break-glass$`]: {
    path: (ids) => `/v1/promotions/${ids.devPromotion}/break-glass`,
    body: { justification: 'matrix probe: an outage that cannot wait', skip: ['soak'], minutes: 5 },
    allow: ['admin'],
  },
  [String.raw`POST ^\/v1\/break-glass\/(?<id>bg_[a-f0-9]{16})\/confirm$`]: { path: () => '/v1/break-glass/bg_0000000000000000/confirm', allow: ['admin'] },
  [String.raw`POST ^\/v1\/break-glass\/(?<id>bg_[a-f0-9]{16})\/review$`]: { path: () => '/v1/break-glass/bg_0000000000000000/review', body: { comment: 'reviewed' }, allow: ['security', 'admin'] },
  [String.raw`GET ^\/v1\/break-glass$`]: { path: () => '/v1/break-glass', allow: ALL },
  [String.raw`GET ^\/v1\/freezes$`]: { path: () => '/v1/freezes', allow: ALL },

  // policy changes are approved like promotions; reading policy state is security's
  [String.raw`POST ^\/v1\/environments\/(?<env>[a-z][a-z0-9-]{0,62})\/policy-approvals$`]: {
    path: () => '/v1/environments/prod/policy-approvals',
    body: { decision: 'approve', comment: '' },
    allow: ['approver', 'admin'],
  },
  [String.raw`GET ^\/v1\/policy-state$`]: { path: () => '/v1/policy-state', allow: ['security', 'admin'] },

  // identities managed through the API: admins change them, security and admins read them
  [String.raw`GET ^\/v1\/identities$`]: { path: () => '/v1/identities', allow: ['security', 'admin'] },
  [String.raw`PUT ^\/v1\/identities\/(?<kind>users|groups|service-accounts)\/(?<name>[a-z][a-z0-9._-]{0,62})$`]: {
    path: () => '/v1/identities/users/m-viewer',
    body: { roles: ['viewer'] },
    allow: ['admin'],
  },
  [String.raw`DELETE ^\/v1\/identities\/(?<kind>users|groups|service-accounts)\/(?<name>[a-z][a-z0-9._-]{0,62})$`]: { path: () => '/v1/identities/users/nobody', allow: ['admin'] },

  // just-in-time elevation: anyone may ask, admins decide, security and admins see the list (identity.read)
  [String.raw`POST ^\/v1\/elevations$`]: { path: () => '/v1/elevations', body: { role: 'releaser', minutes: 5, reason }, allow: ALL },
  [String.raw`POST ^\/v1\/elevations\/(?<id>elv_[a-f0-9]{16})\/approve$`]: { path: () => '/v1/elevations/elv_0000000000000000/approve', allow: ['admin'] },
  [String.raw`POST ^\/v1\/elevations\/(?<id>elv_[a-f0-9]{16})\/deny$`]: { path: () => '/v1/elevations/elv_0000000000000000/deny', allow: ['admin'] },
  [String.raw`GET ^\/v1\/elevations$`]: { path: () => '/v1/elevations', allow: ['security', 'admin'] },

  // feature flags: everyone reads; changes like promotions (developers outside prod); approvers approve; OFREP needs an environment
  [String.raw`GET ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})$`]: { path: () => '/v1/flags/prod', allow: ALL },
  [String.raw`GET ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/history$`]: { path: () => '/v1/flags/prod/history', allow: ALL },
  [String.raw`POST ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/changes$`]: [
    { label: 'staging', path: () => '/v1/flags/staging/changes', body: { patch: [{ op: 'test', path: '/nope', value: 1 }], reason }, allow: ['developer', 'releaser', 'admin'] },
    { label: 'prod', path: () => '/v1/flags/prod/changes', body: { patch: [{ op: 'test', path: '/nope', value: 1 }], reason }, allow: ['releaser', 'admin'] },
  ],
  [String.raw`GET ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/changes$`]: { path: () => '/v1/flags/prod/changes', allow: ALL },
  [String.raw`GET ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/changes\/(?<id>flc_[a-f0-9]{16})$`]: { path: () => '/v1/flags/prod/changes/flc_0000000000000000', allow: ALL },
  [String.raw`GET ^\/v1\/flag-changes\/(?<id>flc_[a-f0-9]{16})$`]: { path: () => '/v1/flag-changes/flc_0000000000000000', allow: ALL },
  [String.raw`POST ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/changes\/(?<id>flc_[a-f0-9]{16})\/approve$`]: { path: () => '/v1/flags/prod/changes/flc_0000000000000000/approve', allow: ['approver', 'admin'] },
  [String.raw`POST ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/changes\/(?<id>flc_[a-f0-9]{16})\/reject$`]: { path: () => '/v1/flags/prod/changes/flc_0000000000000000/reject', allow: ['approver', 'admin'] },
  [String.raw`POST ^\/v1\/flags\/(?<env>[a-z][a-z0-9-]{0,62})\/changes\/(?<id>flc_[a-f0-9]{16})\/apply$`]: [
    { label: 'staging', path: () => '/v1/flags/staging/changes/flc_0000000000000000/apply', allow: ['developer', 'releaser', 'admin'] },
    { label: 'prod', path: () => '/v1/flags/prod/changes/flc_0000000000000000/apply', allow: ['releaser', 'admin'] },
  ],
  [String.raw`POST ^\/ofrep\/v1\/evaluate\/flags\/(?<key>[^/]{1,256})$`]: { path: () => '/ofrep/v1/evaluate/flags/max-cart-items', body: { context: {} }, headers: { 'x-stagegate-environment': 'prod' }, allow: ALL },
  [String.raw`POST ^\/ofrep\/v1\/evaluate\/flags$`]: { path: () => '/ofrep/v1/evaluate/flags', body: { context: {} }, headers: { 'x-stagegate-environment': 'prod' }, allow: ALL },
};

const identities = `
identities:
  users:
${defaultRoles.map((r) => `    - name: m-${r}\n      roles: [${r}]`).join('\n')}
`;

const keyOf = (r: { method: string; pattern: RegExp }) => `${r.method} ${r.pattern.source}`;
const methodOf = (key: string) => key.slice(0, key.indexOf(' '));

describe('authorization matrix: every route x every default role', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  const ids: Ids = { devPromotion: NO_PRM };
  const tokens: Partial<Record<Who, string>> = {};

  before(async () => {
    fx = await makeFixture((y) => y + identities);
    // the 'none' probes fail authentication dozens of times from one address: lift the lockout
    const s = await startApp(fx, { authMaxFailures: 1_000_000 });
    app = s.app;
    url = s.url;
    const admin = api(url, s.token);
    for (const role of defaultRoles) {
      // every token carries the least role; the role under test comes from the declared identity
      const r = await admin('POST', '/v1/tokens', { name: `m-${role}`, actor: `user:m-${role}`, role: 'viewer' });
      assert.equal(r.status, 201, r.text);
      tokens[role] = r.json.token;
      const who = await api(url, r.json.token)('GET', '/v1/whoami');
      assert.deepEqual(who.json.roles, role === 'viewer' ? ['viewer'] : [role, 'viewer'].sort(), `m-${role} holds ${role}`);
    }
    assert.equal((await push(admin, await makeRelease(fx, '1.0.0'))).status, 201);
    const p = await admin('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' });
    assert.equal(p.status, 202, p.text);
    ids.devPromotion = p.json.promotion.id;
    assert.equal((await waitTerminal(admin, ids.devPromotion)).state, 'Succeeded');
  });
  after(async () => {
    await app?.close();
    fx?.cleanup();
  });

  test('every route the server serves has a decision here, and every decision a route', () => {
    const served = app.routes.map(keyOf);
    assert.equal(new Set(served).size, served.length, 'two routes with the same method and pattern');
    const missing = served.filter((k) => !(k in matrix));
    const stale = Object.keys(matrix).filter((k) => !served.includes(k));
    assert.deepEqual(
      { missing, stale },
      { missing: [], stale: [] },
      `missing: new routes without a decision (add them to the matrix in test/authz-matrix.test.ts); stale: matrix entries for routes the server no longer serves`,
    );
    // public in the matrix <=> unauthenticated in the route table
    for (const r of app.routes) {
      const probes = [matrix[keyOf(r)]].flat();
      for (const probe of probes) assert.equal(probe?.allow === 'public', !r.auth, `${keyOf(r)}: public in the matrix must match auth: false in the route`);
    }
  });

  for (const [key, entry] of Object.entries(matrix)) {
    for (const probe of [entry].flat()) {
      test(`${key}${probe.label ? ` (${probe.label})` : ''}`, async (t) => {
        const route = app.routes.find((r) => keyOf(r) === key);
        if (!route) {
          t.skip('not served (the coverage test fails for it)');
          return;
        }
        const method = methodOf(key);
        const path = probe.path(ids);
        const pathname = path.split('?')[0]!;
        assert.ok(route.pattern.test(pathname), `the probe path ${path} does not match ${key}`);
        const earlier = app.routes.slice(0, app.routes.indexOf(route)).find((r) => r.method === method && r.pattern.test(pathname));
        assert.equal(earlier, undefined, `the probe path ${path} is caught by an earlier route`);
        const got: string[] = [];
        const want: string[] = [];
        for (const who of WHO) {
          const r = await api(url, who === 'none' ? undefined : tokens[who])(method, path, probe.body, probe.headers);
          const denied = r.status === 403 || r.status === 401;
          if (denied) assert.equal(r.status, who === 'none' ? 401 : 403, `${who} ${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
          assert.ok(r.status !== 429 && r.status < 500, `${who} ${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
          const allowed = probe.allow === 'public' || (who !== 'none' && probe.allow.includes(who));
          got.push(`${who}:${denied ? 'deny' : 'allow'}`);
          want.push(`${who}:${allowed ? 'allow' : 'deny'}`);
        }
        assert.deepEqual(got, want, `${method} ${path}: decisions differ from the matrix`);
      });
    }
  }
});
