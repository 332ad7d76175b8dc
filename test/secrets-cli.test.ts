/**
 * `stagegate secrets set|rotate|rewrap|list` through the real CLI process: files still open with the
 * Debian `age` CLI (data key) and npm `sops-age`; rotate changes the key id, rewrap does not; bad
 * files and wrong keys give clear errors naming the file, and nothing is half-written.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { parse as parseYaml } from 'yaml';
import { decryptSops } from 'sops-age';
import { initSecretsExample, type ExampleSecrets } from '../src/secrets/example.ts';
import { secretInventory } from '../src/secrets/inventory.ts';
import { decryptSopsFile } from '../src/secrets/sops/sops-file.ts';
import { runCli } from '../src/cli/main.ts';
import { cliPath } from './helpers/fixture.ts';

const VALUE = `canary-${Math.random().toString(36).slice(2)}-value`;

/** the CLI: a real process when stdin matters (or `spawn`), else runCli in this process (the same code, much faster) */
async function cli(args: string[], opts: { stdin?: string; env?: Record<string, string>; cwd: string; spawn?: boolean }): Promise<{ code: number; out: string; err: string }> {
  if (opts.stdin === undefined && !opts.spawn) {
    let out = '';
    let err = '';
    const code = await runCli(args, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), env: { ...opts.env }, cwd: opts.cwd });
    return { code, out, err };
  }
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [cliPath, ...args], { cwd: opts.cwd, env: { PATH: process.env['PATH'] ?? '', ...opts.env } }, (e, out, err) => {
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) });
    });
    child.stdin?.end(opts.stdin ?? '');
  });
}

const idOf = async (file: string) => /AGE-SECRET-KEY-1\S+/.exec(await readFile(file, 'utf8'))?.[0] ?? '';

