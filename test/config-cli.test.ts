/** `stagegate config show`, `config diff` and `manifest audit` on a copy of examples/shop (offline). */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from 'tar';
import type { CliContext } from '../src/cli/command.ts';
import { runManifestAudit } from '../src/cli/commands/manifest.ts';
import { runCli } from '../src/cli/main.ts';
import { effectiveConfigFromDir } from '../src/parity/config/effective-config.ts';
import { type Fixture, makeFixture } from './helpers/fixture.ts';

let fx: Fixture;
const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: fx.projectDir };
  const code = await runCli(argv, ctx);
  return { code, out: out.join('\n'), err: err.join('\n') };
};
const sops = (keys: string[]) => `${keys.map((k) => `${k}: ENC[AES256_GCM,data:abc=,iv:abc=,tag:abc=,type:str]`).join('\n')}\nstagegate_meta:\n  created: ENC[AES256_GCM,data:x=,iv:x=,tag:x=,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x=,iv:x=,tag:x=,type:str]\n  version: 3.9.2\n`;

before(async () => {
  fx = await makeFixture();
  for (const env of ['dev', 'staging', 'prod']) {
    mkdirSync(path.join(fx.projectDir, 'secrets', env), { recursive: true });
    writeFileSync(path.join(fx.projectDir, 'secrets', env, 'checkout.sops.yaml'), sops(['db_password', 'payments_api_key']));
  }
});
after(() => fx.cleanup());

describe('config show', () => {
  test('every value with its JSON Pointer and origin, and the digest', async () => {
    const r = await run('config', 'show', 'checkout', '--env', 'prod');
    assert.equal(r.code, 0, r.err);
    const eff = await effectiveConfigFromDir(path.join(fx.projectDir, 'manifest'), 'checkout', 'prod');
    assert.ok(r.out.startsWith(`checkout in prod: ${eff.digest}`), r.out);
    assert.match(r.out, /\/runtime\/replicas +3 +overlay:prod\.yaml/);
    assert.match(r.out, /\/runtime\/resources\/cpu +"250m" +base/);
    const json = await run('config', 'show', 'checkout', '--env', 'prod', '--json');
    assert.deepEqual(JSON.parse(json.out), eff);
    const base = JSON.parse((await run('config', 'show', 'checkout', '--env', 'base', '--json')).out);
    assert.equal(base.document.runtime.replicas, 1);
  });

  test('bad input: unknown environment or service (3), missing --env or extra args (2)', async () => {
    assert.equal((await run('config', 'show', 'checkout', '--env', 'qa')).code, 3);
    assert.equal((await run('config', 'show', 'billing', '--env', 'prod')).code, 3);
    assert.equal((await run('config', 'show', 'checkout')).code, 2);
    assert.equal((await run('config', 'show', 'a', 'b', '--env', 'prod')).code, 2);
  });
});

