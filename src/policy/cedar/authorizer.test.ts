import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { actions as coreActions } from '../authorize.ts';
import { defaultRoles, type PrincipalKind, type ResolvedPrincipal } from '../principal.ts';
import { type CedarAction, cedarActions, promotionContextActions, tiers } from './actions.ts';
import { type AuthzRequest, createCedarAuthorizer } from './authorizer.ts';
import { buildPolicySet, defaultPolicyDir, loadPolicySet, schemaFileName } from './load.ts';

const set = await loadPolicySet();
const authz = createCedarAuthorizer(set);
authz.warmUp();

const principal = (roles: string[], kind: PrincipalKind = 'user', groups: string[] = []): ResolvedPrincipal => ({
  kind,
  name: 'pat',
  id: `${kind}:pat`,
  roles,
  groups,
  credential: 'token:tok_1',
  scopes: [],
});

const promotion = (tier: string) => ({ type: 'Promotion', id: `checkout-${tier}`, attrs: { service: 'checkout', environment: tier, tier } });

/** the resource each action is asked about in the matrix (promotion actions get one per tier) */
const resourceFor: Record<CedarAction, AuthzRequest['resource']> = {
  'release.read': { type: 'Release', id: 'checkout@1.0.0', attrs: { service: 'checkout' } },
  'release.push': { type: 'Release', id: 'checkout@1.0.0', attrs: { service: 'checkout' } },
  'blob.upload': { type: 'Release', id: 'checkout@1.0.0', attrs: { service: 'checkout' } },
  'promotion.read': promotion('prod'),
  'promotion.request': promotion('prod'),
  'promotion.abort': promotion('prod'),
  'status.read': { type: 'Project', id: 'shop' },
  'audit.read': { type: 'AuditLog', id: 'main' },
  'token.create': { type: 'Token', id: 'tok_2' },
  'token.read': { type: 'Project', id: 'shop' },
  'token.revoke': { type: 'Token', id: 'tok_2' },
  'approval.decide': promotion('prod'),
  'approval.read': promotion('prod'),
  'freeze.read': { type: 'Environment', id: 'prod', attrs: { name: 'prod', tier: 'prod' } },
  'policy.read': { type: 'Project', id: 'shop' },
  'breakglass.request': promotion('prod'),
  'breakglass.confirm': promotion('prod'),
  'breakglass.review': { type: 'Promotion', id: 'checkout-prod', attrs: { service: 'checkout', environment: 'prod', tier: 'prod' } },
  'elevation.request': { type: 'Role', id: 'releaser' },
  'elevation.approve': { type: 'Role', id: 'releaser' },
  'identity.read': { type: 'Group', id: 'team-a' },
  'identity.manage': { type: 'User', id: 'sam' },
  'session.create': { type: 'Token', id: 'tok_1' },
  'flag.read': { type: 'Environment', id: 'staging', attrs: { name: 'staging', tier: 'staging' } },
  'flag.change': { type: 'Environment', id: 'staging', attrs: { name: 'staging', tier: 'staging' } },
  'flag.approve': { type: 'Environment', id: 'staging', attrs: { name: 'staging', tier: 'staging' } },
  'flag.apply': { type: 'Environment', id: 'staging', attrs: { name: 'staging', tier: 'staging' } },
  'flag.evaluate': { type: 'Environment', id: 'staging', attrs: { name: 'staging', tier: 'staging' } },
  'parity.read': { type: 'Project', id: 'shop' },
  'drift.read': { type: 'Environment', id: 'prod', attrs: { name: 'prod', tier: 'prod' } },
  'attestation.read': { type: 'Project', id: 'shop' },
  'rollout.read': promotion('prod'),
  'rollout.control': promotion('prod'),
};

/**
 * The authorization matrix of the shipped policies, for a user principal. One letter per role, in
 * the order viewer, developer, releaser, approver, security, admin: A = allow, D = deny. Actions on
 * a promotion have one row for non-prod tiers (dev, test, staging) and one for prod.
 */
