/**
 * Canary secrets: random values planted in the SOPS files of a fixture project go through the whole
 * flow on a real server (push, promote, a deploy step that receives them, a failing deploy, a decrypt
 * failure at deploy time, a wrong key at the gate) and must appear nowhere but in the step's
 * decrypted file while it runs: not in API responses, CLI output, server logs, the audit log or its
 * export, release bundles, the run folders, or any file the server wrote.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateX25519Identity } from 'age-encryption';
import { pino } from 'pino';
import { type App, createApp } from '../src/app.ts';
import { runCli } from '../src/cli/main.ts';
import { loadConfig } from '../src/config.ts';
import { initSecretsExample } from '../src/secrets/example.ts';
import { decryptSopsFile } from '../src/secrets/sops/sops-file.ts';
import { ADMIN_TOKEN, api, type Fixture, makeFixture, makeRelease, push, waitTerminal } from './helpers/fixture.ts';

const canary = () => `cnry${randomBytes(12).toString('hex')}`;
const CANARIES = [canary(), canary(), canary()];
/** every form a leak could take */
const forms = (c: string) => [c, Buffer.from(c).toString('base64'), Buffer.from(c).toString('base64url'), Buffer.from(c).toString('hex')];

const DEPLOY = `import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
const f = process.env.STAGEGATE_SECRETS_FILE;
if (f) {
  const text = readFileSync(f, 'utf8');
  console.log('secrets sha256=' + createHash('sha256').update(text).digest('hex') + ' mode=' + (statSync(f).mode & 0o777).toString(8));
} else console.log('no secrets');
if (process.env.STAGEGATE_VERSION.includes('fail')) {
  console.error('deploy failed on purpose');
  process.exit(1);
}
await import('./deploy.js');
`;

function edit(y: string): string {
  return `${y
    .replace('deploy: ["node", "deploy.js"]', 'deploy: ["node", "secrets-deploy.mjs"]')
    .replace(
      '    requires: [dev]\n',
      // parity and drift are other suites' business: report only here
      '    requires: [dev]\n    parity: {maxFindings: 1000}\n    drift: {maxFindings: 1000}\n    approvals:\n      rules:\n        - {name: ops, users: [alice], count: 1}\n',
    )}\nidentities:\n  users:\n    - name: alice\n      roles: [approver]\n`;
}

function walk(dir: string): Array<[string, string]> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e): Array<[string, string]> => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [[p, readFileSync(p, 'latin1')]] : [];
  });
}