describe('config diff', () => {
  test('each changed pointer with both values and origins', async () => {
    const r = await run('config', 'diff', 'checkout', '--from', 'staging', '--to', 'prod', '--json');
    assert.equal(r.code, 0, r.err);
    const d = JSON.parse(r.out);
    const replicas = d.changes.find((c: { pointer: string }) => c.pointer === '/runtime/replicas');
    assert.deepEqual(replicas, { pointer: '/runtime/replicas', change: 'changed', from: { value: 2, origin: 'overlay:staging.yaml' }, to: { value: 3, origin: 'overlay:prod.yaml' } });
    assert.deepEqual(
      d.changes.map((c: { pointer: string }) => c.pointer),
      ['/observability/retention/logs', '/observability/retention/metrics', '/observability/traces/sampling', '/runtime/replicas', '/runtime/resources/memory'],
    );
    const text = await run('config', 'diff', 'checkout', '--from', 'dev', '--to', 'prod');
    assert.match(text.out, /~ \/runtime\/resources\/memory: "256Mi" \(base\) -> "512Mi" \(overlay:prod\.yaml\)/);
    assert.match((await run('config', 'diff', 'checkout', '--from', 'dev', '--to', 'base')).out, /no differences/);
  });

  test('added and removed keys', async () => {
    const file = path.join(fx.projectDir, 'manifest', 'checkout', 'prod.patch.yaml');
    writeFileSync(file, '- {op: remove, path: /config/cartTtlSeconds}\n- {op: add, path: /config/region, value: eu-west-1}\n');
    try {
      const d = JSON.parse((await run('config', 'diff', 'checkout', '--from', 'staging', '--to', 'prod', '--json')).out);
      assert.deepEqual(d.changes.find((c: { pointer: string }) => c.pointer === '/config/cartTtlSeconds'), { pointer: '/config/cartTtlSeconds', change: 'removed', from: { value: 1800, origin: 'base' } });
      assert.deepEqual(d.changes.find((c: { pointer: string }) => c.pointer === '/config/region'), { pointer: '/config/region', change: 'added', to: { value: 'eu-west-1', origin: 'patch:prod.patch.yaml#1' } });
    } finally {
      rmSync(file);
    }
  });

  test('a broken patch is a usage error naming file, line, op and pointer', async () => {
    const file = path.join(fx.projectDir, 'manifest', 'checkout', 'prod.patch.yaml');
    writeFileSync(file, '- {op: test, path: /runtime/replicas, value: 9}\n');
    try {
      const r = await run('config', 'diff', 'checkout', '--from', 'staging', '--to', 'prod');
      assert.equal(r.code, 2);
      assert.match(r.err, /prod\.patch\.yaml:1:3: operation #0 \(test \/runtime\/replicas\)/);
    } finally {
      rmSync(file);
    }
  });
});

describe('release create --config manifest/SERVICE --needs', () => {
  test('signs byproducts and needs; release verify still passes; bad --needs is a usage error', async () => {
    const args = ['release', 'create', '--service', 'checkout', '--version', '3.0.0', '--artifact', 'checkout/server.js', '--config', 'manifest/checkout', '--key', fx.keyFile];
    const bad = await run(...args, '--needs', 'payments@2', '--out', 'bad.json');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /not KIND:NAME@RANGE/);
    const ok = await run(...args, '--needs', 'platform:node@>=20', '--out', 'cfg.bundle.json', '--json');
    assert.equal(ok.code, 0, ok.err);
    const v = await run('release', 'verify', 'cfg.bundle.json', '--key', fx.pubFile, '--artifact', 'checkout/server.js', '--config', 'manifest/checkout');
    assert.equal(v.code, 0, v.out + v.err);
  });
});

