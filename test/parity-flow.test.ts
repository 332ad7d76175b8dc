/**
 * Parity and drift end to end on a real server: the parity gate blocks a promotion to staging with
 * named findings against prod and passes once parity.yaml allows them; an expired rule is a finding
 * again; GET /v1/parity and the CLI; drift after the deployed bytes are changed; an attestation
 * finding lands in the audit log and on the event stream.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { App } from '../src/app.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { api, cliPath, type Fixture, makeFixture, push, startApp, waitTerminal } from './helpers/fixture.ts';

const run = promisify(execFile);

async function manifestRelease(fx: Fixture, version: string) {
  const artifact = path.join(fx.dir, `server-${version}.js`);
  writeFileSync(artifact, `${await readFile(path.join(fx.projectDir, 'checkout', 'server.js'), 'utf8')}\n// build ${version}\n`);
  const configDir = path.join(fx.projectDir, 'manifest', 'checkout');
  const r = await createRelease({ service: 'checkout', version, artifacts: [artifact], images: [], configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') });
  return { ...r, artifact, configDir };
}

const parityYaml = (expires: string) => `allow:
  - id: smaller-staging
    path: /checkout/runtime
    environments: [staging, prod]
    reason: staging runs fewer, smaller replicas to save cost
    owner: team-sre
    expires: "${expires}"
  - id: sampling-retention
    path: /*/observability
    environments: "*"
    reason: prod keeps logs longer and samples fewer traces
    owner: team-observability
    expires: "2099-12-31"
  - id: new-checkout-trial
    path: /_flags/new-checkout
    environments: [staging, prod]
    reason: the new checkout is tried in staging first
    owner: team-checkout
    expires: "2099-12-31"
