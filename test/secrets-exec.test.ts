/**
 * The deploy step's secrets file: written 0600 into the step's run folder at prepare, named by
 * STAGEGATE_SECRETS_FILE (only the path is in spec.json and the step data), readable by the command
 * while it runs, and gone when the step ends: on success, on failure, after a restart adopts the
 * step, when the supervisor dies, and when the step is cancelled before it starts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { createExecRunner, type ExecStepSpec, SECRETS_FILE } from '../src/rollout/targets/exec.ts';

const root = mkdtempSync(join(tmpdir(), 'sg-secrets-exec-'));
after(() => rmSync(root, { recursive: true, force: true }));
const runsDir = join(root, 'runs');
const runner = () => createExecRunner({ runsDir, pollMs: 20 });
const CANARY = `canary-${Math.random().toString(36).slice(2)}`;
const secrets = { db: { password: CANARY }, n: 1 };
let seq = 0;
const spec = (script: string): ExecStepSpec => ({ promotionId: `s${++seq}`, step: 'deploy', argv: ['sh', '-c', script], cwd: root, env: {}, timeoutMs: 20_000 });
// proves it got them: mode and a hash of the contents, never the contents
const PROVE = 'stat -c %a "$STAGEGATE_SECRETS_FILE"; sha256sum < "$STAGEGATE_SECRETS_FILE" | cut -c1-64';
const sha = async (s: string) => (await import('node:crypto')).createHash('sha256').update(s).digest('hex');

function everywhere(dir: string): string {
  let all = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    all += e.isDirectory() ? everywhere(p) : readFileSync(p, 'latin1');
  }
  return all;
}

describe('deploy secrets file of an exec step', () => {
  test('the command reads them (0600); spec.json and the step data hold only the path; gone after success', async () => {
    const data = await runner().prepare(spec(PROVE), { secrets });
    const dir = (JSON.parse(data) as { runDir: string }).runDir;
    const file = join(dir, SECRETS_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), secrets);
    const specText = readFileSync(join(dir, 'spec.json'), 'utf8');
    assert.equal(JSON.parse(specText).env.STAGEGATE_SECRETS_FILE, file);
    assert.ok(!specText.includes(CANARY) && !data.includes(CANARY));
    const o = await (await runner().launch(data)).wait();
    assert.equal(o.status, 'succeeded', o.message);
    assert.deepEqual(o.stdoutTail.trim().split('\n'), ['600', await sha(JSON.stringify(secrets))]);
    assert.ok(!existsSync(file));
    assert.ok(!everywhere(runsDir).includes(CANARY));
  });

  test('gone after a failing step, and after a restart adopts a running step', async () => {
    const failing = await (await runner().start({ ...spec(`${PROVE}; exit 3`) })).wait();
    assert.equal(failing.status, 'failed');
    // start() has no secrets: nothing written, no variable
    assert.match(failing.stderrTail, /STAGEGATE_SECRETS_FILE|No such file|stat/);
    const data = await runner().prepare(spec(`sleep 1; ${PROVE}; exit 4`), { secrets });
    const dir = (JSON.parse(data) as { runDir: string }).runDir;
    await runner().launch(data); // the handle is dropped: the server "dies"
    await sleep(200);
    assert.ok(existsSync(join(dir, SECRETS_FILE)), 'present while the step runs');
    const o = await (await runner().adopt(data)).wait(); // a fresh runner: the restarted server
    assert.equal(o.status, 'failed');
    assert.match(o.message, /exited with code 4/);
    assert.match(o.stdoutTail, /^600\n[0-9a-f]{64}/);
    assert.ok(!existsSync(join(dir, SECRETS_FILE)));
  });

  test('prepared, then adopted after a restart before launch: the step still gets them, then they go', async () => {
    const data = await runner().prepare(spec(PROVE), { secrets });
    const o = await (await runner().adopt(data)).wait();
    assert.equal(o.status, 'succeeded', o.message);
    assert.ok(o.stdoutTail.includes(await sha(JSON.stringify(secrets))));
    assert.ok(!existsSync(join((JSON.parse(data) as { runDir: string }).runDir, SECRETS_FILE)));
  });

  test('supervisor killed mid-step: adopt reports interrupted and removes the file; cancel before start removes it', async () => {
    const data = await runner().prepare(spec('sleep 30'), { secrets });
    const dir = (JSON.parse(data) as { runDir: string }).runDir;
    await runner().launch(data);
    for (let i = 0; i < 250 && !existsSync(join(dir, 'child.pid')); i++) await sleep(20);
    const sup = (JSON.parse(readFileSync(join(dir, 'launched'), 'utf8')) as { pid: number }).pid;
    const child = (JSON.parse(readFileSync(join(dir, 'child.pid'), 'utf8')) as { pid: number }).pid;
    process.kill(sup, 'SIGKILL');
    for (let i = 0; i < 250; i++) {
      try {
        process.kill(sup, 0);
        if (/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${sup}/stat`, 'utf8'))) break;
      } catch {
        break;
      }
      await sleep(20);
    }
    assert.ok(existsSync(join(dir, SECRETS_FILE)), 'a killed supervisor cannot clean up');
    const o = await (await runner().adopt(data)).wait();
    assert.match(o.message, /^interrupted/);
    assert.ok(!existsSync(join(dir, SECRETS_FILE)));
    try {
      process.kill(-child, 'SIGKILL');
    } catch {
      // adopt already killed the orphan
    }
    const d2 = await runner().prepare(spec(PROVE), { secrets });
    const h = await runner().launch(d2);
    await h.cancel();
    await h.wait();
    assert.ok(!existsSync(join((JSON.parse(d2) as { runDir: string }).runDir, SECRETS_FILE)));
  });
});
