/** The config and dependencies gates on their own: a promotion folder on disk and a fake store. */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { generateSigningKey } from '../src/crypto/keys.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { configGate, dependenciesGate } from '../src/parity/config/gates.ts';
import type { Project } from '../src/project/schema.ts';
import type { PromotionRecord, ReleaseRecord } from '../src/store/store.ts';
import { repoRoot } from './helpers/fixture.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sg-cfg-gate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = generateSigningKey();
const manifestDir = path.join(repoRoot, 'examples', 'shop', 'manifest', 'checkout');
writeFileSync(path.join(dir, 'app.js'), 'x\n');

async function releaseOf(configDir: string, needs: string[] = [], artifact = path.join(dir, 'app.js')): Promise<ReleaseRecord> {
  const r = await createRelease({ service: 'checkout', version: '1.0.0', artifacts: [artifact], images: [], configDir, needs, privateKeyPem: key.privateKeyPem });
  return { id: r.releaseId, service: 'checkout', version: '1.0.0', bundle: r.bundleJson, signerKeyId: r.keyId, subjects: r.subjects.map((s) => ({ ...s })), pushedBy: 'user:t', createdAt: '2026-01-01T00:00:00Z' };
}

/** the promotion folder as the checksum gate leaves it: config/<file> and the artifacts */
function folder(name: string, configDir: string): string {
  const artifacts = path.join(dir, name);
  mkdirSync(artifacts, { recursive: true });
  cpSync(configDir, path.join(artifacts, 'config'), { recursive: true });
  cpSync(path.join(dir, 'app.js'), path.join(artifacts, 'app.js'));
  return artifacts;
}

describe('config gate', () => {
  test('an environment without overlay is compared with the signed base digest', async () => {
    const rel = await releaseOf(manifestDir);
    const artifacts = folder('dev', manifestDir);
    const g = await configGate(rel, 'dev', artifacts);
    assert.equal(g.passed, true, g.message);
    assert.match(g.message, /for dev \(base\.yaml\), equal to the signed stagegate:effective-config\/base/);
    const written = JSON.parse(readFileSync(path.join(artifacts, 'effective-config.json'), 'utf8'));
    assert.equal(written.digest, g.subject);
    assert.equal(written.environment, 'dev');
  });

  test('a config file the checksum gate did not place fails, pointing at the checksums gate', async () => {
    const rel = await releaseOf(manifestDir);
    const artifacts = folder('missing', manifestDir);
    rmSync(path.join(artifacts, 'config', 'prod.yaml'));
    const g = await configGate(rel, 'prod', artifacts);
    assert.equal(g.passed, false);
    assert.match(g.message, /config\/prod\.yaml cannot be read.*see the checksums gate/);
    // an altered copy is refused by digest, too
    const altered = folder('altered', manifestDir);
    writeFileSync(path.join(altered, 'config', 'prod.yaml'), 'runtime: {replicas: 1}\n');
    const a = await configGate(rel, 'prod', altered);
    assert.equal(a.passed, false);
    assert.match(a.message, /hashes to sha256:[a-f0-9]{64}, but the release signed/);
  });

  test('overlay files that are not signed in the release are ignored', async () => {
    const rel = await releaseOf(manifestDir);
    const copy = path.join(dir, 'with-qa');
    cpSync(manifestDir, copy, { recursive: true });
    writeFileSync(path.join(copy, 'qa.yaml'), 'runtime: {replicas: 4}\n');
    // the release's subjects do not include qa.yaml: the gate looks only at signed files, so qa equals base
    const g = await configGate(rel, 'qa', folder('qa', copy));
    assert.equal(g.passed, true, g.message);
    assert.match(g.message, /for qa \(base\.yaml\)/);
  });

  test('an artifact named effective-config.json is refused; a plain config folder passes', async () => {
    writeFileSync(path.join(dir, 'effective-config.json'), '{}\n');
    const clash = await releaseOf(manifestDir, [], path.join(dir, 'effective-config.json'));
    assert.match((await configGate(clash, 'dev', folder('clash', manifestDir))).message, /rename the artifact/);
    const plainDir = path.join(repoRoot, 'examples', 'shop', 'checkout', 'config');
    const plain = await releaseOf(plainDir);
    const g = await configGate(plain, 'dev', folder('plain', plainDir));
    assert.equal(g.passed, true);
    assert.match(g.message, /carries no layered config/);
  });
});

describe('dependencies gate', () => {
  const project = {
    services: [{ name: 'checkout' }, { name: 'payments' }, { name: 'legacy' }],
    environments: [{ name: 'prod', platform: { node: '20.19.0', kubernetes: '1.29' } }],
  } as unknown as Project;
  const running: Record<string, string> = { payments: '2.3.1', legacy: 'build-42' };
  const store = {
    read: { promotions: { list: async (q: { service: string }) => (running[q.service] ? [{ version: running[q.service] }] : []) } },
  } as unknown as Parameters<typeof dependenciesGate>[0]['store'];
  const promotion = { environment: 'prod' } as PromotionRecord;

  test('every need gets one result; each mismatch says what runs and what to do', async () => {
    const rel = await releaseOf(manifestDir, ['service:payments@^2.1.0', 'service:legacy@^1', 'service:billing@1', 'platform:node@>=22', 'platform:kubernetes@~1.29', 'platform:postgres@16']);
    const results = await dependenciesGate({ store, project }, promotion, rel);
    const by = Object.fromEntries(results.map((r) => [r.subject, r]));
    assert.equal(results.length, 6);
    assert.equal(by['service:payments@^2.1.0']?.passed, true);
    assert.match(by['service:legacy@^1']?.message ?? '', /runs legacy@build-42, which is not a semver version/);
    assert.match(by['service:billing@1']?.message ?? '', /billing is not a service of this project/);
    assert.match(by['platform:node@>=22']?.message ?? '', /prod provides node 20\.19\.0 — upgrade node in prod/);
    assert.equal(by['platform:kubernetes@~1.29']?.passed, true, by['platform:kubernetes@~1.29']?.message);
    assert.match(by['platform:postgres@16']?.message ?? '', /prod declares no postgres version — add `platform: \{postgres: VERSION\}`/);
  });

  test('no needs: one passing result', async () => {
    const [r] = await dependenciesGate({ store, project }, promotion, await releaseOf(manifestDir));
    assert.equal(r?.passed, true);
    assert.match(r?.message ?? '', /declares no needs/);
  });
});