type Row = string | { nonProd: string; prod: string };
const expected: Record<CedarAction, Row> = {
  'release.read': 'AAAAAA',
  'promotion.read': 'AAAAAA',
  'status.read': 'AAAAAA',
  'audit.read': 'AAAAAA',
  'approval.read': 'AAAAAA',
  'freeze.read': 'AAAAAA',
  'release.push': 'DAADDA',
  'blob.upload': 'DAADDA',
  'promotion.request': { nonProd: 'DAADDA', prod: 'DDADDA' },
  'promotion.abort': { nonProd: 'DAADDA', prod: 'DDADDA' },
  'approval.decide': { nonProd: 'DDDADA', prod: 'DDDADA' },
  'breakglass.request': { nonProd: 'DDDDDA', prod: 'DDDDDA' },
  'breakglass.confirm': { nonProd: 'DDDDDA', prod: 'DDDDDA' },
  'breakglass.review': 'DDDDAA',
  'token.create': 'DDDDDA',
  'token.read': 'DDDDAA',
  'token.revoke': 'DDDDDA',
  'policy.read': 'DDDDAA',
  'identity.read': 'DDDDAA',
  'identity.manage': 'DDDDDA',
  'elevation.request': 'AAAAAA',
  'elevation.approve': 'DDDDDA',
  'session.create': 'AAAAAA',
  // flags in a staging environment (in prod only releasers and admins may change and apply: see below)
  'flag.read': 'AAAAAA',
  'flag.change': 'DAADDA',
  'flag.approve': 'DDDADA',
  'flag.apply': 'DAADDA',
  'flag.evaluate': 'AAAAAA',
  'parity.read': 'AAAAAA',
  'drift.read': 'AAAAAA',
  'attestation.read': 'AAAAAA',
  'rollout.read': 'AAAAAA',
  'rollout.control': { nonProd: 'DAADDA', prod: 'DDADDA' },
};

const decide = (p: ResolvedPrincipal, action: string, resource: AuthzRequest['resource'], context?: AuthzRequest['context']) =>
  authz.isAuthorized({ principal: p, action, resource, ...(context ? { context } : {}) });

describe('cedar authorizer: the default authorization matrix', () => {
  test('every action the core authorizes is a Cedar action, and the schema declares exactly the Cedar actions', async () => {
    for (const a of coreActions) assert.ok((cedarActions as readonly string[]).includes(a), `${a} is missing from cedarActions`);
    const schema = cedar.schemaToJson(await readFile(path.join(defaultPolicyDir, schemaFileName), 'utf8'));
    assert.equal(schema.type, 'success');
    if (schema.type !== 'success') return;
    const declared = Object.entries(schema.json.Stagegate?.actions ?? {})
      .filter(([, a]) => (a.appliesTo?.principalTypes.length ?? 0) > 0)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(declared, [...cedarActions].sort());
  });

  test('every action has an expected decision for every default role', () => {
    assert.deepEqual(Object.keys(expected).sort(), [...cedarActions].sort());
    for (const row of Object.values(expected)) {
      for (const r of typeof row === 'string' ? [row] : [row.nonProd, row.prod]) assert.match(r, new RegExp(`^[AD]{${defaultRoles.length}}$`));
    }
  });

  for (const action of cedarActions) {
    const row = expected[action];
    const isPromotion = promotionContextActions.includes(action);
    const cases: { label: string; letters: string; resource: AuthzRequest['resource'] }[] = isPromotion
      ? tiers.map((tier) => ({ label: tier, letters: typeof row === 'string' ? row : tier === 'prod' ? row.prod : row.nonProd, resource: promotion(tier) }))
      : [{ label: 'any', letters: typeof row === 'string' ? row : '', resource: resourceFor[action] }];
    test(`${action}: ${cases.map((c) => `${c.label} ${c.letters}`).join(', ')}`, () => {
      for (const c of cases) {
        assert.equal(c.letters.length, defaultRoles.length, `${action} needs one letter per role`);
        defaultRoles.forEach((role, i) => {
          const d = decide(principal([role]), action, c.resource);
          const want = c.letters[i] === 'A';
          assert.equal(d.allowed, want, `${role} ${action} (${c.label}): expected ${want ? 'allow' : 'deny'}, got ${d.reason}`);
          assert.deepEqual(d.errors, [], `${role} ${action}: ${d.errors.join('; ')}`);
          if (d.allowed) assert.ok(d.policyIds.length > 0);
        });
      }
    });
  }

  test('a principal without roles is denied every action, with the roles that would be permitted', () => {
    for (const action of cedarActions) {
      const resource = promotionContextActions.includes(action) ? promotion('staging') : resourceFor[action];
      const d = decide(principal([]), action, resource);
      assert.equal(d.allowed, false, action);
      assert.deepEqual(d.policyIds, []);
      const row = expected[action];
      const letters = typeof row === 'string' ? row : row.nonProd;
      const would = defaultRoles.filter((_, i) => letters[i] === 'A');
      assert.ok(d.reason.endsWith(`roles that would: [${would.join(', ')}]`), `${action}: ${d.reason}`);
    }
  });
});

