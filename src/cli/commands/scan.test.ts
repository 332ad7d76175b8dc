import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { fakes } from '../../secrets/scan/test-fakes.ts';
import type { CliContext } from '../command.ts';
import { exitCodes } from '../command.ts';
import { scanCommand } from './scan.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-cli-scan-'));
after(() => rm(dir, { recursive: true, force: true }));
const capture = () => {
  const out: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: () => undefined, env: {}, cwd: dir };
  return { ctx, text: () => out.join('\n') };
};
const aws = fakes.awsAccessKeyId();
await mkdir(join(dir, 'clean'));
await writeFile(join(dir, 'clean/a.yaml'), 'replicas: 3\n');
await mkdir(join(dir, 'dirty'));
await writeFile(join(dir, 'dirty/creds.ini'), `[default]\naws_access_key_id = ${aws}\n`);

describe('stagegate scan', () => {
  test('clean: exit 0', async () => {
    const c = capture();
    assert.equal(await scanCommand.run(['clean'], c.ctx), exitCodes.ok);
    assert.match(c.text(), /clean: no secrets in 1 file/);
  });
  test('findings: exit 1, file, line, rule id and redacted match; never the secret', async () => {
    const c = capture();
    assert.equal(await scanCommand.run(['dirty', '--sarif', 'out.sarif'], c.ctx), exitCodes.failed);
    assert.match(c.text(), /creds\.ini:2:21 {2}aws-access-token {2}AKIA…/);
    assert.ok(!c.text().includes(aws.slice(0, 6)));
    const sarif = JSON.parse(await readFile(join(dir, 'out.sarif'), 'utf8'));
    assert.equal(sarif.runs[0].results[0].ruleId, 'aws-access-token');
  });
  test('--json: the report as JSON', async () => {
    const c = capture();
    assert.equal(await scanCommand.run(['dirty', '--json'], c.ctx), exitCodes.failed);
    const r = JSON.parse(c.text());
    assert.equal(r.findings[0].file, 'creds.ini');
    assert.equal(r.findings[0].line, 2);
  });
  test('usage errors: no path, two paths, unknown flag, missing path', async () => {
    for (const args of [[], ['a', 'b'], ['clean', '--nope'], ['missing']]) {
      await assert.rejects(scanCommand.run(args, capture().ctx), (e) => e instanceof DomainError && e.code === 'invalid_input', JSON.stringify(args));
    }
  });
});
