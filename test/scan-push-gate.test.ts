/**
 * Secret scanning wired into the product: a release with a plaintext secret (inside a tarball or in
 * a config file) is refused at push, with nothing stored and the refusal audited without the secret;
 * an allowlist entry with a reason lets it through; once that entry expires the `secret-scan` gate
 * blocks the release that was pushed under it. The secret never reaches a response, the audit log
 * or the server's log.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { create as tarCreate } from 'tar';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { fakes } from '../src/secrets/scan/test-fakes.ts';
import { ADMIN_TOKEN, api, type Fixture, makeFixture, waitTerminal } from './helpers/fixture.ts';

const aws = fakes.awsAccessKeyId();
const pat = fakes.githubPat();
const logs: string[] = [];
const logger = pino({ level: 'trace' }, { write: (s: string) => void logs.push(s) });

let fx: Fixture;
let app: App | undefined;
let call: ReturnType<typeof api>;
let url = '';
let dirty: Awaited<ReturnType<typeof tarRelease>> | undefined;

/** (re)start the server on the same data folder with the project file as it is now */
async function start(): Promise<void> {
  await app?.close();
  const config = loadConfig({ port: 0, dataDir: fx.dataDir, projectFile: fx.projectFile, reconcileIntervalMs: 50, bootstrapToken: ADMIN_TOKEN }, {});
  app = await createApp({ config, logger });
  url = `http://127.0.0.1:${(await app.listen()).port}`;
  call = api(url, ADMIN_TOKEN);
}

async function setAllowlist(section: string): Promise<void> {
  const text = await readFile(fx.projectFile, 'utf8');
  await writeFile(fx.projectFile, `${text.replace(/\nscan:\n[\s\S]*$/, '\n')}${section}`);
}

