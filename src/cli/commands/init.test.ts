import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isDomainError } from '../../domain/errors.ts';
import type { CliContext } from '../command.ts';
import { initCommand } from './init.ts';
import { schemaCommand } from './schema.ts';
import { projectJsonSchemaText } from '../../project/json-schema.ts';

const cwd = mkdtempSync(join(tmpdir(), 'stagegate-cli-init-'));
after(() => rmSync(cwd, { recursive: true, force: true }));
const ctx = () => {
  const out: string[] = [];
  const c: CliContext = { out: (t) => out.push(t), err: (t) => out.push(t), env: {}, cwd };
  return { c, out };
};

test('stagegate init DIR --json, then refuses a second time, then --force', async () => {
  const { c, out } = ctx();
  assert.equal(await initCommand.run(['shop', '--json', '--service', 'checkout'], c), 0);
  const r = JSON.parse(out[0] ?? '') as { dir: string; project: string; service: string; files: string[]; next: string[] };
  assert.deepEqual([r.dir, r.project, r.service, r.files.length], [join(cwd, 'shop'), 'shop', 'checkout', 3]);
  assert.ok(r.next.some((s) => s.includes('stagegate keys generate --out keys --name ci')));
  await assert.rejects(initCommand.run(['shop'], ctx().c), (e: unknown) => isDomainError(e) && e.code === 'conflict');
  const human = ctx();
  assert.equal(await initCommand.run(['shop', '--force'], human.c), 0);
  assert.match(human.out.join('\n'), /created project shop in .*\n.*stagegate.yaml[\s\S]*next:/);
});

test('stagegate init usage errors', async () => {
  await assert.rejects(initCommand.run(['--nope'], ctx().c), (e: unknown) => isDomainError(e) && e.code === 'invalid_input' && /usage/.test(e.details.fix ?? ''));
  await assert.rejects(initCommand.run(['a', 'b'], ctx().c), /takes one directory/);
});

test('stagegate schema prints the committed schema', async () => {
  const { c, out } = ctx();
  assert.equal(await schemaCommand.run([], c), 0);
  assert.equal(`${out.join('\n')}\n`, projectJsonSchemaText());
  await assert.rejects(schemaCommand.run(['extra'], ctx().c), (e: unknown) => isDomainError(e) && e.code === 'invalid_input');
});
