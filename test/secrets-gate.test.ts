/**
 * The `secrets` gate end to end: an overdue secrets file blocks the promotion naming the file, the
 * keys and the rotate command; after `stagegate secrets rotate` it passes; a tampered file or a
 * missing identity fails with the file and the fix. Also the CEL fact `findings.secrets`.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../src/cli/main.ts';
import { initSecretsExample } from '../src/secrets/example.ts';
import { overdueSecretCount, secretsGate } from '../src/secrets/gate.ts';
import { secretInventory } from '../src/secrets/inventory.ts';
import { api, type Fixture, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

describe('secrets gate', () => {
  let fx: Fixture;
  let stop: () => Promise<void>;
  let call: ReturnType<typeof api>;
  let identityDir: string;
  let recoveryFile: string;
  before(async () => {
    fx = await makeFixture();
    const ex = await initSecretsExample(
      fx.projectDir,
      [
        { name: 'dev', created: '2025-01-01T00:00:00Z', rotateBy: '2025-06-01T00:00:00Z' },
        { name: 'staging', created: '2026-01-01T00:00:00Z', rotateBy: '2099-01-01T00:00:00Z' },
      ],
      { identityDir: path.join(fx.dir, 'age') },
    );
    identityDir = ex.identityDir;
    recoveryFile = ex.recoveryFile;
    const s = await startApp(fx, { ageIdentityDir: identityDir });
    stop = () => s.app.close();
    call = api(s.url, s.token);
    assert.equal((await push(call, await makeRelease(fx, '1.0.0'))).status, 201);
  });
  after(async () => {
    await stop();
    fx.cleanup();
  });
  const promote = async () => {
    const r = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' });
    assert.equal(r.status, 202, r.text);
    const p = await waitTerminal(call, r.json.promotion.id);
    return { p, gate: p.gates?.find((g: { gate: string }) => g.gate === 'secrets') as { passed: boolean; message: string; subject: string } };
  };
  const deps = () => ({ projectDir: fx.projectDir, identityDir, clock: () => new Date() });

  test('overdue: the promotion fails naming file, keys and the rotate command; after rotate it passes', async () => {
    assert.equal(await overdueSecretCount(deps(), { service: 'checkout', environment: 'dev' }), 2);
    const { p, gate } = await promote();
    assert.equal(p.state, 'Failed');
    assert.equal(gate.passed, false);
    assert.equal(gate.subject, 'secrets/dev/checkout.sops.yaml');
    assert.match(gate.message, /^2 secret\(s\) in secrets\/dev\/checkout\.sops\.yaml are overdue for rotation since 2025-06-01T00:00:00Z \(created 2025-01-01T00:00:00Z\): db\.password, api_key; rotate them: stagegate secrets rotate secrets\/dev\/checkout\.sops\.yaml --rotate-by 90d/);
    assert.match(p.message, /\[secrets secrets\/dev\/checkout\.sops\.yaml\]/);

    let out = '';
    const code = await runCli(['secrets', 'rotate', 'secrets/dev/checkout.sops.yaml', '--rotate-by', '30d', '--identity', recoveryFile], { out: (t) => (out += t), err: (t) => (out += t), env: {}, cwd: fx.projectDir });
    assert.equal(code, 0, out);
    assert.equal(await overdueSecretCount(deps(), { service: 'checkout', environment: 'dev' }), 0);
    const inv = await secretInventory(fx.projectDir, 'dev', { now: new Date() });
    assert.deepEqual(Object.keys(inv['checkout'] ?? {}), ['db.password', 'api_key']);
    assert.equal(inv['checkout']?.['api_key']?.created, undefined, 'no identity, no age');
    const again = await promote();
    assert.equal(again.p.state, 'Succeeded', again.p.message);
    assert.equal(again.gate.passed, true);
    assert.match(again.gate.message, /^2 secret\(s\) in secrets\/dev\/checkout\.sops\.yaml open for dev; nearest rotate_by 20\d\d-/);
  });

  test('tampered MAC: fails naming the file, the MAC and the fix; no file: passes', async () => {
    const file = path.join(fx.projectDir, 'secrets', 'dev', 'checkout.sops.yaml');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replace(/^api_key: .*\n/m, ''));
    const { p, gate } = await promote();
    assert.equal(p.state, 'Failed');
    assert.match(gate.message, /^cannot decrypt secrets\/dev\/checkout\.sops\.yaml for dev: secrets\/dev\/checkout\.sops\.yaml: the SOPS MAC does not match the values.*; fix: secrets\/dev\/checkout\.sops\.yaml was altered: restore it from version control/);
    await writeFile(file, good);
    const none = await secretsGate(deps(), { service: 'payments', environment: 'dev' });
    assert.deepEqual([none.passed, none.message], [true, 'payments has no secrets in dev (no secrets/dev/payments.sops.yaml)']);
  });

  test('a server without identities, or with a broken identity file, fails the gate saying what to set', async () => {
    const noDir = await secretsGate({ ...deps(), identityDir: undefined }, { service: 'checkout', environment: 'staging' });
    assert.equal(noDir.passed, false);
    assert.match(noDir.message, /secrets\/staging\/checkout\.sops\.yaml exists but this server has no age identity for staging: set STAGEGATE_AGE_IDENTITY_DIR to a folder holding staging\.key/);
    const staging = path.join(identityDir, 'staging.key');
    const key = await readFile(staging, 'utf8');
    await writeFile(staging, 'not a key\n');
    const broken = await secretsGate(deps(), { service: 'checkout', environment: 'staging' });
    assert.match(broken.message, /staging\.key:1: not an age X25519 identity/);
    assert.ok(!broken.message.includes('not a key'), 'the identity file line is never echoed');
    await writeFile(staging, key);
    assert.equal((await secretsGate(deps(), { service: 'checkout', environment: 'staging' })).passed, true);
  });
});