describe('canary secrets never leak', () => {
  let fx: Fixture;
  let app: App;
  let url: string;
  let identityDir: string;
  const logs: string[] = [];
  const outputs: Array<[string, string]> = [];
  const ids: Record<string, string> = {};
  const call = () => api(url, ADMIN_TOKEN);
  const seen = (what: string, text: string) => outputs.push([what, text]);

  before(async () => {
    fx = await makeFixture(edit);
    await writeFile(path.join(fx.projectDir, 'secrets-deploy.mjs'), DEPLOY);
    const ex = await initSecretsExample(
      fx.projectDir,
      [
        { name: 'dev', created: '2026-01-01T00:00:00Z', rotateBy: '2099-01-01T00:00:00Z', secrets: { checkout: { db: { password: CANARIES[0] }, api_key: CANARIES[1] } } },
        { name: 'staging', created: '2026-01-01T00:00:00Z', rotateBy: '2099-01-01T00:00:00Z', secrets: { checkout: { token: CANARIES[2] } } },
      ],
      { identityDir: path.join(fx.dir, 'age') },
    );
    identityDir = ex.identityDir;
    const config = loadConfig(
      { port: 0, dataDir: fx.dataDir, projectFile: fx.projectFile, reconcileIntervalMs: 50, bootstrapToken: ADMIN_TOKEN, logLevel: 'trace', ageIdentityDir: identityDir },
      {},
    );
    app = await createApp({ config, logger: pino({ level: 'trace' }, { write: (s: string) => void logs.push(s) }) });
    url = `http://127.0.0.1:${(await app.listen()).port}`;
  });
  after(async () => {
    await app.close();
    fx.cleanup();
  });

  const promote = async (version: string, environment: string) => {
    const r = await call()('POST', '/v1/promotions', { service: 'checkout', version, environment });
    assert.equal(r.status, 202, r.text);
    seen('POST /v1/promotions', r.text);
    return r.json.promotion.id as string;
  };
  const runFolder = (id: string) => path.join(fx.dataDir, 'runs', id, 'deploy');

  test('deploy receives them (hash proves it), failing deploy and decrypt failures leave nothing behind', async () => {
    for (const v of ['1.0.0', '2.0.0-fail', '3.0.0']) assert.equal((await push(call(), await makeRelease(fx, v))).status, 201);

    // 1. success: the step read the decrypted file (0600) and printed only its hash
    ids['ok'] = await promote('1.0.0', 'dev');
    const ok = await waitTerminal(call(), ids['ok']);
    assert.equal(ok.state, 'Succeeded', ok.message);
    const devId = /AGE-SECRET-KEY-1\S+/.exec(await readFile(path.join(identityDir, 'dev.key'), 'utf8'))![0];
    const plain = await decryptSopsFile(await readFile(path.join(fx.projectDir, 'secrets/dev/checkout.sops.yaml'), 'utf8'), { format: 'yaml', identities: [devId] });
    const expected = createHash('sha256').update(JSON.stringify(plain.data)).digest('hex');
    assert.ok(JSON.stringify(plain.data).includes(CANARIES[0]!), 'the hashed file held the canary');
    const step = await call()('GET', `/v1/promotions/${ids['ok']}`);
    assert.ok(step.text.includes(`secrets sha256=${expected} mode=600`), step.text);
    assert.ok(ok.gates.some((g: { gate: string; passed: boolean; message: string }) => g.gate === 'secrets' && g.passed && /2 secret\(s\) in secrets\/dev\/checkout\.sops\.yaml/.test(g.message)));
    assert.ok(!existsSync(path.join(runFolder(ids['ok']), 'secrets.json')));

    // 2. a failing deploy: still no file afterwards
    ids['fail'] = await promote('2.0.0-fail', 'dev');
    const fail = await waitTerminal(call(), ids['fail']);
    assert.equal(fail.state, 'Failed');
    assert.match(fail.message, /deploy failed on purpose/);
    assert.ok(!existsSync(path.join(runFolder(ids['fail']), 'secrets.json')));

    // 3. decrypt failure at deploy time: staging waits for approval, its identity is replaced by a wrong key
    ids['wrongkey'] = await promote('1.0.0', 'staging');
    for (let i = 0; i < 400; i++) {
      const st = (await call()('GET', `/v1/promotions/${ids['wrongkey']}`)).json.promotion;
      assert.ok(!['Failed', 'Succeeded'].includes(st.state), st.message);
      if (st.state === 'AwaitingApproval') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await writeFile(path.join(identityDir, 'staging.key'), `${await generateX25519Identity()}\n`, { mode: 0o600 });
    const alice = (await call()('POST', '/v1/tokens', { name: 'alice', actor: 'user:alice', role: 'viewer' })).json.token as string;
    const approved = await api(url, alice)('POST', `/v1/promotions/${ids['wrongkey']}/approvals`, { decision: 'approve', comment: 'ok' });
    assert.equal(approved.status, 201, approved.text);
    const wrong = await waitTerminal(call(), ids['wrongkey']);
    assert.equal(wrong.state, 'Failed');
    assert.match(wrong.message, /^deploy not started: cannot decrypt secrets\/staging\/checkout\.sops\.yaml for staging: .*none of the given age identities can unwrap.*; fix: .*staging\.key is not one of the file's recipients.*stagegate secrets rewrap secrets\/staging\/checkout\.sops\.yaml/);
    assert.ok(!existsSync(runFolder(ids['wrongkey'])), 'the step never started');
    const audit = await call()('GET', '/v1/audit/entries?from=0&limit=1000');
    const entry = audit.json.entries.map((e: { entry: any }) => e.entry).find((e: any) => e.subject === `promotion:${ids['wrongkey']}` && e.details?.to === 'Failed');
    assert.match(entry.details.message, /cannot decrypt secrets\/staging\/checkout\.sops\.yaml/);
    assert.equal(entry.outcome, 'failed');

    // 4. wrong key at the gate: dev's identity replaced
    await writeFile(path.join(identityDir, 'dev.key'), `${await generateX25519Identity()}\n`, { mode: 0o600 });
    ids['gate'] = await promote('3.0.0', 'dev');
    const gated = await waitTerminal(call(), ids['gate']);
    assert.equal(gated.state, 'Failed');
    const g = gated.gates.find((x: { gate: string }) => x.gate === 'secrets');
    assert.equal(g.passed, false);
    assert.match(g.message, /cannot decrypt secrets\/dev\/checkout\.sops\.yaml for dev/);
  });

  test('the canaries appear in no API response, CLI output, log line, audit export, bundle or server file', async () => {
    const c = call();
    for (const id of Object.values(ids)) seen(`GET promotion ${id}`, (await c('GET', `/v1/promotions/${id}`)).text);
    for (const p of ['/v1/promotions', '/v1/releases', '/v1/status', '/v1/audit/entries?from=0&limit=1000', '/v1/audit/export?from=0', '/v1/approvals']) {
      const r = await c('GET', p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      seen(`GET ${p}`, r.text);
    }
    const releases = (await c('GET', '/v1/releases')).json.releases as Array<{ id: string }>;
    assert.equal(releases.length, 3);
    for (const r of releases) seen(`release ${r.id}`, (await c('GET', `/v1/releases/${encodeURIComponent(r.id)}`)).text);
    const env = { STAGEGATE_SERVER: url, STAGEGATE_TOKEN: ADMIN_TOKEN };
    const cli = async (args: string[]) => {
      let out = '';
      const code = await runCli(args, { out: (t) => (out += `${t}\n`), err: (t) => (out += `${t}\n`), env, cwd: fx.projectDir });
      seen(`stagegate ${args.join(' ')} (exit ${code})`, out);
      return { code, out };
    };
    for (const id of Object.values(ids)) assert.equal((await cli(['promotion', 'show', id, '--json'])).code, 0);
    await cli(['promotion', 'list']);
    await cli(['status']);
    await cli(['release', 'list']);
    assert.equal((await cli(['audit', 'export'])).code, 0);
    await cli(['audit', 'log', '--from', '0', '--limit', '1000']);
    const list = await cli(['secrets', 'list', '--identity', path.join(identityDir, 'recovery.key')]);
    assert.match(list.out, /db\.password, api_key/);
    seen('server log', logs.join(''));
    assert.ok(logs.length > 20, 'the server logged (trace level)');
    const files = walk(fx.dir);
    assert.ok(files.some(([f]) => f.endsWith('stagegate.db')));
    for (const [f, text] of files) seen(`file ${path.relative(fx.dir, f)}`, text);
    for (const secret of CANARIES) {
      for (const form of forms(secret!)) {
        for (const [what, text] of outputs) assert.ok(!text.includes(form), `a canary (${form === secret ? 'plain' : 'encoded'}) leaked into ${what}`);
      }
    }
    // the run folders hold no secrets file after their steps
    for (const id of Object.values(ids)) assert.ok(!existsSync(path.join(runFolder(id), 'secrets.json')), id);
  });
});
