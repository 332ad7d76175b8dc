/**
 * The demo: a scripted walk through stagegate on embedded SQLite in a temporary folder. Every step
 * runs the real CLI against a real server process and says what happened and why.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { initSecretsExample } from '../src/secrets/example.ts';
import { rolloutPart, stopLocalHost } from './demo-rollout.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'stagegate.js');
const work = mkdtempSync(path.join(tmpdir(), 'stagegate-demo-'));
const project = path.join(work, 'shop');
const data = path.join(work, '.stagegate');
const env: NodeJS.ProcessEnv = { ...process.env, STAGEGATE_SERVER: '', STAGEGATE_TOKEN: '' };
let server: ChildProcess | undefined;
let failures = 0;

const say = (text: string) => process.stdout.write(`\n== ${text}\n`);
const why = (text: string) => process.stdout.write(`   why: ${text}\n`);

/** run the CLI; print its output indented; check the exit code is what the step expects */
function sg(args: string[], expect: number | 'nonzero' = 0, as?: string): string {
  process.stdout.write(`${as ? `[${as}] ` : ''}$ stagegate ${args.join(' ')}\n`);
  const token = as ? people.get(as) : undefined;
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: project, env: token ? { ...env, STAGEGATE_TOKEN: token } : env, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.trimEnd();
  if (out) process.stdout.write(`${out.replace(/^/gm, '   ')}\n`);
  const ok = expect === 'nonzero' ? r.status !== 0 : r.status === expect;
  process.stdout.write(`   -> exit ${r.status}${ok ? '' : ` (UNEXPECTED: wanted ${expect})`}\n`);
  if (!ok) failures++;
  return r.stdout;
}

const people = new Map<string, string>();

