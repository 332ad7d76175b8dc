/**
 * The `config` and `dependencies` gates end to end through the server: the effective config of the
 * target environment is computed from the verified files, compared with the signed byproduct,
 * recorded as the gate's subject and handed to the target; every unmet need is named.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toBundle, bundleToJson } from '../src/crypto/bundle.ts';
import { signDsse } from '../src/crypto/dsse.ts';
import { keyIdOf, loadPrivateKey } from '../src/crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE, buildReleaseStatement } from '../src/crypto/statement.ts';
import { createPublicKey } from 'node:crypto';
import { createRelease } from '../src/engine/release-create.ts';
import { effectiveConfigFromDir } from '../src/parity/config/effective-config.ts';
import { api, type Fixture, makeFixture, push, startApp, waitTerminal } from './helpers/fixture.ts';

interface Gate {
  gate: string;
  passed: boolean;
  message: string;
  subject?: string;
}

describe('config and dependencies gates', () => {
  let fx: Fixture;
  let stop: () => Promise<void>;
  let call: ReturnType<typeof api>;
  let manifest: string;

  before(async () => {
    fx = await makeFixture((y) =>
      y
        .replace('\ntargets:', '  - name: payments\n\ntargets:')
        .replace('    trustedKeys: [ci]\n  - name: staging', '    trustedKeys: [ci]\n    platform: {node: 20.19.0, postgres: "16.4"}\n  - name: staging')
        .replace('    requires: [dev]\n', '    requires: [dev]\n    platform: {node: 18.20.1, postgres: "16.4"}\n'),
    );
    manifest = path.join(fx.projectDir, 'manifest');
    const s = await startApp(fx);
    stop = () => s.app.close();
    call = api(s.url, s.token);
  });
  after(async () => {
    await stop();
    fx.cleanup();
  });

  const release = async (service: string, version: string, over: { configDir?: string; needs?: string[] } = {}) => {
    const artifact = path.join(fx.dir, `${service}-${version}.js`);
    await writeFile(artifact, `// ${service} ${version}\nconst url = "http://payments.internal.svc:8080";\n`);
    const configDir = over.configDir ?? path.join(manifest, 'checkout');
    const r = await createRelease({ service, version, artifacts: [artifact], images: [], configDir, needs: over.needs ?? [], privateKeyPem: await readFile(fx.keyFile, 'utf8') });
    const pushed = await push(call, { ...r, artifact, configDir });
    assert.equal(pushed.status, 201, pushed.text);
    return r;
  };
  const promote = async (service: string, version: string, environment: string) => {
    const r = await call('POST', '/v1/promotions', { service, version, environment });
    assert.equal(r.status, 202, r.text);
    return waitTerminal(call, r.json.promotion.id);
  };
  const gatesOf = (p: { gates: Gate[] }, name: string) => p.gates.filter((g) => g.gate === name);

  test('needs are checked against the target: unmet service and platform needs are each named', async () => {
    await release('checkout', '1.0.0', { needs: ['service:payments@^2.0.0', 'platform:node@>=20 <23', 'platform:postgres@^16'] });
    const first = await promote('checkout', '1.0.0', 'dev');
    assert.equal(first.state, 'Failed');
    const deps = gatesOf(first, 'dependencies');
    assert.equal(deps.length, 3);
    const payments = deps.find((g) => g.subject === 'service:payments@^2.0.0');
    assert.equal(payments?.passed, false);
    assert.match(payments?.message ?? '', /no release of payments has Succeeded in dev — promote a payments release in \^2\.0\.0 to dev first/);
    assert.ok(deps.filter((g) => g.subject?.startsWith('platform:')).every((g) => g.passed), JSON.stringify(deps));

    await release('payments', '2.1.0', { configDir: path.join(fx.projectDir, 'checkout', 'config') });
    const pay = await promote('payments', '2.1.0', 'dev');
    assert.equal(pay.state, 'Succeeded', pay.message);
    assert.match(gatesOf(pay, 'config')[0]?.message ?? '', /carries no layered config/);

    const second = await promote('checkout', '1.0.0', 'dev');
    assert.equal(second.state, 'Succeeded', second.message);
    assert.match(gatesOf(second, 'dependencies').find((g) => g.subject?.startsWith('service:'))?.message ?? '', /dev runs payments@2\.1\.0, in \^2\.0\.0/);

    // staging runs node 18 and no payments: both are named, with what to do
    const staging = await promote('checkout', '1.0.0', 'staging');
    assert.equal(staging.state, 'Failed');
    const failed = gatesOf(staging, 'dependencies').filter((g) => !g.passed);
    assert.deepEqual(failed.map((g) => g.subject).sort(), ['platform:node@>=20 <23', 'service:payments@^2.0.0']);
    assert.match(failed.find((g) => g.subject?.startsWith('platform'))?.message ?? '', /staging provides node 18\.20\.1 — upgrade node in staging/);
  });

  test('the config gate records the effective digest and hands effective-config.json to the target', async () => {
    const list = await call('GET', '/v1/promotions?environment=dev&service=checkout&limit=5');
    const ok = list.json.promotions.find((p: { state: string }) => p.state === 'Succeeded');
    const shown = (await call('GET', `/v1/promotions/${ok.id}`)).json.promotion;
    const config = gatesOf(shown, 'config')[0];
    const expected = await effectiveConfigFromDir(manifest, 'checkout', 'dev');
    assert.equal(config?.passed, true);
    assert.equal(config?.subject, expected.digest);
    assert.match(config?.message ?? '', /for dev \(base\.yaml\), equal to the signed stagegate:effective-config\/base; written to effective-config\.json/);
    // the hard-coded URL in the artifact is a warning, not a failure
    assert.match(config?.message ?? '', /warning: 1 config value\(s\) hard-coded in the artifacts \(checkout-1\.0\.0\.js:2:14: \/config\/paymentsUrl/);
    const written = JSON.parse(await readFile(path.join(fx.dataDir, 'runs', ok.id, 'artifacts', 'effective-config.json'), 'utf8'));
    assert.equal(written.digest, expected.digest);
    assert.deepEqual(written.document, expected.document);
    const deployed = JSON.parse(await readFile(path.join(fx.dataDir, 'target-state', 'dev', 'checkout', 'effective-config.json'), 'utf8'));
    assert.equal(deployed.environment, 'dev');
  });

  test('an effective config that differs from the signed byproduct fails, naming both digests', async () => {
    const configDir = path.join(manifest, 'checkout');
    const real = await effectiveConfigFromDir(manifest, 'checkout', 'base');
    const artifact = path.join(fx.dir, 'tampered.js');
    await writeFile(artifact, '// tampered\n');
    const made = await createRelease({ service: 'checkout', version: '1.9.0', artifacts: [artifact], images: [], configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') });
    // re-sign the same subjects with a byproduct digest that does not match the files
    const wrong = 'f'.repeat(64);
    const { bytes } = buildReleaseStatement({
      service: 'checkout',
      version: '1.9.0',
      subjects: made.subjects,
      provenance: {
        buildDefinition: { buildType: 'https://stagegate.dev/release/v1', externalParameters: {} },
        runDetails: { builder: { id: 'https://stagegate.dev/cli' }, byproducts: [{ name: 'stagegate:effective-config/base', digest: { sha256: wrong } }] },
      },
    });
    const key = loadPrivateKey(await readFile(fx.keyFile, 'utf8'), 'ci.key');
    const keyId = keyIdOf(createPublicKey(key));
    const bundleJson = bundleToJson(toBundle(signDsse(INTOTO_PAYLOAD_TYPE, bytes, key, keyId), keyId));
    const pushed = await push(call, { ...made, bundleJson, artifact, configDir });
    assert.equal(pushed.status, 201, pushed.text);
    const p = await promote('checkout', '1.9.0', 'dev');
    assert.equal(p.state, 'Failed');
    const g = gatesOf(p, 'config')[0];
    assert.equal(g?.passed, false);
    assert.ok(g?.message.includes(real.digest) && g.message.includes(`sha256:${wrong}`), g?.message);
    assert.equal(g?.subject, real.digest);
    assert.ok(gatesOf(p, 'signature').every((x) => x.passed), 'the signature itself is valid');
  });
});