`;

describe('parity and drift on a real server', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  let token: string;
  let call: ReturnType<typeof api>;
  const cli = (...args: string[]) =>
    run(process.execPath, [cliPath, ...args], { env: { PATH: process.env['PATH'], STAGEGATE_SERVER: url, STAGEGATE_TOKEN: token } }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );

  before(async () => {
    fx = await makeFixture((y) => (y.includes('observe.js') ? y : y.replace('verify: ["node", "verify.js"]', 'verify: ["node", "verify.js"]\n    observe: ["node", "observe.js"]')));
    ({ app, url, token } = await startApp(fx));
    call = api(url, token);
    const rel = await manifestRelease(fx, '1.0.0');
    assert.equal((await push(call, rel)).status, 201);
    const dev = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' });
    assert.equal((await waitTerminal(call, dev.json.promotion.id)).state, 'Succeeded');
  });
  after(async () => {
    await app?.close();
    fx?.cleanup();
  });

  test('the parity gate blocks staging with named findings against prod', async () => {
    const p = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    const done = await waitTerminal(call, p.json.promotion.id);
    assert.equal(done.state, 'Failed');
    const gate = done.gates.find((g: { gate: string }) => g.gate === 'parity');
    assert.equal(gate.passed, false);
    assert.match(gate.message, /unapproved parity findings? of checkout in staging against prod/);
    assert.match(gate.message, /\/checkout\/runtime\/replicas: staging has 2, prod has 3/);
    assert.match(gate.message, /\/checkout\/observability\/traces\/sampling/);
    const drift = done.gates.find((g: { gate: string }) => g.gate === 'drift');
    assert.equal(drift.passed, true, drift.message);
  });

  test('an expired rule is a finding that says when it expired', async () => {
    writeFileSync(path.join(fx.projectDir, 'parity.yaml'), parityYaml('2020-01-31'));
    const p = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    const done = await waitTerminal(call, p.json.promotion.id);
    assert.equal(done.state, 'Failed');
    const gate = done.gates.find((g: { gate: string }) => g.gate === 'parity');
    assert.match(gate.message, /\/checkout\/runtime\/replicas: staging has 2, prod has 3; rule smaller-staging expired on 2020-01-31/);
    assert.doesNotMatch(gate.message, /\/checkout\/observability/);
  });

  test('with parity.yaml allowing the differences the promotion passes', async () => {
    writeFileSync(path.join(fx.projectDir, 'parity.yaml'), parityYaml('2099-01-31'));
    const p = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    const done = await waitTerminal(call, p.json.promotion.id);
    assert.equal(done.state, 'Succeeded', JSON.stringify(done.gates.filter((g: { passed: boolean }) => !g.passed)));
    assert.match(done.gates.find((g: { gate: string }) => g.gate === 'parity').message, /0 unapproved parity findings .*allowed/);
  });

  test('the drift gate blocks a promotion to staging when what runs there was changed', async () => {
    appendFileSync(path.join(fx.dataDir, 'target-state', 'staging', 'checkout', 'config', 'base.yaml'), '# edited on the box\n');
    const p = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    const done = await waitTerminal(call, p.json.promotion.id);
    assert.equal(done.state, 'Failed');
    const gate = done.gates.find((g: { gate: string }) => g.gate === 'drift');
    assert.equal(gate.passed, false);
    assert.match(gate.message, /1 drift finding for checkout in staging \(staging allows 0\): \/checkout\/release\/digests\/config~1base\.yaml: config\/base\.yaml running in staging hashes to/);
    // the service runs what was signed again: the same release passes
    const { copyFileSync } = await import('node:fs');
    copyFileSync(path.join(fx.projectDir, 'manifest', 'checkout', 'base.yaml'), path.join(fx.dataDir, 'target-state', 'staging', 'checkout', 'config', 'base.yaml'));
    const again = await call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
    assert.equal((await waitTerminal(call, again.json.promotion.id)).state, 'Succeeded');
  });

  test('GET /v1/parity and the CLI: a table with findings first, exit 1 on findings', async () => {
    const r = await call('GET', '/v1/parity?a=staging&b=prod');
    assert.equal(r.status, 200);
    assert.ok(r.json.findings > 0);
    assert.ok(r.json.differences.some((d: { path: string; status: string }) => d.path === '/checkout/release' && d.status === 'finding'));
    const c = await cli('parity', 'staging', 'prod', '--service', 'checkout');
    assert.equal(c.code, 1, c.err);
    const lines = c.out.trim().split('\n');
    assert.match(lines[1]!, /^STATUS\s+PATH\s+STAGING\s+PROD\s+WHY/);
    assert.match(lines[2]!, /^FINDING /);
    // prod runs nothing yet: every staging leaf is one-sided; the rules still allow theirs
    assert.match(c.out, /allowed\s+\/checkout\/runtime\/replicas\s+2\s+-\s+smaller-staging: staging runs fewer/);
    const same = await cli('parity', 'dev', 'dev', '--json');
    assert.equal(same.code, 0, same.err);
    assert.equal(JSON.parse(same.out).score, 1);
    const bad = await call('GET', '/v1/parity?a=staging&b=nowhere');
    assert.equal(bad.status, 404);
    assert.match(bad.json.error.message, /environment "nowhere" is not in the project/);
  });

  test('drift: none after a deploy; changed bytes on the target are a finding; the CLI exits 1', async () => {
    const clean = await call('GET', '/v1/drift/dev');
    assert.equal(clean.status, 200, clean.text);
    assert.deepEqual(clean.json.findings, []);
    assert.equal(clean.json.servicesChecked, 1);
    const deployed = path.join(fx.dataDir, 'target-state', 'dev', 'checkout', 'server-1.0.0.js');
    appendFileSync(deployed, '\n// hot-patched on the box\n');
    const r = await call('GET', '/v1/drift/dev');
    const [f] = r.json.findings;
    assert.equal(f.path, '/checkout/release/digests/server-1.0.0.js');
    assert.match(f.message, /running in dev hashes to sha256:[0-9a-f]{64}, but the signed release checkout@1\.0\.0 has sha256:/);
    const c = await cli('drift', 'dev');
    assert.equal(c.code, 1);
    assert.match(c.out, /drift in dev: 1 finding/);
  });

  test('attestation: a finding is an audit entry and an event on GET /v1/events', async () => {
    const res = await fetch(`${url}/v1/events?maxSeconds=20`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    const read = async (want: RegExp) => {
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += Buffer.from(value).toString('utf8');
        if (want.test(text)) return text;
      }
    };
    await read(/: stagegate events/);
    const before = (await call('GET', '/v1/audit/entries?from=0&limit=1')).json.size;
    await app.engine.parity.scheduler.runOnce();
    const text = await read(/event: attestation\.finding\ndata: .*\n\n/);
    await reader.cancel();
    assert.match(text, /"environment":"dev"/);
    assert.match(text, /server-1\.0\.0\.js/);
    const entries = (await call('GET', `/v1/audit/entries?from=${before}&limit=1000`)).json.entries;
    const e = entries.map((x: { entry: any }) => x.entry).find((x: { action: string }) => x.action === 'attestation.finding');
    assert.ok(e, 'an attestation.finding audit entry');
    assert.equal(e.subject, 'Environment:dev');
    assert.equal(e.actor, 'system:attestation');
    const latest = await call('GET', '/v1/attestation');
    const dev = latest.json.results.find((x: { environment: string }) => x.environment === 'dev');
    assert.equal(dev.status, 'findings');
    const status = await cli('status');
    assert.match(status.out, /attestation .*\n\s+dev\s+1 FINDING: \/checkout\/release\/digests\/server-1\.0\.0\.js/);
  });
});
