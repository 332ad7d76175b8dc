/**
 * The exec target's observe command: run without a shell, bounded in time and output; garbage,
 * failures and timeouts are clear error states; a lying observation (other bytes than signed) is
 * a drift finding.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { driftReport, parseObservation } from '../src/parity/drift.ts';
import type { EnvironmentSnapshot } from '../src/parity/snapshot.ts';
import type { ExecTarget } from '../src/project/schema.ts';
import { createExecRunner } from '../src/rollout/targets/exec.ts';
import { createExecTarget } from '../src/rollout/targets/exec-target.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sg-observe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const d = (c: string) => `sha256:${c.repeat(64)}`;

function target(script: string, timeoutMs = 10_000) {
  const file = path.join(dir, `observe-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(file, script);
  const config: ExecTarget = { name: 't', type: 'exec', deploy: ['true'], observe: ['node', file], timeoutMs, env: { EXTRA: 'x' } };
  return createExecTarget({ config, runner: createExecRunner({ runsDir: path.join(dir, 'runs') }), cwd: dir, stateDir: path.join(dir, 'state') });
}

const declared: EnvironmentSnapshot = {
  environment: 'prod',
  services: { checkout: { release: { id: d('1'), version: '1.0.0', digests: { 'server.js': d('a') } }, secrets: {} } },
  flags: {},
};

async function drift(script: string, timeoutMs?: number) {
  const out = await target(script, timeoutMs).observe!('prod');
  const parsed = out.ok ? parseObservation(out.output, 'observe command of target t') : { ok: false as const, error: out.error };
  return driftReport(declared, parsed.ok ? parsed.observed : { error: parsed.error }, { now: new Date() });
}

describe('exec observe', () => {
  test('the command sees the environment and the state folder, and its JSON is compared', async () => {
    const r = await drift(`
      const { STAGEGATE_ENVIRONMENT: e, STAGEGATE_STATE_DIR: s, EXTRA } = process.env;
      if (e !== 'prod' || !s.endsWith('state') || EXTRA !== 'x') process.exit(3);
      console.log(JSON.stringify({ services: { checkout: { version: '1.0.0', digests: { 'server.js': '${d('a')}' } } } }));`);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.findings, []);
  });

  test('a lying observation (the running bytes differ from the signed digest) is a finding', async () => {
    const r = await drift(`console.log(JSON.stringify({ services: { checkout: { version: '1.0.0', digests: { 'server.js': '${d('b')}' } } } }))`);
    assert.equal(r.findings.length, 1);
    assert.match(r.findings[0]!.message, /server\.js running in prod hashes to sha256:b+, but the signed release checkout@1\.0\.0 has sha256:a+/);
  });

  test('garbage, a failing command, a timeout and too much output are error states', async () => {
    assert.match((await drift(`console.log('all good!')`)).error ?? '', /observe command of target t did not print JSON/);
    assert.match((await drift(`console.log(JSON.stringify({ services: [1, 2] }))`)).error ?? '', /not an observed state: \/services/);
    assert.match((await drift(`console.error('cannot reach the cluster'); process.exit(4)`)).error ?? '', /exited with code 4: cannot reach the cluster/);
    assert.match((await drift(`setTimeout(() => {}, 60_000)`, 300)).error ?? '', /timed out after 300 ms and was killed/);
    assert.match((await drift(`const s = 'x'.repeat(65536); for (let i = 0; i < 40; i++) process.stdout.write(s); setTimeout(() => {}, 60_000)`)).error ?? '', /printed more than 1048576 bytes/);
  });

  test('no shell: metacharacters in argv are plain arguments', async () => {
    const config: ExecTarget = { name: 't', type: 'exec', deploy: ['true'], observe: ['node', '-e', 'console.log(JSON.stringify({services:{}, argv: process.argv.slice(1)}))', '$(touch pwned)', ';', 'x'], timeoutMs: 5000, env: {} };
    const t = createExecTarget({ config, runner: createExecRunner({ runsDir: path.join(dir, 'runs') }), cwd: dir, stateDir: dir });
    const out = await t.observe!('dev');
    assert.ok(out.ok);
    assert.deepEqual(JSON.parse(out.output).argv, ['$(touch pwned)', ';', 'x']);
    const noObserve = createExecTarget({ config: { ...config, observe: undefined } as ExecTarget, runner: createExecRunner({ runsDir: dir }), cwd: dir, stateDir: dir });
    assert.equal(noObserve.observe, undefined);
  });
});
