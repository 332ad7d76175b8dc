/**
 * The OpenFeature server provider exported as `stagegate/flags`, driven by @openfeature/server-sdk
 * against a real server: targeting context, types, unknown flags, a change picked up on refresh
 * (If-None-Match when unchanged), the same answer as OFREP for fractional rollouts, and a refused
 * token failing initialization.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OpenFeature } from '@openfeature/server-sdk';
import { createStagegateProvider } from 'stagegate/flags';
import type { App } from '../src/app.ts';
import { api, type Fixture, makeFixture, startApp } from './helpers/fixture.ts';

describe('OpenFeature provider (stagegate/flags)', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  let token: string;
  let reader: string;

  before(async () => {
    fx = await makeFixture();
    const s = await startApp(fx);
    app = s.app;
    url = s.url;
    token = s.token;
    const t = await api(url, token)('POST', '/v1/tokens', { name: 'shop-staging', actor: 'service:shop-staging', role: 'viewer', scopes: ['flag.read'] });
    assert.equal(t.status, 201, t.text);
    reader = t.json.token;
  });
  after(async () => {
    await OpenFeature.close();
    await app?.close();
    fx?.cleanup();
  });

  test('evaluates staging flags locally with targeting context, through the SDK', async () => {
    const provider = createStagegateProvider({ baseUrl: url, token: reader, environment: 'staging', pollIntervalMs: 0 });
    await OpenFeature.setProviderAndWait('staging', provider);
    const client = OpenFeature.getClient('staging');
    assert.equal(await client.getBooleanValue('new-checkout', false, { targetingKey: 'u1', email: 'ann@example.com' }), true);
    assert.equal(await client.getBooleanValue('new-checkout', true, { targetingKey: 'u2', email: 'bob@other.org' }), false);
    assert.equal(await client.getStringValue('payment-provider', 'none', { targetingKey: 'u1', country: 'NL' }), 'adyen');
    assert.equal(await client.getStringValue('payment-provider', 'none', { targetingKey: 'u1', country: 'US' }), 'stripe');
    assert.equal(await client.getNumberValue('max-cart-items', 0), 100);
    const missing = await client.getBooleanDetails('no-such-flag', true);
    assert.equal(missing.value, true);
    assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
    const wrongType = await client.getNumberDetails('payment-provider', 7, { country: 'NL' });
    assert.equal(wrongType.value, 7);
    assert.equal(wrongType.errorCode, 'TYPE_MISMATCH');

    // the same fractional bucket as OFREP for the same targetingKey
    for (const key of ['user-1', 'user-2', 'user-3']) {
      const viaProvider = await client.getStringDetails('checkout-banner', '', { targetingKey: key });
      const res = await fetch(`${url}/ofrep/v1/evaluate/flags/checkout-banner`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-stagegate-environment': 'staging' },
        body: JSON.stringify({ context: { targetingKey: key } }),
      });
      const viaOfrep = (await res.json()) as { variant: string; value: string };
      assert.equal(viaProvider.variant, viaOfrep.variant, key);
      assert.equal(viaProvider.value, viaOfrep.value, key);
    }
  });

  test('an applied change is picked up on refresh; an unchanged set is a 304', async () => {
    const provider = createStagegateProvider({ baseUrl: url, token: reader, environment: 'staging', pollIntervalMs: 0 });
    await OpenFeature.setProviderAndWait('refresh', provider);
    const client = OpenFeature.getClient('refresh');
    const v1 = provider.current;
    assert.equal(await provider.refresh(), false, 'nothing changed');
    const admin = api(url, token);
    const c = await admin('POST', '/v1/flags/staging/changes', { patch: [{ op: 'replace', path: '/flags/new-checkout/state', value: 'DISABLED' }], reason: 'roll back' });
    assert.equal(c.status, 201, c.text);
    assert.equal((await admin('POST', `/v1/flags/staging/changes/${c.json.change.id}/apply`)).status, 200);
    assert.equal(await provider.refresh(), true);
    assert.equal(provider.current?.version, (v1?.version ?? 0) + 1);
    const d = await client.getBooleanDetails('new-checkout', false, { email: 'ann@example.com' });
    assert.equal(d.value, false);
    assert.equal(d.reason, 'DISABLED');
  });

  test('a token that may not read the flags fails initialization with the server message', async () => {
    const t = await api(url, token)('POST', '/v1/tokens', { name: 'evaluator', actor: 'service:evaluator', role: 'viewer', scopes: ['flag.evaluate:staging'] });
    const provider = createStagegateProvider({ baseUrl: url, token: t.json.token, environment: 'staging', pollIntervalMs: 0 });
    await assert.rejects(OpenFeature.setProviderAndWait('refused', provider), /answered 403: .*may not flag\.read/);
    assert.throws(() => createStagegateProvider({ baseUrl: url, token, environment: 'Prod!' }), /not an environment name/);
  });
});