describe('manifest audit', () => {
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(fx.projectDir, rel)), { recursive: true });
    writeFileSync(path.join(fx.projectDir, rel), text);
  };

  test('the example with its secrets files is clean (exit 0)', async () => {
    const r = await run('manifest', 'audit');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /no findings in manifest \(1 service: checkout\)/);
  });

  test('every kind of stale or diverging entry is reported with file:line and fix (exit 1)', async () => {
    write('manifest/checkout/staging.yaml', 'runtime:\n  replicas: 2\n  resources: {cpu: 250m}\nconfig:\n  oldFlag: true\n');
    write('manifest/checkout/qa.yaml', 'runtime: {replicas: 1}\n');
    write('manifest/legacy/base.yaml', 'config: {}\n');
    write('manifest/checkout/base.yaml.extra', '');
    write('secrets/prod/checkout.sops.yaml', sops(['db_password']));
    rmSync(path.join(fx.projectDir, 'secrets', 'dev'), { recursive: true });
    const r = await run('manifest', 'audit', '--json');
    assert.equal(r.code, 1);
    const findings = JSON.parse(r.out).findings as Array<{ kind: string; file?: string; line?: number; pointer?: string; environment?: string; message: string }>;
    const find = (kind: string, pred: (f: (typeof findings)[number]) => boolean = () => true) => findings.find((f) => f.kind === kind && pred(f));
    assert.deepEqual(
      { ...find('override-equals-base', (f) => f.environment === 'staging'), message: undefined, fix: undefined },
      { kind: 'override-equals-base', service: 'checkout', environment: 'staging', file: 'manifest/checkout/staging.yaml', line: 3, column: 15, pointer: '/runtime/resources/cpu', message: undefined, fix: undefined },
    );
    assert.equal(find('override-unknown-key')?.pointer, '/config/oldFlag');
    assert.equal(find('override-unknown-key')?.line, 5);
    assert.match(find('unknown-environment')?.message ?? '', /qa, which is not in the project/);
    assert.equal(find('override-equals-base', (f) => f.environment === 'qa')?.pointer, '/runtime/replicas');
    assert.equal(find('unknown-service-folder')?.file, 'manifest/legacy');
    assert.match(find('missing-secret', (f) => f.environment === 'prod')?.message ?? '', /PAYMENTS_API_KEY refers to key payments_api_key, which secrets\/prod\/checkout\.sops\.yaml does not have/);
    assert.match(find('missing-secret', (f) => f.environment === 'dev')?.message ?? '', /secrets\/dev\/checkout\.sops\.yaml does not exist/);
    assert.equal(find('missing-secret', (f) => f.environment === 'staging'), undefined);
    const text = await run('manifest', 'audit');
    assert.match(text.out, /manifest\/checkout\/staging\.yaml:3:15: \[override-equals-base\] staging sets \/runtime\/resources\/cpu to "250m", the same value as base\.yaml — fix: delete/);
  });

  test('dependencies on unknown services, broken manifests, hard-coded values and extra findings', async () => {
    write('manifest/checkout/base.yaml', 'config:\n  paymentsUrl: http://payments.internal.svc:8080\ndependencies:\n  services: {billing: ^1.0.0}\n');
    write('manifest/checkout/staging.yaml', 'runtime: {replicas: 2}\n');
    write('manifest/checkout/prod.patch.yaml', '- {op: replace, path: /nope/x, value: 1}\n');
    mkdirSync(path.join(fx.dir, 'pkg'), { recursive: true });
    writeFileSync(path.join(fx.dir, 'pkg', 'index.js'), 'fetch("http://payments.internal.svc:8080/pay")\n');
    await create({ gzip: true, file: path.join(fx.dir, 'app.tgz'), cwd: path.join(fx.dir, 'pkg') }, ['index.js']);
    const out: string[] = [];
    const ctx: CliContext = { out: (t) => out.push(t), err: () => undefined, env: {}, cwd: fx.projectDir };
    const extra = { kind: 'expired-parity-rule', message: 'rule x expired', fix: 'renew it' };
    const code = await runManifestAudit(['--json', '--artifacts', path.join(fx.dir, 'app.tgz')], ctx, [extra]);
    assert.equal(code, 1);
    const findings = JSON.parse(out.join('\n')).findings as Array<{ kind: string; file?: string; message: string; line?: number; pointer?: string }>;
    const kinds = findings.map((f) => f.kind);
    assert.ok(kinds.includes('invalid-manifest'), JSON.stringify(findings));
    assert.match(findings.find((f) => f.kind === 'invalid-manifest')?.message ?? '', /prod\.patch\.yaml:1:3: operation #0 \(replace \/nope\/x\)/);
    assert.deepEqual(findings.at(-1), extra);
    // the broken patch stops the reference checks of prod only after dev and staging ran
    assert.ok(findings.some((f) => f.kind === 'unknown-service-dependency' && /billing/.test(f.message)));
    rmSync(path.join(fx.projectDir, 'manifest', 'checkout', 'prod.patch.yaml'));
    const again: string[] = [];
    await runManifestAudit(['--json', '--artifacts', path.join(fx.dir, 'app.tgz')], { ...ctx, out: (t) => again.push(t) });
    const hard = (JSON.parse(again.join('\n')).findings as Array<{ kind: string; file: string; line: number; pointer: string }>).filter((f) => f.kind === 'hardcoded-value');
    assert.equal(hard.length, 1);
    assert.equal(hard[0]?.pointer, '/config/paymentsUrl');
    assert.match(hard[0]?.file ?? '', /app\.tgz!index\.js$/);
  });
});
