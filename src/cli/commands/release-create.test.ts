import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../../domain/errors.ts';
import { parseBundle } from '../../crypto/bundle.ts';
import { digestOf } from '../../crypto/digest.ts';
import type { CliContext } from '../command.ts';
import { keysGenerateCommand } from './keys.ts';
import { releaseCreateCommand } from './release-create.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-cli-create-'));
after(() => rm(dir, { recursive: true, force: true }));
const capture = () => {
  const out: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: () => undefined, env: {}, cwd: dir };
  return { ctx, out };
};
await keysGenerateCommand.run(['--out', 'keys'], capture().ctx);
await writeFile(join(dir, 'app.tar.gz'), 'app');
const img = `ghcr.io/acme/app@sha256:${'e'.repeat(64)}`;
const args = ['--service', 'checkout', '--version', '1.2.3', '--artifact', 'app.tar.gz', '--image', img, '--key', 'keys/release.key', '--out', 'rel.json'];
const usageError = (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && Boolean(e.details.fix);

describe('release create', () => {
  test('writes the bundle and prints id, service@version and subjects', async () => {
    const c = capture();
    assert.equal(await releaseCreateCommand.run(args, c.ctx), 0);
    const text = c.out.join('\n');
    assert.match(text, /release sha256:[a-f0-9]{64}/);
    assert.match(text, /checkout@1\.2\.3/);
    assert.ok(text.includes(`app.tar.gz  ${digestOf('app')}`));
    assert.ok(text.includes(`ghcr.io/acme/app  sha256:${'e'.repeat(64)}`));
    const b = parseBundle(await readFile(join(dir, 'rel.json'), 'utf8'), 'rel.json');
    assert.equal(b.envelope.payloadType, 'application/vnd.in-toto+json');
  });
  test('--json output; rerun overwrites the bundle with the same release id', async () => {
    const c = capture();
    assert.equal(await releaseCreateCommand.run([...args, '--json'], c.ctx), 0);
    const j = JSON.parse(c.out.join(''));
    const c2 = capture();
    await releaseCreateCommand.run([...args, '--json'], c2.ctx);
    assert.equal(JSON.parse(c2.out.join('')).releaseId, j.releaseId);
    assert.equal(j.subjects.length, 2);
    assert.equal(j.bundle, join(dir, 'rel.json'));
  });
  test('usage errors', async () => {
    const without = (flag: string) => {
      const i = args.indexOf(flag);
      return [...args.slice(0, i), ...args.slice(i + 2)];
    };
    for (const flag of ['--service', '--version', '--key', '--out']) {
      await assert.rejects(releaseCreateCommand.run(without(flag), capture().ctx), usageError, flag);
    }
    await assert.rejects(releaseCreateCommand.run(['--service', 's', '--version', '1', '--key', 'k', '--out', 'o'], capture().ctx), (e: unknown) => usageError(e) && /nothing to sign/.test((e as Error).message));
    await assert.rejects(releaseCreateCommand.run([...args, '--nope'], capture().ctx), usageError);
    await assert.rejects(releaseCreateCommand.run([...without('--key'), '--key', 'missing.key'], capture().ctx), (e: unknown) => usageError(e) && /missing\.key/.test((e as Error).message));
  });
  test('a tag-only image is refused with the fix', async () => {
    await assert.rejects(
      releaseCreateCommand.run([...args, '--image', 'ghcr.io/acme/app:latest'], capture().ctx),
      (e: unknown) => usageError(e) && /not pinned by digest/.test((e as Error).message) && /sha256/.test(String((e as DomainError).details.fix)),
    );
  });
});