let serverEnv: NodeJS.ProcessEnv = {};
async function startServer(projectFile = 'stagegate.yaml', extraEnv: NodeJS.ProcessEnv = serverEnv): Promise<void> {
  serverEnv = extraEnv;
  server = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data', data, '--project', path.join(project, projectFile), '--log-level', 'warn'], {
    cwd: project,
    env: { ...env, STAGEGATE_RECONCILE_MS: '200', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start in 30 s')), 30_000);
    server!.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const token = /^bootstrap token: (\S+)$/m.exec(buf);
      if (token) env['STAGEGATE_TOKEN'] = token[1];
      const url = /listening on (http:\/\/\S+)/.exec(buf);
      if (url) {
        env['STAGEGATE_SERVER'] = url[1];
        clearTimeout(t);
        resolve();
      }
    });
    server!.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  say(`Set up: copy the sample project (examples/shop) into ${work}`);
  cpSync(path.join(root, 'examples', 'shop'), project, { recursive: true });

  say('Make a release-signing key (offline; the private key never leaves this folder)');
  sg(['keys', 'generate', '--out', 'keys', '--name', 'ci']);
  why('stagegate.yaml trusts the key named "ci" (keys/ci.pub) for every environment');

  say('Start the server: the only writer of state, on embedded SQLite');
  await startServer();
  process.stdout.write(`   server at ${env['STAGEGATE_SERVER']}; first start printed a one-time admin token (bootstrap token: ...)\n`);

  say('Create and sign release checkout@1.0.0: artifact + config + a pinned image (offline)');
  const image = `registry.example.com/shop/checkout@sha256:${'ab'.repeat(32)}`;
  sg(['release', 'create', '--service', 'checkout', '--version', '1.0.0', '--artifact', 'checkout/server.js', '--config', 'checkout/config', '--image', image, '--key', 'keys/ci.key', '--out', 'checkout-1.0.0.bundle.json']);
  why('an in-toto statement lists the sha256 of every file, signed in a DSSE envelope, shipped as a Sigstore bundle');
  sg(['release', 'verify', 'checkout-1.0.0.bundle.json', '--key', 'keys/ci.pub', '--artifact', 'checkout/server.js', '--config', 'checkout/config']);

  say('A tag instead of a digest is refused, with the fix');
  sg(['release', 'create', '--service', 'checkout', '--version', '9.9.9', '--artifact', 'checkout/server.js', '--image', 'registry.example.com/shop/checkout:latest', '--key', 'keys/ci.key', '--out', 'x.json'], 'nonzero');

  say('Push the release: the server checks the signature against trusted keys and stores the bytes by digest');
  sg(['release', 'push', 'checkout-1.0.0.bundle.json', '--artifact', 'checkout/server.js', '--config', 'checkout/config']);
  sg(['release', 'push', 'checkout-1.0.0.bundle.json'], 0);
  why('pushing the identical release again is a no-op');

  say('Promote to dev: gates (signature, checksums, requires), then the exec target deploys and verifies');
  sg(['promote', 'checkout@1.0.0', '--to', 'dev', '--wait']);

  say('Try to skip staging: promote straight to prod');
  sg(['promote', 'checkout@1.0.0', '--to', 'prod', '--wait'], 1);
  why('prod requires staging: the release has not succeeded there, so the requires gate fails and says what to do');

  say('Promote to staging, then to prod (prod also wants 10 s of soak in staging)');
  sg(['promote', 'checkout@1.0.0', '--to', 'staging', '--wait']);
  sg(['promote', 'checkout@1.0.0', '--to', 'prod', '--wait'], 1);
  why('the soak gate counts how long the release has run in staging and says when to retry');
  process.stdout.write('   (waiting 10 s for the soak time)\n');
  await new Promise((r) => setTimeout(r, 10_500));
  sg(['promote', 'checkout@1.0.0', '--to', 'prod', '--wait']);

  say('A swapped artifact: release 1.1.0 is pushed, then its stored bytes are replaced behind the server\'s back');
  writeFileSync(path.join(project, 'checkout', 'server.js'), `${readFileSync(path.join(project, 'checkout', 'server.js'), 'utf8')}\n// 1.1.0\n`);
  sg(['release', 'create', '--service', 'checkout', '--version', '1.1.0', '--artifact', 'checkout/server.js', '--config', 'checkout/config', '--key', 'keys/ci.key', '--out', 'checkout-1.1.0.bundle.json']);
  const pushed = sg(['release', 'push', 'checkout-1.1.0.bundle.json', '--artifact', 'checkout/server.js', '--config', 'checkout/config', '--json']);
  const blob = (JSON.parse(pushed) as { uploads: Array<{ name: string; digest: string }> }).uploads.find((u) => u.name === 'server.js')!;
  const hex = blob.digest.slice('sha256:'.length);
  const blobPath = path.join(data, 'blobs', 'sha256', hex.slice(0, 2), hex);
  chmodSync(blobPath, 0o644); // blobs are read-only; an attacker with access to the disk is not stopped by that
  writeFileSync(blobPath, 'console.log("definitely not the signed build")\n');
  process.stdout.write(`   replaced the stored bytes of server.js (${blob.digest})\n`);
  sg(['promote', 'checkout@1.1.0', '--to', 'dev', '--wait'], 1);
  why('the checksum gate re-hashes every artifact at promotion time and names the artifact and both digests');

  say('Release 1.2.0 reaches dev; then dev is rolled back to the release before it');
  writeFileSync(path.join(project, 'checkout', 'server.js'), `${readFileSync(path.join(project, 'checkout', 'server.js'), 'utf8')}\n// 1.2.0\n`);
  sg(['release', 'create', '--service', 'checkout', '--version', '1.2.0', '--artifact', 'checkout/server.js', '--config', 'checkout/config', '--key', 'keys/ci.key', '--out', 'checkout-1.2.0.bundle.json']);
  sg(['release', 'push', 'checkout-1.2.0.bundle.json', '--artifact', 'checkout/server.js', '--config', 'checkout/config']);
  sg(['promote', 'checkout@1.2.0', '--to', 'dev', '--wait']);
  sg(['rollback', 'checkout', '--env', 'dev', '--wait']);
  why('rollback promotes the previous succeeded release (1.0.0) through the same gates, so it is verified again');

  say('Access control: restart the server with stagegate-secured.yaml');
  why('it declares people in groups, prod approvals from sre AND security, a freeze on staging, and gate rules (CEL)');
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await startServer('stagegate-secured.yaml');
  for (const who of ['alice', 'bob', 'carol', 'erin', 'frank']) {
    const out = sg(['token', 'create', '--name', who, '--actor', `user:${who}`, '--role', 'viewer', '--json']);
    people.set(who, (JSON.parse(out) as { token: string }).token);
  }
  why('each token carries only the viewer role; the other roles come from the identities in the project file');

  say('Release 2.0.0 goes to dev; staging is frozen');
  writeFileSync(path.join(project, 'checkout', 'server.js'), `${readFileSync(path.join(project, 'checkout', 'server.js'), 'utf8')}\n// 2.0.0\n`);
  sg(['release', 'create', '--service', 'checkout', '--version', '2.0.0', '--artifact', 'checkout/server.js', '--config', 'checkout/config', '--key', 'keys/ci.key', '--out', 'checkout-2.0.0.bundle.json']);
  sg(['release', 'push', 'checkout-2.0.0.bundle.json', '--artifact', 'checkout/server.js', '--config', 'checkout/config']);
  sg(['promote', 'checkout@2.0.0', '--to', 'dev', '--wait'], 0, 'carol');
  sg(['freeze', 'list', '--upcoming', '--horizon', '2d'], 0, 'carol');
  sg(['promote', 'checkout@2.0.0', '--to', 'staging'], 'nonzero', 'carol');
  why('a frozen environment refuses new promotions, naming the window and when it ends');

  say('Break-glass: an admin skips the freeze with a justification; a second admin must confirm');
  const bgOut = sg(['promote', 'checkout@2.0.0', '--to', 'staging', '--break-glass', 'payment outage INC-42: the fix must reach staging now', '--skip', 'freeze', '--minutes', '30'], 0, 'erin');
  const bgPromotion = { id: /requested (prm_[a-f0-9]{16})/.exec(bgOut)?.[1] ?? '' };
  const breakGlass = { id: /break-glass (bg_[a-f0-9]{16}) requested/.exec(bgOut)?.[1] ?? '' };
  sg(['break-glass', 'confirm', breakGlass.id], 'nonzero', 'erin');
  why('whoever asked for break-glass cannot confirm it themselves');
  sg(['break-glass', 'confirm', breakGlass.id], 0, 'frank');
  sg(['promotion', 'show', bgPromotion.id, '--wait'], 0, 'erin');
  sg(['break-glass', 'list'], 0, 'bob');
  why('a used break-glass stays an open review item, with a high-severity audit entry, until someone else reviews it');
  sg(['break-glass', 'review', breakGlass.id, '--comment', 'justified: INC-42 postmortem linked'], 0, 'bob');

  say('Prod needs one approver from sre and one from security');
  process.stdout.write('   (waiting 5 s: prod wants 5 s of soak in staging)\n');
  await new Promise((r) => setTimeout(r, 5500));
  sg(['promote', 'checkout@2.0.0', '--to', 'prod', '--dry-run'], 'nonzero', 'carol');
  why('the dry run shows every check now: the gate rule wants two approvals, which do not exist yet');
  const prodOut = sg(['promote', 'checkout@2.0.0', '--to', 'prod'], 0, 'carol');
  const prodId = /requested (prm_[a-f0-9]{16})/.exec(prodOut)?.[1] ?? '';
  await new Promise((r) => setTimeout(r, 1500));
  sg(['approvals'], 0, 'alice');
  sg(['approve', prodId, '--comment', 'lgtm'], 'nonzero', 'carol');
  why('carol requested this promotion, so she cannot approve it (separation of duties)');
  sg(['approve', prodId, '--comment', 'sre: rollout plan reviewed'], 0, 'alice');
  sg(['promotion', 'show', prodId], 0, 'alice');
  sg(['approve', prodId, '--comment', 'security: no new findings'], 0, 'bob');
  sg(['promotion', 'show', prodId, '--wait'], 0, 'carol');
  why('each approval is an in-toto statement signed by the server, bound to the release digest, the environment and the policy digest');

  await parityPart();
  await rolloutPart({
    project,
    data,
    env,
    say,
    why,
    sg: (args, expect = 0, as) => sg(args, expect, as),
    async restart(file) {
      server?.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      await startServer(file);
    },
  });

  say('What runs where, and what continuous attestation last found in each environment');
  sg(['status']);

  say('The audit log: every action, allowed or denied, in an RFC 9162 Merkle tree with signed checkpoints');
  sg(['audit', 'log', '--limit', '12']);
  sg(['audit', 'key', '--out', path.join(work, 'log.pub')]);
  sg(['audit', 'checkpoint', '--out', path.join(work, 'checkpoint.txt')]);
  sg(['audit', 'export', '--out', path.join(work, 'audit.jsonl')]);
  sg(['audit', 'proof', '--index', '3']);
  say('Verify the exported log offline: no server, only the log, the checkpoint and the key');
  sg(['audit', 'verify', '--log', path.join(work, 'audit.jsonl'), '--checkpoint', path.join(work, 'checkpoint.txt'), '--key', path.join(work, 'log.pub')]);

  say('Tamper with one audit row in the database, export again, verify again');
  const db = new Database(path.join(data, 'stagegate.db'));
  const tables = db.prepare("select name from sqlite_master where type='table' and name like '%audit%'").all() as Array<{ name: string }>;
  const table = tables.find((t) => /entr/.test(t.name))?.name ?? 'audit_entries';
  const cols = (db.prepare(`pragma table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
  const idxCol = cols.find((c) => c === 'idx' || c === 'index' || c === 'position') ?? cols[0]!;
  const row = db.prepare(`select entry from ${table} where ${idxCol} = 5`).get() as { entry: string };
  db.prepare(`update ${table} set entry = ? where ${idxCol} = 5`).run(row.entry.replace(/"actor":"[^"]*"/, '"actor":"user:mallory"'));
  db.close();
  process.stdout.write('   changed the actor of entry 5 to user:mallory\n');
  sg(['audit', 'export', '--out', path.join(work, 'audit-tampered.jsonl')]);
  sg(['audit', 'verify', '--log', path.join(work, 'audit-tampered.jsonl'), '--checkpoint', path.join(work, 'checkpoint.txt'), '--key', path.join(work, 'log.pub')], 1);
  why('the entry no longer hashes to its leaf in the signed tree, so verify names it');
}

/** Part 3: production parity — layered configuration, parity and drift, secrets, scanning, flags, masking */
async function parityPart(): Promise<void> {
  say('Production parity: restart the server with stagegate-parity.yaml');
  why('staging must mirror prod except where parity.yaml allows a difference; no environment may drift; secrets are checked');
  const day = 86_400_000;
  const now = Date.now();
  const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
  const ageDir = path.join(work, 'age-identities');
  const random = () => `demo-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  await initSecretsExample(
    project,
    [
      { name: 'dev', created: iso(now - 100 * day), rotateBy: iso(now + 80 * day), secrets: { checkout: { db_password: random(), payments_api_key: random() } } },
      { name: 'staging', created: iso(now - 100 * day), rotateBy: iso(now + 80 * day), secrets: { checkout: { db_password: random(), payments_api_key: random() } } },
      { name: 'prod', created: iso(now - 120 * day), rotateBy: iso(now - 30 * day), secrets: { checkout: { db_password: random(), payments_api_key: random() } } },
    ],
    { identityDir: ageDir },
  );
  process.stdout.write(`   made an age identity per environment and an offline recovery identity in ${ageDir},\n   .sops.yaml, and secrets/{dev,staging,prod}/checkout.sops.yaml (prod's were due for rotation 30 days ago)\n`);
  // staging mirrors prod in everything but replica count and trace sampling
  writeFileSync(
    path.join(project, 'manifest', 'checkout', 'staging.yaml'),
    '# staging mirrors prod: same memory and retention; fewer replicas; more traces sampled\nruntime:\n  replicas: 2\n  resources:\n    memory: 512Mi\nobservability:\n  traces:\n    sampling: 0.5\n  retention:\n    logs: 30d\n    metrics: 90d\n',
  );
  writeFileSync(
    path.join(project, 'parity.yaml'),
    `${readFileSync(path.join(project, 'parity.yaml'), 'utf8')}  - id: staging-replicas
    path: /checkout/runtime/replicas
    environments: [staging, prod]
    reason: staging runs fewer replicas of the same shape, to save cost
    owner: team-platform
    expires: "${new Date(now + 180 * day).toISOString().slice(0, 10)}"
`,
  );
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await startServer('stagegate-parity.yaml', { STAGEGATE_AGE_IDENTITY_DIR: ageDir });
  sg(['secrets', 'list', '--env', 'prod', '--identity', path.join(ageDir, 'recovery.key')], 1);
  why('names, key ids and dates only: no command ever prints a secret value');

  say('Layered configuration: a base manifest plus per-environment overlays, each value with its origin');
  sg(['config', 'show', 'checkout', '--env', 'staging']);
  sg(['config', 'diff', 'checkout', '--from', 'staging', '--to', 'prod']);

  say('A planted secret: an AWS key in a file that goes into the release');
  writeFileSync(path.join(project, 'checkout', 'settings.env'), `AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID=AKIA${'Z7QX2MPL4KDWRT3W'}\n`);
  sg(['scan', 'checkout'], 1);
  sg(['release', 'create', '--service', 'checkout', '--version', '2.9.0', '--artifact', 'checkout/server.js', '--artifact', 'checkout/settings.env', '--config', 'manifest/checkout', '--key', 'keys/ci.key', '--out', 'checkout-2.9.0.bundle.json']);
  sg(['release', 'push', 'checkout-2.9.0.bundle.json', '--artifact', 'checkout/server.js', '--artifact', 'checkout/settings.env', '--config', 'manifest/checkout'], 1);
  why('the server scans every file of a release at push with the gitleaks rules and refuses it: no release is stored, the log records the refusal, never the secret');
  rmSync(path.join(project, 'checkout', 'settings.env'));

  say('Release 3.0.0 carries the layered manifest as its configuration snapshot, and declares what it needs');
  writeFileSync(path.join(project, 'checkout', 'server.js'), `${readFileSync(path.join(project, 'checkout', 'server.js'), 'utf8')}\n// 3.0.0\n`);
  sg(['release', 'create', '--service', 'checkout', '--version', '3.0.0', '--artifact', 'checkout/server.js', '--config', 'manifest/checkout', '--needs', 'platform:postgres@^16', '--needs', 'platform:node@>=20.19', '--key', 'keys/ci.key', '--out', 'checkout-3.0.0.bundle.json']);
  why('the signed provenance records the RFC 8785 digest of the effective configuration of every environment');
  sg(['release', 'push', 'checkout-3.0.0.bundle.json', '--artifact', 'checkout/server.js', '--config', 'manifest/checkout']);
  sg(['promote', 'checkout@3.0.0', '--to', 'dev', '--wait']);
  sg(['promote', 'checkout@3.0.0', '--to', 'staging', '--wait'], 1);
  why('staging is compared with prod, both with 3.0.0 in place: replicas and the new-checkout flag differ as parity.yaml allows, trace sampling differs and nobody allowed it');

  say('Fix the manifest: staging samples traces like prod; release 3.0.1 carries the fix');
  writeFileSync(path.join(project, 'manifest', 'checkout', 'staging.yaml'), readFileSync(path.join(project, 'manifest', 'checkout', 'staging.yaml'), 'utf8').replace('sampling: 0.5', 'sampling: 0.1'));
  sg(['release', 'create', '--service', 'checkout', '--version', '3.0.1', '--artifact', 'checkout/server.js', '--config', 'manifest/checkout', '--needs', 'platform:postgres@^16', '--key', 'keys/ci.key', '--out', 'checkout-3.0.1.bundle.json']);
  sg(['release', 'push', 'checkout-3.0.1.bundle.json', '--artifact', 'checkout/server.js', '--config', 'manifest/checkout']);
  sg(['promote', 'checkout@3.0.1', '--to', 'dev', '--wait']);
  sg(['promote', 'checkout@3.0.1', '--to', 'staging', '--wait']);

  say('Prod: its secrets are overdue for rotation');
  process.stdout.write('   (waiting 5 s: prod wants 5 s of soak in staging)\n');
  await new Promise((r) => setTimeout(r, 5500));
  sg(['promote', 'checkout@3.0.1', '--to', 'prod', '--wait'], 1, 'carol');
  why('the secrets gate names the file and the overdue keys, and says how to rotate; gates run before anyone is asked to approve');
  sg(['secrets', 'rotate', '--env', 'prod', '--rotate-by', '90d', '--identity', path.join(ageDir, 'recovery.key')]);
  why('a new data key, every value re-encrypted, created and rotate_by renewed (covered by the MAC); done offline with the recovery identity');
  const prodOut = sg(['promote', 'checkout@3.0.1', '--to', 'prod'], 0, 'carol');
  const prodId = /requested (prm_[a-f0-9]{16})/.exec(prodOut)?.[1] ?? '';
  await new Promise((r) => setTimeout(r, 1500));
  sg(['approve', prodId, '--comment', 'sre: parity report clean'], 0, 'alice');
  sg(['approve', prodId, '--comment', 'security: secrets rotated'], 0, 'bob');
  sg(['promotion', 'show', prodId, '--wait'], 0, 'carol');
  why('the deploy step got the decrypted secrets in a 0600 file that was deleted when the step ended');

  say('Drift: what runs in prod against what stagegate deployed there');
  sg(['drift', 'prod']);
  const deployed = path.join(data, 'target-state', 'prod', 'checkout', 'server.js');
  writeFileSync(deployed, `${readFileSync(deployed, 'utf8')}\n// hot-patched by hand on the server\n`);
  process.stdout.write('   edited the deployed server.js in prod by hand\n');
  sg(['drift', 'prod'], 1);
  why('the observed digest no longer matches the signed release; attestation finds the same on its schedule and records it');

  say('Feature flags: a change request for prod, recorded as an RFC 6902 patch');
  const change = sg(['flags', 'change', 'prod', '--state', 'new-checkout=ENABLED', '--reason', 'the staging trial went well'], 0, 'carol');
  const changeId = /stagegate flags apply (\S+)`/.exec(change)?.[1] ?? 'missing-change-id';
  sg(['flags', 'apply', changeId], 'nonzero', 'carol');
  why("a prod flag change needs prod's approvals (sre and security), from people other than its author");
  sg(['flags', 'approve', changeId], 0, 'alice');
  sg(['flags', 'approve', changeId], 0, 'bob');
  sg(['flags', 'apply', changeId], 0, 'carol');
  sg(['parity', 'staging', 'prod', '--service', 'checkout'], 1);
  why("staging and prod run 3.0.1 with the same flags; but prod's secrets were just rotated, and staging's are now 100 days older");
  sg(['secrets', 'rotate', '--env', 'staging', '--rotate-by', '90d', '--identity', path.join(ageDir, 'recovery.key')]);
  sg(['parity', 'staging', 'prod', '--service', 'checkout']);
  why('the only difference left is the replica count parity.yaml allows, with its reason, owner and expiry');

  say('Data for non-production: pseudonymize customer data with a per-environment key, joins kept');
  writeFileSync(path.join(work, 'mask.key'), `${Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 73 + 11) % 256)).toString('hex')}\n`);
  sg(['mask', '--policy', 'mask-policy.yaml', '--key-file', path.join(work, 'mask.key'), 'data/customers.csv', path.join(work, 'customers.masked.csv')]);
  process.stdout.write(`${readFileSync(path.join(work, 'customers.masked.csv'), 'utf8').split('\n').slice(0, 3).map((l) => `   ${l}`).join('\n')}\n`);
}

main()
  .catch((e: unknown) => {
    failures++;
    process.stderr.write(`demo stopped: ${(e as Error).stack ?? String(e)}\n`);
  })
  .finally(async () => {
    server?.kill('SIGTERM');
    await stopLocalHost(data);
    if (!process.env['KEEP_DEMO']) rmSync(work, { recursive: true, force: true });
    else process.stdout.write(`(kept ${work})\n`);
    say(failures === 0 ? 'Demo finished: every step did what it should.' : `Demo finished with ${failures} unexpected result(s).`);
    process.exitCode = failures === 0 ? 0 : 1;
  });
