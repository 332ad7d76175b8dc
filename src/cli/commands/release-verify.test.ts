import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../../domain/errors.ts';
import { digestOf } from '../../crypto/digest.ts';
import type { CliContext } from '../command.ts';
import { exitCodes } from '../command.ts';
import { keysGenerateCommand } from './keys.ts';
import { releaseCreateCommand } from './release-create.ts';
import { releaseVerifyCommand } from './release-verify.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-cli-verify-'));
after(() => rm(dir, { recursive: true, force: true }));
const capture = () => {
  const out: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: () => undefined, env: {}, cwd: dir };
  return { ctx, out, text: () => out.join('\n') };
};
await keysGenerateCommand.run(['--out', 'keys'], capture().ctx);
await keysGenerateCommand.run(['--out', 'keys', '--name', 'other'], capture().ctx);
await writeFile(join(dir, 'app.tar.gz'), 'app');
await writeFile(join(dir, 'lib.so'), 'lib');
await mkdir(join(dir, 'cfg'));
await writeFile(join(dir, 'cfg/a.yaml'), 'a: 1\n');
await releaseCreateCommand.run(
  ['--service', 'checkout', '--version', '1.0.0', '--artifact', 'app.tar.gz', '--artifact', 'lib.so', '--config', 'cfg', '--key', 'keys/release.key', '--out', 'rel.json'],
  capture().ctx,
);

describe('release verify', () => {
  test('valid signature and files: exit 0, every subject ok', async () => {
    const c = capture();
    const code = await releaseVerifyCommand.run(['rel.json', '--key', 'keys/release.pub', '--artifact', 'app.tar.gz', '--artifact', 'lib.so', '--config', 'cfg'], c.ctx);
    assert.equal(code, exitCodes.ok, c.text());
    assert.match(c.text(), /signature: ok/);
    assert.match(c.text(), /ok\s+artifact\s+app\.tar\.gz/);
    assert.match(c.text(), /ok\s+config\s+config\/a\.yaml/);
  });
  test('signature only: exit 0, subjects not checked', async () => {
    const c = capture();
    assert.equal(await releaseVerifyCommand.run(['rel.json', '--key', 'keys/release.pub'], c.ctx), 0);
    assert.match(c.text(), /not-checked/);
  });
  test('swapped artifact: exit 1, mismatch with both digests, missing others', async () => {
    await mkdir(join(dir, 'evil'));
    await writeFile(join(dir, 'evil/app.tar.gz'), 'evil');
    const c = capture();
    assert.equal(await releaseVerifyCommand.run(['rel.json', '--key', 'keys/release.pub', '--artifact', 'evil/app.tar.gz'], c.ctx), exitCodes.failed);
    const t = c.text();
    assert.match(t, /mismatch\s+artifact\s+app\.tar\.gz/);
    assert.ok(t.includes(digestOf('app')) && t.includes(digestOf('evil')));
    assert.match(t, /missing\s+artifact\s+lib\.so/);
    assert.match(t, /FAILED/);
  });
  test('wrong key: exit 1 with what to do; --json gives the result', async () => {
    const c = capture();
    assert.equal(await releaseVerifyCommand.run(['rel.json', '--key', 'keys/other.pub', '--json'], c.ctx), exitCodes.failed);
    const j = JSON.parse(c.text());
    assert.equal(j.signature.ok, false);
    assert.equal(j.ok, false);
    const c2 = capture();
    await releaseVerifyCommand.run(['rel.json', '--key', 'keys/other.pub'], c2.ctx);
    assert.match(c2.text(), /signature: FAILED/);
    assert.match(c2.text(), /pass the right --key/);
  });
  test('several keys: any trusted one verifies', async () => {
    assert.equal(await releaseVerifyCommand.run(['rel.json', '--key', 'keys/other.pub', '--key', 'keys/release.pub'], capture().ctx), 0);
  });
  test('usage errors', async () => {
    const usage = (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && Boolean(e.details.fix);
    await assert.rejects(releaseVerifyCommand.run(['--key', 'keys/release.pub'], capture().ctx), usage);
    await assert.rejects(releaseVerifyCommand.run(['rel.json'], capture().ctx), usage);
    await assert.rejects(releaseVerifyCommand.run(['rel.json', 'b.json', '--key', 'keys/release.pub'], capture().ctx), usage);
    await assert.rejects(releaseVerifyCommand.run(['rel.json', '--key', 'keys/release.key'], capture().ctx), (e: unknown) => usage(e) && /private key/.test((e as Error).message));
    await assert.rejects(releaseVerifyCommand.run(['missing.json', '--key', 'keys/release.pub'], capture().ctx), (e: unknown) => usage(e) && /missing\.json/.test((e as Error).message));
    await writeFile(join(dir, 'bad.json'), '{"mediaType": 1}');
    await assert.rejects(releaseVerifyCommand.run(['bad.json', '--key', 'keys/release.pub'], capture().ctx), (e: unknown) => usage(e) && (e as DomainError).details.field === 'mediaType');
  });
});