describe('stagegate secrets CLI', () => {
  let dir: string;
  let ex: ExampleSecrets;
  const now = new Date();
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-secrets-cli-'));
    ex = await initSecretsExample(dir, [
      { name: 'staging', created: '2026-01-01T00:00:00Z', rotateBy: '2099-01-01T00:00:00Z' },
      { name: 'prod', created: '2025-01-01T00:00:00Z', rotateBy: '2025-06-01T00:00:00Z' },
    ], { identityDir: path.join(dir, '..', `${path.basename(dir)}-keys`), now });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(ex.identityDir, { recursive: true, force: true });
  });
  const key = (env: string) => path.join(ex.identityDir, `${env}.key`);
  const noTemp = () => {
    for (const d of ['staging', 'prod', 'payments']) {
      try {
        assert.deepEqual(readdirSync(path.join(dir, 'secrets', d)).filter((f) => f.endsWith('.tmp')), []);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  };

  test('set creates a file for the .sops.yaml recipients; it opens with sops-age and the age CLI; the value is never printed', async () => {
    const r = await cli(['secrets', 'set', 'staging', 'payments', 'stripe.key', '--value-stdin', '--rotate-by', '30d'], { cwd: dir, stdin: `${VALUE}\n` });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /created secrets\/staging\/payments\.sops\.yaml: set stripe\.key/);
    const file = path.join(dir, 'secrets', 'staging', 'payments.sops.yaml');
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(VALUE));
    const doc = parseYaml(text) as { sops: { age: Array<{ recipient: string; enc: string }> } };
    assert.deepEqual(doc.sops.age.map((a) => a.recipient), [ex.recipients['staging'], ex.recipients['recovery']]);
    // npm sops-age (no MAC check) with the environment's key, and with the recovery key
    for (const k of [key('staging'), ex.recoveryFile]) {
      const out = (await decryptSops(text, { secretKey: await idOf(k), fileType: 'yaml' })) as { stripe: { key: string }; stagegate_meta: { created: string; rotate_by: string } };
      assert.equal(out.stripe.key, VALUE); // the trailing newline of stdin is dropped
      assert.equal(Date.parse(out.stagegate_meta.rotate_by) - Date.parse(out.stagegate_meta.created), 30 * 86_400_000);
    }
    // Debian age CLI opens every wrapped data key to the same 32 bytes
    const keys = doc.sops.age.map((a, i) => {
      const enc = path.join(dir, `enc${i}.age`);
      execFileSync('sh', ['-c', `cat > ${enc}`], { input: a.enc });
      return execFileSync('/usr/bin/age', ['-d', '-i', i === 0 ? key('staging') : ex.recoveryFile, enc]);
    });
    assert.equal(keys[0]?.length, 32);
    assert.deepEqual(keys[0], keys[1]);
    for (const s of [r.out, r.err]) assert.ok(!s.includes(VALUE));
  });

  test('set on an existing file needs an identity; --from-file keeps the bytes; usage errors', async () => {
    const file = path.join(dir, 'secrets', 'staging', 'payments.sops.yaml');
    const before = await readFile(file, 'utf8');
    const no = await cli(['secrets', 'set', 'staging', 'payments', 'other', '--value-stdin'], { cwd: dir, stdin: 'x' });
    assert.equal(no.code, 2);
    assert.match(no.err, /changing secrets\/staging\/payments\.sops\.yaml needs an age identity.*\n.*\n?.*--identity FILE or set SOPS_AGE_KEY_FILE/);
    assert.equal(await readFile(file, 'utf8'), before);
    const vf = path.join(dir, 'v.txt');
    await writeFile(vf, 'line1\nline2\n');
    const ok = await cli(['secrets', 'set', 'staging', 'payments', 'cert', '--from-file', vf], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key('staging') }, spawn: true });
    assert.equal(ok.code, 0, ok.err);
    const d = await decryptSopsFile(await readFile(file, 'utf8'), { format: 'yaml', identities: [await idOf(key('staging'))] });
    assert.deepEqual(d.data, { stripe: { key: VALUE }, cert: 'line1\nline2\n' });
    for (const bad of [
      ['secrets', 'set', 'staging', 'payments', 'k'],
      ['secrets', 'set', 'staging', 'payments', 'k', '--value-stdin', '--from-file', vf],
      ['secrets', 'set', 'staging', 'payments', 'sops', '--value-stdin'],
      ['secrets', 'set', 'Staging', 'payments', 'k', '--value-stdin'],
      ['secrets', 'set', 'staging', 'payments', 'k', '--value-stdin', '--rotate-by', '400d'],
    ]) {
      const r = await cli(bad, { cwd: dir });
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.err}`);
      assert.match(r.err, /fix:|usage/);
    }
    const unmatched = await cli(['secrets', 'set', 'dev', 'checkout', 'k', '--from-file', vf], { cwd: dir });
    assert.equal(unmatched.code, 2);
    assert.match(unmatched.err, /no creation rule matches secrets\/dev\/checkout\.sops\.yaml/);
    noTemp();
  });

  test('list: names, key id, recipients without a key; created, rotate_by, overdue with one; never values', async () => {
    const bare = await cli(['secrets', 'list', '--json'], { cwd: dir, spawn: true });
    assert.equal(bare.code, 0, bare.err);
    const rows = JSON.parse(bare.out).files as Array<Record<string, unknown>>;
    const prod = rows.find((r) => r['file'] === 'secrets/prod/checkout.sops.yaml')!;
    assert.deepEqual(prod['names'], ['db.password', 'api_key']);
    assert.match(String(prod['keyId']), /^[0-9a-f]{16}$/);
    assert.equal(prod['created'], undefined);
    const withKey = await cli(['secrets', 'list', '--env', 'prod', '--identity', key('prod')], { cwd: dir });
    assert.equal(withKey.code, 1, 'an overdue file makes list exit 1');
    assert.match(withKey.out, /created: 2025-01-01T00:00:00Z {3}rotate by: 2025-06-01T00:00:00Z {3}OVERDUE/);
    const wrong = await cli(['secrets', 'list', '--env', 'staging', '--json'], { cwd: dir, env: { STAGEGATE_AGE_IDENTITY_FILE: key('prod') } });
    assert.equal(wrong.code, 1);
    const w = JSON.parse(wrong.out).files[0];
    assert.match(w.error, /secrets\/staging\/checkout\.sops\.yaml: none of the given age identities/);
    for (const s of [bare.out, withKey.out, wrong.out]) assert.ok(!s.includes(VALUE));
  });

  test('rotate: new data key (key id changes), created reset, values kept; rewrap: new recipients, same key id and MAC', async () => {
    const file = path.join(dir, 'secrets', 'prod', 'checkout.sops.yaml');
    const id = await idOf(key('prod'));
    const before = await decryptSopsFile(await readFile(file, 'utf8'), { format: 'yaml', identities: [id] });
    const keyIdOf = async () => JSON.parse((await cli(['secrets', 'list', '--env', 'prod', '--json'], { cwd: dir })).out).files[0].keyId as string;
    const k0 = await keyIdOf();
    const r = await cli(['secrets', 'rotate', 'secrets/prod/checkout.sops.yaml', '--rotate-by', '60d', '--identity', ex.recoveryFile, '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    const after = await decryptSopsFile(await readFile(file, 'utf8'), { format: 'yaml', identities: [id] });
    assert.deepEqual(after.data, before.data);
    assert.ok(Date.parse(after.meta!.created) >= now.getTime() - 1000);
    assert.equal(Date.parse(after.meta!.rotate_by) - Date.parse(after.meta!.created), 60 * 86_400_000);
    const k1 = await keyIdOf();
    assert.notEqual(k1, k0);
    // a new prod recipient in .sops.yaml, then rewrap
    const extraId = await generateX25519Identity();
    const extra = await identityToRecipient(extraId);
    const cfg = path.join(dir, '.sops.yaml');
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace(`age: ${ex.recipients['prod']},`, `age: ${ex.recipients['prod']},${extra},`));
    const macBefore = (parseYaml(await readFile(file, 'utf8')) as { sops: { mac: string } }).sops.mac;
    const w = await cli(['secrets', 'rewrap', '--env', 'prod', '--identity', key('prod')], { cwd: dir });
    assert.equal(w.code, 0, w.err);
    assert.match(w.out, /rewrapped secrets\/prod\/checkout\.sops\.yaml for 3 recipient\(s\)/);
    const text = await readFile(file, 'utf8');
    assert.equal((parseYaml(text) as { sops: { mac: string } }).sops.mac, macBefore);
    assert.equal(await keyIdOf(), k1);
    assert.deepEqual((await decryptSopsFile(text, { format: 'yaml', identities: [extraId] })).data, before.data);
    const viaSopsAge = (await decryptSops(text, { secretKey: extraId, fileType: 'yaml' })) as Record<string, unknown>;
    assert.deepEqual(viaSopsAge['db'], before.data['db']);
    for (const s of [r.out, r.err, w.out, w.err]) assert.ok(!s.includes(String((before.data['db'] as { password: string }).password)));
    // the inventory parity reads: same key id, age with an identity, never a value
    const inv = await secretInventory(dir, 'prod', { identities: [id], now: new Date() });
    assert.deepEqual(inv['checkout']?.['db.password'], { present: true, file: 'secrets/prod/checkout.sops.yaml', keyId: k1, created: after.meta!.created, rotateBy: after.meta!.rotate_by, overdue: false });
    assert.deepEqual(Object.keys(inv['checkout'] ?? {}), ['db.password', 'api_key']);
    const late = await secretInventory(dir, 'prod', { identities: [id], now: new Date(Date.parse(after.meta!.rotate_by) + 1000) });
    assert.equal(late['checkout']?.['api_key']?.overdue, true);
  });

  test('bad input: broken file, wrong key, tampered MAC -> error naming the file and the fix; the file is unchanged', async () => {
    const file = path.join(dir, 'secrets', 'staging', 'checkout.sops.yaml');
    const good = await readFile(file, 'utf8');
    const env = { SOPS_AGE_KEY_FILE: key('staging') };
    const cases: Array<[string, string, Record<string, string>, number, RegExp]> = [
      ['broken', 'db: [unclosed\n', env, 2, /secrets\/staging\/checkout\.sops\.yaml: the file is not valid YAML/],
      ['not sops', 'db:\n  password: plain\n', env, 2, /secrets\/staging\/checkout\.sops\.yaml: the file has no sops metadata/],
      ['wrong key', good, { SOPS_AGE_KEY_FILE: key('prod') }, 5, /secrets\/staging\/checkout\.sops\.yaml: none of the given age identities can unwrap[\s\S]*fix: use the identity of one of the listed recipients/],
      ['value removed', good.replace(/^api_key: .*\n/m, ''), env, 1, /secrets\/staging\/checkout\.sops\.yaml: the SOPS MAC does not match[\s\S]*field sops\.mac[\s\S]*fix: restore the file/],
      ['value moved', good.replace(/^( {2}password: )(ENC\[[^\]]+\])\n([\s\S]*?)^(api_key: )(ENC\[[^\]]+\])$/m, '$1$5\n$3$4$2'), env, 1, /secrets\/staging\/checkout\.sops\.yaml: .*(db\.password|api_key)/],
    ];
    for (const [name, text, e, code, re] of cases) {
      assert.notEqual(text, name === 'wrong key' ? '' : good, name);
      await writeFile(file, text);
      for (const args of [['secrets', 'rotate', 'secrets/staging/checkout.sops.yaml'], ['secrets', 'rewrap', '--env', 'staging']]) {
        const r = await cli(args, { cwd: dir, env: e });
        assert.equal(r.code, code, `${name} ${args[1]}: ${r.err}`);
        assert.match(r.err, re, name);
        assert.equal(await readFile(file, 'utf8'), text, `${name}: nothing written`);
      }
    }
    await writeFile(file, good);
    noTemp();
  });
});
