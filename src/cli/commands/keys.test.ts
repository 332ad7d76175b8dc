import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../../domain/errors.ts';
import { keyIdOf, loadPublicKey } from '../../crypto/keys.ts';
import type { CliContext } from '../command.ts';
import { keysGenerateCommand } from './keys.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-cli-keys-'));
after(() => rm(dir, { recursive: true, force: true }));
const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: dir };
  return { ctx, out, err };
};

describe('keys generate', () => {
  test('writes the pair under --out (relative to cwd) and prints key id and paths', async () => {
    const c = capture();
    assert.equal(await keysGenerateCommand.run(['--out', 'k'], c.ctx), 0);
    const text = c.out.join('\n');
    const pub = loadPublicKey(await readFile(join(dir, 'k/release.pub'), 'utf8'), 'p');
    assert.ok(text.includes(keyIdOf(pub)));
    assert.ok(text.includes(join(dir, 'k/release.key')));
    assert.equal((await stat(join(dir, 'k/release.key'))).mode & 0o777, 0o600);
    assert.ok(!text.includes('PRIVATE'));
  });
  test('--json and --name', async () => {
    const c = capture();
    assert.equal(await keysGenerateCommand.run(['--out', 'k', '--name', 'ci', '--json'], c.ctx), 0);
    const j = JSON.parse(c.out.join(''));
    assert.equal(j.publicKeyPath, join(dir, 'k/ci.pub'));
    assert.match(j.keyId, /=$/);
  });
  test('refuses to overwrite; usage errors carry the usage as fix', async () => {
    await assert.rejects(keysGenerateCommand.run(['--out', 'k'], capture().ctx), (e: unknown) => e instanceof DomainError && e.code === 'conflict');
    for (const args of [[], ['--out'], ['--out', 'k', '--bogus'], ['--out', 'k', 'extra']]) {
      await assert.rejects(keysGenerateCommand.run(args, capture().ctx), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && /usage/.test(String(e.details.fix)));
    }
  });
});