describe('cedar authorizer: forbid rules and reasons', () => {
  test('flags in prod: only releasers and admins change or apply, by a named forbid rule', () => {
    const prod = { type: 'Environment', id: 'prod', attrs: { name: 'prod', tier: 'prod' } };
    for (const action of ['flag.change', 'flag.apply']) {
      const d = decide(principal(['developer']), action, prod);
      assert.equal(d.allowed, false);
      assert.deepEqual(d.policyIds, ['forbid-prod-flags-without-releaser']);
      assert.equal(decide(principal(['releaser']), action, prod).allowed, true);
    }
    assert.equal(decide(principal(['approver'], 'service'), 'flag.approve', prod).allowed, false, 'a service account cannot approve');
  });

  test('a developer promoting to prod is refused by a named forbid rule, with its reason', () => {
    const d = decide(principal(['developer']), 'promotion.request', promotion('prod'));
    assert.equal(d.allowed, false);
    assert.deepEqual(d.policyIds, ['forbid-prod-promote-without-releaser']);
    assert.match(d.reason, /^forbidden by forbid-prod-promote-without-releaser \(promoting to or aborting in a prod environment needs the releaser or admin role\)$/);
  });

  test('allowed decisions name the permitting policy and its reason', () => {
    const d = decide(principal(['developer']), 'promotion.request', promotion('staging'));
    assert.deepEqual(d, {
      allowed: true,
      policyIds: ['developer-promote-non-prod'],
      reason: 'permitted by developer-promote-non-prod (developers may request and abort promotions to dev, test and staging environments)',
      errors: [],
    });
  });

  test('default deny says which roles would permit it', () => {
    const d = decide(principal(['viewer']), 'release.push', resourceFor['release.push']);
    assert.equal(
      d.reason,
      'no policy permits release.push on Release::"checkout@1.0.0" for user:pat with roles [viewer]; roles that would: [developer, releaser, admin]',
    );
    const none = decide(principal(['viewer'], 'workload'), 'token.create', { type: 'Token', id: 't' });
    assert.deepEqual(none.policyIds, ['forbid-workload-credentials']);
  });

  test('break-glass promotions need admin; the tier comes from the promotion unless the context says otherwise', () => {
    const releaser = decide(principal(['releaser']), 'promotion.request', promotion('prod'), { breakGlass: true });
    assert.deepEqual(releaser.policyIds, ['forbid-breakglass-promote-without-admin']);
    const admin = decide(principal(['admin']), 'promotion.request', promotion('prod'), { breakGlass: true });
    assert.equal(admin.allowed, true);
    // context tier wins over the resource's: a developer asking with context tier prod is refused
    assert.equal(decide(principal(['developer']), 'promotion.request', promotion('dev'), { tier: 'prod' }).allowed, false);
    // an unknown tier is not "non-prod"
    assert.equal(decide(principal(['developer']), 'promotion.request', promotion('qa')).allowed, false);
  });

  test('service accounts and workloads cannot make decisions a person makes, even as admin', () => {
    for (const kind of ['service', 'workload'] as const) {
      for (const action of ['approval.decide', 'breakglass.request', 'breakglass.confirm', 'breakglass.review', 'elevation.request', 'elevation.approve'] as const) {
        const resource = promotionContextActions.includes(action) ? promotion('prod') : resourceFor[action];
        const d = decide(principal(['admin', 'approver', 'security'], kind), action, resource);
        assert.equal(d.allowed, false, `${kind} ${action}`);
        assert.ok(d.policyIds.includes('forbid-non-human-decisions'), `${kind} ${action}: ${d.reason}`);
      }
      // they may still push and promote when their roles permit it
      assert.equal(decide(principal(['releaser'], kind), 'promotion.request', promotion('prod')).allowed, true);
    }
    assert.equal(decide(principal(['admin'], 'service'), 'token.create', { type: 'Token', id: 't' }).allowed, true);
    for (const action of ['token.create', 'token.revoke', 'identity.manage'] as const) {
      const d = decide(principal(['admin'], 'workload'), action, resourceFor[action]);
      assert.deepEqual(d.policyIds, ['forbid-workload-credentials'], action);
    }
  });

  test('roles add up: developer + approver may push and approve, but still not promote to prod', () => {
    const p = principal(['developer', 'approver'], 'user', ['team-a', 'oncall']);
    assert.equal(decide(p, 'release.push', resourceFor['release.push']).allowed, true);
    assert.equal(decide(p, 'approval.decide', promotion('prod')).allowed, true);
    assert.equal(decide(p, 'promotion.request', promotion('prod')).allowed, false);
  });
});

