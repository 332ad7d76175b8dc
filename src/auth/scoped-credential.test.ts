import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { DomainError } from '../domain/errors.ts';
import { createDeployCredentials } from './scoped-credential.ts';
import { createSessionIssuer } from './session.ts';

const AUD = 'https://stagegate.example/api';
const PRM = 'prm_0123456789abcdef';

async function fixture() {
  let now = Date.parse('2026-03-01T12:00:00Z');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const sessions = await createSessionIssuer({ key, issuer: 'https://stagegate.example', audience: AUD, clock: () => new Date(now) });
  const active = new Set<string>([PRM]);
  const creds = createDeployCredentials({ sessions, audience: AUD });
  return {
    sessions,
    creds,
    active,
    isPromotionActive: (id: string) => active.has(id),
    advance: (s: number) => {
      now += s * 1000;
    },
  };
}

describe('deploy credentials', () => {
  test('are session JWTs scoped to one promotion, with promotion and environment claims', async () => {
    const f = await fixture();
    const c = await f.creds.issueDeployCredential({ promotionId: PRM, environment: 'prod', ttlSeconds: 300 });
    const claims = decodeJwt(c.token);
    assert.equal(claims.scope, `deploy:${PRM}`);
    assert.equal(claims.promotion, PRM);
    assert.equal(claims.environment, 'prod');
    assert.equal(claims.aud, `${AUD}#deploy`);
    assert.equal(claims.sub, `workload:deploy/${PRM}`);
    assert.deepEqual(claims.roles, []);
    const r = await f.creds.verifyDeployCredential(c.token, { isPromotionActive: f.isPromotionActive });
    assert.ok(r.ok);
    assert.equal(r.promotionId, PRM);
    assert.equal(r.environment, 'prod');
    assert.deepEqual(r.principal.scopes, [`deploy:${PRM}`]);
  });

  test('stop working when the promotion ends, before they expire', async () => {
    const f = await fixture();
    const c = await f.creds.issueDeployCredential({ promotionId: PRM, environment: 'prod', ttlSeconds: 900 });
    f.active.delete(PRM);
    const r = await f.creds.verifyDeployCredential(c.token, { isPromotionActive: async (id) => f.active.has(id) });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'promotion_ended');
  });

  test('expire like every session; the lifetime is capped at 15 minutes', async () => {
    const f = await fixture();
    const c = await f.creds.issueDeployCredential({ promotionId: PRM, environment: 'prod', ttlSeconds: 86_400 });
    const claims = decodeJwt(c.token);
    assert.equal((claims.exp as number) - (claims.iat as number), 900);
    f.advance(900 + 31);
    const r = await f.creds.verifyDeployCredential(c.token, { isPromotionActive: f.isPromotionActive });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'expired');
  });

  test('are refused for another promotion, and are not API sessions', async () => {
    const f = await fixture();
    const c = await f.creds.issueDeployCredential({ promotionId: PRM, environment: 'prod', ttlSeconds: 300 });
    const other = await f.creds.verifyDeployCredential(c.token, { isPromotionActive: () => true, promotionId: 'prm_ffffffffffffffff' });
    assert.equal(other.ok, false);
    if (!other.ok) assert.equal(other.reason, 'missing_scope');
    const asApi = await f.sessions.verify(c.token, { audience: AUD });
    assert.equal(asApi.ok, false);
    if (!asApi.ok) assert.equal(asApi.reason, 'wrong_audience');
  });

  test('an API session cannot pass as a deploy credential, even with the deploy scope and audience', async () => {
    const f = await fixture();
    const api = await f.sessions.issue({ principal: { kind: 'user', name: 'alice' }, scopes: ['api'], ttlSeconds: 300 });
    const r1 = await f.creds.verifyDeployCredential(api.token, { isPromotionActive: () => true });
    assert.equal(r1.ok, false);
    if (!r1.ok) assert.equal(r1.reason, 'wrong_audience');
    // a session minted with the deploy audience but for a person, or with extra scopes, is refused
    const sneaky = await f.sessions.issue({
      principal: { kind: 'user', name: 'alice', roles: ['admin'] },
      scopes: [`deploy:${PRM}`],
      ttlSeconds: 300,
      audience: f.creds.audience,
      extraClaims: { promotion: PRM, environment: 'prod' },
    });
    const r2 = await f.creds.verifyDeployCredential(sneaky.token, { isPromotionActive: () => true });
    assert.equal(r2.ok, false);
    if (!r2.ok) assert.equal(r2.reason, 'not_a_deploy_credential');
    const wide = await f.sessions.issue({
      principal: { kind: 'workload', name: `deploy/${PRM}` },
      scopes: [`deploy:${PRM}`, 'api'],
      ttlSeconds: 300,
      audience: f.creds.audience,
      extraClaims: { promotion: PRM, environment: 'prod' },
    });
    const r3 = await f.creds.verifyDeployCredential(wide.token, { isPromotionActive: () => true });
    assert.equal(r3.ok, false);
  });

  test('revocation applies', async () => {
    const f = await fixture();
    const c = await f.creds.issueDeployCredential({ promotionId: PRM, environment: 'prod', ttlSeconds: 300 });
    const r = await f.creds.verifyDeployCredential(c.token, { isPromotionActive: () => true, isRevoked: (j) => j === c.jti });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'revoked');
  });

  test('refresh gives a new credential only while the promotion is active', async () => {
    const f = await fixture();
    const c = await f.creds.issueDeployCredential({ promotionId: PRM, environment: 'staging', ttlSeconds: 600 });
    f.advance(500);
    const fresh = await f.creds.refreshDeployCredential(c.token, { isPromotionActive: f.isPromotionActive, ttlSeconds: 600 });
    assert.ok(fresh.ok);
    assert.notEqual(fresh.jti, c.jti);
    assert.equal(fresh.replaces, c.jti);
    f.advance(500);
    assert.ok((await f.creds.verifyDeployCredential(fresh.token, { isPromotionActive: f.isPromotionActive })).ok);
    f.active.delete(PRM);
    const after = await f.creds.refreshDeployCredential(fresh.token, { isPromotionActive: f.isPromotionActive, ttlSeconds: 600 });
    assert.equal(after.ok, false);
  });

  test('bad promotion ids and environments are refused at issue', async () => {
    const f = await fixture();
    for (const promotionId of ['', 'prm_', 'prm_ABC', 'rel_0123456789abcdef', `prm_${'a'.repeat(41)}`, 'prm_01234567 x']) {
      await assert.rejects(f.creds.issueDeployCredential({ promotionId, environment: 'prod', ttlSeconds: 60 }), DomainError, promotionId);
    }
    await assert.rejects(f.creds.issueDeployCredential({ promotionId: PRM, environment: 'Prod', ttlSeconds: 60 }), DomainError);
  });
});
