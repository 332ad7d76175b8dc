/**
 * OFREP endpoint contract: single and bulk evaluation (with ETag / 304), unknown and disabled flags,
 * bad context, and the environment binding of a credential (scope flag.evaluate:ENV): another
 * environment is a 403 that lands in the audit log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { api, type Fixture, makeFixture, startApp } from './helpers/fixture.ts';

async function raw(url: string, token: string, p: string, body: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), text, json: text ? JSON.parse(text) : undefined };
}

describe('OFREP endpoints', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  let adminToken: string;
  let prodToken: string;
  const ofrep = (token: string, p: string, context: unknown, headers: Record<string, string> = {}) => raw(url, token, `/ofrep/v1/evaluate/flags${p}`, JSON.stringify({ context }), headers);

  before(async () => {
    fx = await makeFixture();
    const s = await startApp(fx);
    app = s.app;
    url = s.url;
    adminToken = s.token;
    const t = await api(url, s.token)('POST', '/v1/tokens', { name: 'shop-prod', actor: 'service:shop-prod', role: 'viewer', scopes: ['flag.evaluate:prod'] });
    assert.equal(t.status, 201, t.text);
    prodToken = t.json.token;
  });
  after(async () => {
    await app?.close();
    fx?.cleanup();
  });

  test('a prod-bound token evaluates one flag: targeting match, default, static', async () => {
    const nl = await ofrep(prodToken, '/payment-provider', { targetingKey: 'u1', country: 'NL' });
    assert.equal(nl.status, 200, nl.text);
    assert.deepEqual(nl.json, { key: 'payment-provider', value: 'adyen', reason: 'TARGETING_MATCH', variant: 'adyen', metadata: { flagSetId: 'shop', version: '1' } });
    const us = await ofrep(prodToken, '/payment-provider', { targetingKey: 'u1', country: 'US' });
    assert.equal(us.json.value, 'stripe');
    assert.equal(us.json.reason, 'DEFAULT');
    const stat = await ofrep(prodToken, '/max-cart-items', {});
    assert.deepEqual([stat.json.value, stat.json.reason, stat.json.variant], [100, 'STATIC', 'large']);
  });

  test('fractional targeting is deterministic per targetingKey', async () => {
    const a = await ofrep(prodToken, '/checkout-banner', { targetingKey: 'user-42' });
    const b = await ofrep(prodToken, '/checkout-banner', { targetingKey: 'user-42' });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.reason, 'TARGETING_MATCH');
    assert.ok(['holiday', 'free-shipping'].includes(a.json.variant));
    assert.equal(a.json.variant, b.json.variant);
  });

  test('unknown and disabled flags are FLAG_NOT_FOUND (404); bad context is INVALID_CONTEXT (400)', async () => {
    const unknown = await ofrep(prodToken, '/no-such-flag', {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.key, 'no-such-flag');
    assert.equal(unknown.json.errorCode, 'FLAG_NOT_FOUND');
    const disabled = await ofrep(prodToken, '/new-checkout', { email: 'a@example.com' });
    assert.equal(disabled.status, 404);
    assert.match(disabled.json.errorDetails, /DISABLED/);
    const badKey = await ofrep(prodToken, '/max-cart-items', { targetingKey: 42 });
    assert.equal(badKey.status, 400);
    assert.deepEqual(badKey.json, { key: 'max-cart-items', errorCode: 'INVALID_CONTEXT', errorDetails: '/context/targetingKey must be a string' });
    const notJson = await raw(url, prodToken, '/ofrep/v1/evaluate/flags/max-cart-items', '{context');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.errorCode, 'INVALID_CONTEXT');
    const arr = await ofrep(prodToken, '', []);
    assert.equal(arr.status, 400);
    assert.equal(arr.json.errorCode, 'INVALID_CONTEXT');
  });

  test('bulk: every enabled flag, an ETag, 304 on If-None-Match, a new ETag when the context changes', async () => {
    const r = await ofrep(prodToken, '', { targetingKey: 'u1', country: 'NL' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.etag ?? '', /^"[0-9a-f]{32}"$/);
    assert.deepEqual(r.json.flags.map((f: any) => f.key).sort(), ['checkout-banner', 'max-cart-items', 'payment-provider']);
    assert.equal(r.json.flags.find((f: any) => f.key === 'payment-provider').value, 'adyen');
    const same = await ofrep(prodToken, '', { targetingKey: 'u1', country: 'NL' }, { 'if-none-match': r.etag! });
    assert.equal(same.status, 304);
    assert.equal(same.text, '');
    const other = await ofrep(prodToken, '', { targetingKey: 'u1', country: 'DE' }, { 'if-none-match': r.etag! });
    assert.equal(other.status, 200);
    assert.notEqual(other.etag, r.etag);
  });

  test('the environment comes from the credential or the header; another environment is 403 and audited', async () => {
    const wrong = await ofrep(prodToken, '/max-cart-items', {}, { 'x-stagegate-environment': 'staging' });
    assert.equal(wrong.status, 403, wrong.text);
    const log = await api(url, adminToken)('GET', '/v1/audit/entries?from=0&limit=1000');
    const denial = log.json.entries.map((e: any) => e.entry).reverse().find((e: any) => e.action === 'flag.evaluate' && e.outcome === 'denied');
    assert.equal(denial.actor, 'service:shop-prod');
    assert.equal(denial.subject, 'Environment:staging');
    assert.match(denial.details.reason, /flag\.evaluate of prod/);
    const allowed = log.json.entries.map((e: any) => e.entry).find((e: any) => e.action === 'flag.evaluate' && e.outcome === 'allowed');
    assert.equal(allowed.subject, 'Environment:prod');

    const noEnv = await ofrep(adminToken, '/max-cart-items', {});
    assert.equal(noEnv.status, 400);
    assert.match(noEnv.json.error.message, /which environment/);
    const dev = await ofrep(adminToken, '/debug-panel', {}, { 'x-stagegate-environment': 'dev' });
    assert.equal(dev.status, 200, dev.text);
    assert.equal(dev.json.value, true);
    const nowhere = await ofrep(adminToken, '/debug-panel', {}, { 'x-stagegate-environment': 'qa' });
    assert.equal(nowhere.status, 404);
    const anon = await raw(url, 'sgt_nope', '/ofrep/v1/evaluate/flags/max-cart-items', '{}');
    assert.equal(anon.status, 401);
  });

  test('a flag.evaluate:prod token cannot read the flag set nor mint a session for staging', async () => {
    assert.equal((await api(url, prodToken)('GET', '/v1/flags/prod')).status, 403);
    const t = await api(url, adminToken)('POST', '/v1/tokens', { name: 'shop-prod-2', actor: 'service:shop-prod', role: 'viewer', scopes: ['flag.evaluate:prod', 'session.create'] });
    assert.equal(t.status, 201, t.text);
    const call = api(url, t.json.token);
    const widen = await call('POST', '/v1/login', { scopes: ['flag.evaluate:staging'] });
    assert.equal(widen.status, 403, widen.text);
    assert.match(widen.json.error.message, /wider than the token's/);
    const unbound = await call('POST', '/v1/login', { scopes: ['flag.evaluate'] });
    assert.equal(unbound.status, 403, unbound.text);
    assert.match(unbound.json.error.message, /wider than the token's/);
    const same = await call('POST', '/v1/login', { scopes: ['flag.evaluate:prod'] });
    assert.equal(same.status, 201, same.text);
    const viaSession = await ofrep(same.json.token, '/max-cart-items', {});
    assert.equal(viaSession.status, 200, viaSession.text);
    const sessionWrong = await ofrep(same.json.token, '/max-cart-items', {}, { 'x-stagegate-environment': 'staging' });
    assert.equal(sessionWrong.status, 403);
  });
});