describe('cedar authorizer: groups, custom policies and bad requests', () => {
  const files = new Map([
    [
      '/p/oncall.cedar',
      `@id("oncall-prod")
@reason("the on-call group may promote anywhere")
permit (principal in Stagegate::Group::"oncall", action in Stagegate::Action::"promote", resource);
permit (principal in Stagegate::Role::"auditor", action == Stagegate::Action::"audit.read", resource);
forbid (principal, action, resource is Stagegate::Promotion) when { resource.service == "payments" };`,
    ],
  ]);
  const custom = createCedarAuthorizer(
    buildPolicySet({ dir: '/p', isDefault: false, schemaFile: '/p/schema.cedarschema', schemaText: set.schemaText, files }),
  );

  test('group membership (flattened nested groups are direct parents) grants what the group is permitted', () => {
    const inNested = principal([], 'user', ['platform', 'oncall']);
    const d = custom.isAuthorized({ principal: inNested, action: 'promotion.request', resource: promotion('prod') });
    assert.deepEqual(d.policyIds, ['oncall-prod']);
    assert.equal(d.reason, 'permitted by oncall-prod (the on-call group may promote anywhere)');
    assert.equal(custom.isAuthorized({ principal: principal([], 'user', ['platform']), action: 'promotion.request', resource: promotion('prod') }).allowed, false);
  });

  test('policies without @id are named file:n; roles only custom policies mention are suggested', () => {
    const d = custom.isAuthorized({ principal: principal(['viewer']), action: 'audit.read', resource: { type: 'AuditLog', id: 'main' } });
    assert.equal(d.reason, 'no policy permits audit.read on AuditLog::"main" for user:pat with roles [viewer]; roles that would: [auditor]');
    assert.deepEqual(custom.isAuthorized({ principal: principal(['auditor']), action: 'audit.read', resource: { type: 'AuditLog', id: 'main' } }).policyIds, ['oncall:1']);
    const forbidden = custom.isAuthorized({
      principal: principal([], 'user', ['oncall']),
      action: 'promotion.request',
      resource: { type: 'Promotion', id: 'p', attrs: { service: 'payments', environment: 'dev', tier: 'dev' } },
    });
    assert.deepEqual(forbidden.policyIds, ['oncall:2']);
    assert.equal(forbidden.reason, 'forbidden by oncall:2');
  });

  test('malformed requests are denied with errors, never thrown', () => {
    const bad: AuthzRequest[] = [
      { principal: principal(['admin']), action: 'release.delete', resource: { type: 'Release', id: 'r', attrs: { service: 's' } } },
      { principal: principal(['admin']), action: 'release.read', resource: { type: 'Spaceship', id: 'r' } },
      { principal: principal(['admin']), action: 'release.read', resource: { type: 'Promotion', id: 'r', attrs: { service: 's', environment: 'e', tier: 'dev' } } },
      { principal: principal(['admin']), action: 'release.read', resource: { type: 'Release', id: 'r' } },
      { principal: principal(['admin']), action: 'release.read', resource: { type: 'Release', id: 'r', attrs: { service: 's', extra: 1 } } },
      { principal: principal(['admin']), action: 'release.read', resource: { type: 'Release', id: 'r', attrs: { service: 1.5 } } },
      { principal: principal(['admin']), action: 'promotion.request', resource: promotion('prod'), context: { tier: 'prod', breakGlass: 'yes' } },
      { principal: { ...principal(['admin']), kind: 'robot' as PrincipalKind }, action: 'release.read', resource: { type: 'Release', id: 'r', attrs: { service: 's' } } },
    ];
    for (const req of bad) {
      const d = authz.isAuthorized(req);
      assert.equal(d.allowed, false, JSON.stringify(req));
      assert.ok(d.errors.length > 0, JSON.stringify(req));
      assert.match(d.reason, /^request refused before any policy ran: /);
    }
  });

  test('a principal acting on itself, its role or its group is one entity, not a duplicate', () => {
    const self = authz.isAuthorized({ principal: principal(['security']), action: 'identity.read', resource: { type: 'User', id: 'pat' } });
    assert.equal(self.allowed, true, self.reason);
    const role = authz.isAuthorized({ principal: principal(['developer']), action: 'elevation.request', resource: { type: 'Role', id: 'developer' } });
    assert.equal(role.allowed, true, role.reason);
    const group = authz.isAuthorized({ principal: principal(['security'], 'user', ['team-a']), action: 'identity.read', resource: { type: 'Group', id: 'team-a' } });
    assert.equal(group.allowed, true, group.reason);
  });

  test('two authorizers with different policy sets do not share cached policies', () => {
    const a = createCedarAuthorizer(set);
    const b = custom;
    const req: AuthzRequest = { principal: principal(['auditor']), action: 'audit.read', resource: { type: 'AuditLog', id: 'main' } };
    assert.equal(a.isAuthorized(req).allowed, false);
    assert.equal(b.isAuthorized(req).allowed, true);
  });
});