/** a release of `checkout` whose artifact is a tarball; `secret` lands in package/config/prod.env */
async function tarRelease(version: string, opts: { secret?: string; configSecret?: string } = {}) {
  const src = path.join(fx.dir, `src-${version}`);
  mkdirSync(path.join(src, 'package', 'config'), { recursive: true });
  await writeFile(path.join(src, 'package', 'index.js'), `module.exports = { version: '${version}' };\n`);
  await writeFile(path.join(src, 'package', 'config', 'prod.env'), `LOG_LEVEL=info\n${opts.secret ? `AWS_ACCESS_KEY_ID=${opts.secret}\n` : ''}`);
  const tgz = path.join(fx.dir, `app-${version}.tgz`);
  await tarCreate({ gzip: true, file: tgz, cwd: src }, ['package']);
  const configDir = path.join(fx.dir, `config-${version}`);
  cpSync(path.join(fx.projectDir, 'checkout', 'config'), configDir, { recursive: true });
  if (opts.configSecret) await writeFile(path.join(configDir, 'ci.yaml'), `ci:\n  github_token: ${opts.configSecret}\n`);
  const rel = await createRelease({ service: 'checkout', version, artifacts: [tgz], images: [], configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') });
  return { ...rel, files: new Map(rel.subjects.map((s) => [s.name, s.kind === 'artifact' ? tgz : path.join(configDir, s.name.slice('config/'.length))])) };
}

async function upload(rel: Awaited<ReturnType<typeof tarRelease>>): Promise<void> {
  for (const s of rel.subjects) {
    const res = await fetch(`${url}/v1/blobs/${s.digest}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
      body: await readFile(rel.files.get(s.name)!),
    });
    assert.ok(res.status < 300, `upload ${s.name}: ${res.status} ${await res.text()}`);
  }
}

const pushBundle = (rel: { bundleJson: string }) => call('POST', '/v1/releases', { bundle: rel.bundleJson });
const versions = async () => ((await call('GET', '/v1/releases')).json.releases as { version: string }[]).map((r) => r.version);
async function promote(version: string, environment: string) {
  const r = await call('POST', '/v1/promotions', { service: 'checkout', version, environment });
  assert.equal(r.status, 202, r.text);
  return waitTerminal(call, r.json.promotion.id);
}
async function auditText(): Promise<string> {
  const r = await call('GET', '/v1/audit/export');
  assert.equal(r.status, 200, r.text.slice(0, 300));
  return r.text;
}
async function lastDenied(action: string): Promise<any> {
  const size = (await call('GET', '/v1/audit/entries?limit=1')).json.size as number;
  const r = await call('GET', `/v1/audit/entries?from=${Math.max(0, size - 8)}&limit=8`);
  return (r.json.entries as { entry: any }[]).map((e) => e.entry).filter((e) => e.outcome === 'denied' && e.action === action).at(-1);
}
const secretsIn = (text: string): string[] => [aws, pat].filter((s) => text.includes(s) || text.includes(s.slice(4, 16)));

describe('secret scanning at push and at the gate', () => {
  before(async () => {
    fx = await makeFixture();
    await start();
  });
  after(async () => {
    await app?.close();
    fx.cleanup();
  });

  test('a clean tarball release is stored and passes the secret-scan gate', async () => {
    const rel = await tarRelease('1.0.0');
    await upload(rel);
    const r = await pushBundle(rel);
    assert.equal(r.status, 201, r.text);
    const p = await promote('1.0.0', 'dev');
    assert.equal(p.state, 'Succeeded', p.message);
    const gate = p.gates.find((g: { gate: string }) => g.gate === 'secret-scan');
    assert.equal(gate.passed, true);
    assert.match(gate.message, /no plaintext secrets in \d+ file\(s\)/);
  });

  test('an AWS key inside a tarball is refused at push: 422 secret_detected naming file:line, rule and a redacted match; nothing stored; audited without the secret', async () => {
    const rel = await tarRelease('2.0.0', { secret: aws });
    dirty = rel;
    await upload(rel);
    const before = await auditText();
    const r = await pushBundle(rel);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.code, 'secret_detected');
    assert.match(r.json.error.message, /checkout@2\.0\.0 contains 1 plaintext secret: app-2\.0\.0\.tgz!package\/config\/prod\.env:2:19 aws-access-token AKIA… \(fingerprint [0-9a-f]{16}\)/);
    assert.match(r.json.error.details.fix, /rotate it.*scan\.allow.*reason/);
    assert.deepEqual(r.json.error.details.findings.map((f: any) => [f.file, f.line, f.rule, f.match]), [['app-2.0.0.tgz!package/config/prod.env', 2, 'aws-access-token', 'AKIA…']]);
    assert.deepEqual(secretsIn(r.text), []);
    assert.ok(!(await versions()).includes('2.0.0'), 'no release row');
    assert.equal((await call('GET', '/v1/releases/checkout@2.0.0')).status, 404);
    const denied = await lastDenied('release.push');
    assert.equal(denied.subject, `release:${rel.releaseId}`);
    assert.match(denied.details.reason, /aws-access-token AKIA…/);
    const after = await auditText();
    assert.ok(after.length > before.length);
    assert.deepEqual(secretsIn(after), []);
  });

  test('a token in a config file is refused the same way, naming config/ci.yaml:2', async () => {
    const rel = await tarRelease('2.1.0', { configSecret: pat });
    await upload(rel);
    const r = await pushBundle(rel);
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.error.message, /config\/ci\.yaml:2:\d+ github-pat ghp_…/);
    assert.deepEqual(secretsIn(r.text), []);
  });

  test('a bundle whose files were not uploaded first is refused: they are scanned before the release is stored', async () => {
    const rel = await tarRelease('2.2.0');
    const r = await pushBundle(rel);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /checkout@2\.2\.0 signs \d+ file\(s\) the server holds no bytes for: app-2\.2\.0\.tgz/);
    assert.match(r.json.error.details.fix, /--artifact/);
    assert.ok(!(await versions()).includes('2.2.0'));
  });

  test('an allowlist entry with a reason lets the release through; the gate reports it as allowed', async () => {
    await setAllowlist(
      ['scan:', '  allow:', '    - rule: aws-access-token', '      path: "app-*.tgz!**/*.env"', '      reason: revoked demo key', '      owner: user:alice', '      expires: 2999-12-31', ''].join('\n'),
    );
    await start();
    const r = await pushBundle(dirty!); // the same bundle; its blobs are already stored
    assert.equal(r.status, 201, r.text);
    const p = await promote('2.0.0', 'dev');
    assert.equal(p.state, 'Succeeded', p.message);
    const gate = p.gates.find((g: { gate: string }) => g.gate === 'secret-scan');
    assert.equal(gate.passed, true);
    assert.match(gate.message, /1 finding\(s\) allowed by scan\.allow \(revoked demo key \(owner user:alice\) \[scan\.allow\[0\] rule aws-access-token/);
    // the entry is scoped: the same key in another rule's place or another file is still refused
    const other = await tarRelease('2.3.0', { configSecret: pat });
    await upload(other);
    assert.equal((await pushBundle(other)).status, 422);
  });

  test('once the entry has expired, the gate blocks the release pushed under it, and a new push is refused', async () => {
    await setAllowlist(['scan:', '  allow:', '    - rule: aws-access-token', '      path: "app-*.tgz!**/*.env"', '      reason: revoked demo key', '      expires: 2020-01-01', ''].join('\n'));
    await start();
    const p = await promote('2.0.0', 'staging');
    assert.equal(p.state, 'Failed');
    const failed = p.gates.filter((g: { passed: boolean }) => !g.passed);
    assert.deepEqual(failed.map((g: { gate: string }) => g.gate), ['secret-scan']);
    assert.equal(failed[0].subject, 'app-2.0.0.tgz!package/config/prod.env');
    assert.match(failed[0].message, /^app-2\.0\.0\.tgz!package\/config\/prod\.env:2:19: aws-access-token \(.*\) matched AKIA… \(fingerprint [0-9a-f]{16}\); remove the secret/);
    assert.match(failed[0].message, /scan\.allow\[0\] rule aws-access-token path app-\*\.tgz!\*\*\/\*\.env expired at 2020-01-02T00:00:00\.000Z/);
    assert.deepEqual(secretsIn(JSON.stringify(p)), []);
    const again = await tarRelease('2.4.0', { secret: aws });
    await upload(again);
    const r = await pushBundle(again);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.code, 'secret_detected');
  });

  test('the rendered effective-config.json is scanned too: a token allowed in config/base.yaml is still caught in the effective configuration', async () => {
    await setAllowlist(['scan:', '  allow:', '    - path: config/base.yaml', '      reason: the template is reviewed by the team', ''].join('\n'));
    await start();
    const configDir = path.join(fx.dir, 'manifest-3.0.0');
    cpSync(path.join(fx.projectDir, 'manifest', 'checkout'), configDir, { recursive: true });
    const base = await readFile(path.join(configDir, 'base.yaml'), 'utf8');
    await writeFile(path.join(configDir, 'base.yaml'), base.replace('config:\n', `config:\n  githubToken: ${pat}\n`));
    const js = path.join(fx.dir, 'server-3.0.0.js');
    await writeFile(js, "console.log('3.0.0');\n");
    const rel = await createRelease({ service: 'checkout', version: '3.0.0', artifacts: [js], images: [], configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') });
    await upload({ ...rel, files: new Map(rel.subjects.map((x) => [x.name, x.kind === 'artifact' ? js : path.join(configDir, x.name.slice('config/'.length))])) });
    const r = await pushBundle(rel);
    assert.equal(r.status, 201, r.text);
    const p = await promote('3.0.0', 'dev');
    assert.equal(p.state, 'Failed');
    const failed = p.gates.filter((g: { passed: boolean }) => !g.passed);
    assert.deepEqual(failed.map((g: { gate: string; subject: string }) => [g.gate, g.subject]), [['secret-scan', 'effective-config.json']]);
    assert.match(failed[0].message, /^effective-config\.json:\d+:\d+: github-pat .* matched ghp_…/);
    assert.deepEqual(secretsIn(JSON.stringify(p)), []);
  });

  test('the secret never appeared in the audit log or the server log', async () => {
    assert.deepEqual(secretsIn(await auditText()), []);
    assert.ok(logs.length > 0, 'the server logged something');
    assert.deepEqual(secretsIn(logs.join('\n')), []);
  });
});
