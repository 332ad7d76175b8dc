import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../../domain/errors.ts';
import { createExecRunner, type ExecStepSpec } from './exec.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function fresh() {
  const root = mkdtempSync(join(tmpdir(), 'exec-target-'));
  dirs.push(root);
  const runsDir = join(root, 'runs');
  const logs: unknown[][] = [];
  const logger = { info: (...a: unknown[]) => void logs.push(a), warn: (...a: unknown[]) => void logs.push(a) };
  const runner = () => createExecRunner({ runsDir, logger, pollMs: 20 });
  return { root, runsDir, work: root, runner, logs };
}
let seq = 0;
const spec = (cwd: string, argv: string[], more: Partial<ExecStepSpec> = {}): ExecStepSpec => ({
  promotionId: `p${++seq}`,
  step: 'deploy',
  argv,
  cwd,
  env: {},
  timeoutMs: 10_000,
  ...more,
});
/** alive and not a zombie */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}
const runDirOf = (data: string) => (JSON.parse(data) as { runDir: string }).runDir;
const readPid = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;
/** a step that appends one line to $OUT, then sleeps, then says done */
const countedStep = (seconds: number) => ['sh', '-c', `echo run >> "$OUT"; sleep ${seconds}; echo done`];

describe('exec target', () => {
  test('success: exit 0, message names the step and the last stdout line', async () => {
    const { runner, work } = fresh();
    const h = await runner().start(spec(work, ['sh', '-c', 'echo first; echo "deployed v1"']));
    const o = await h.wait();
    assert.equal(o.status, 'succeeded');
    assert.equal(o.exitCode, 0);
    assert.match(o.message, /^deploy succeeded: `sh -c 'echo first; echo "deployed v1"'`: deployed v1$/);
    assert.equal(o.stdoutTail, 'first\ndeployed v1\n');
    assert.ok(!Number.isNaN(Date.parse(o.finishedAt)));
  });

  test('failure: exit code, command and last stderr lines in the message', async () => {
    const { runner, work } = fresh();
    const o = await (await runner().start(spec(work, ['sh', '-c', 'echo warming; echo "no such cluster" >&2; exit 3']))).wait();
    assert.equal(o.status, 'failed');
    assert.equal(o.exitCode, 3);
    assert.match(o.message, /^deploy failed: `sh -c .*` exited with code 3\nlast lines of stderr:\nno such cluster$/);
    assert.equal(o.stderrTail, 'no such cluster\n');
    assert.equal(o.stdoutTail, 'warming\n');
  });

  test('a command that cannot be started, or a missing cwd, fails with the reason', async () => {
    const { runner, work } = fresh();
    const a = await (await runner().start(spec(work, ['/nonexistent/deploy-tool', '--prod']))).wait();
    assert.equal(a.status, 'failed');
    assert.match(a.message, /could not start \/nonexistent\/deploy-tool: ENOENT/);
    const b = await (await runner().start(spec(join(work, 'missing'), ['true']))).wait();
    assert.match(b.message, /working directory .*missing cannot be used \(ENOENT\)/);
  });

  test('timeout kills the whole process tree', async () => {
    const { runner, work } = fresh();
    const h = await runner().start(
      spec(work, ['sh', '-c', 'sleep 30 & echo $! > grandchild.pid; sleep 30'], { timeoutMs: 500 }),
    );
    const o = await h.wait();
    assert.equal(o.status, 'failed');
    assert.match(o.message, /^deploy failed: `sh -c .*` timed out after 500 ms and was killed/);
    const child = readPid(join(runDirOf(h.data), 'child.pid'));
    const grandchild = Number(readFileSync(join(work, 'grandchild.pid'), 'utf8'));
    await until(() => !alive(child) && !alive(grandchild));
  });

  test('a step that ignores SIGTERM is SIGKILLed after the grace time', async () => {
    const { runner, work } = fresh();
    const t0 = Date.now();
    const o = await (
      await runner().start(spec(work, ['sh', '-c', 'trap "" TERM; sleep 30'], { timeoutMs: 300, killGraceMs: 300 }))
    ).wait();
    assert.equal(o.status, 'failed');
    assert.match(o.message, /timed out after 300 ms/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a background process that ignores SIGTERM does not outlive a timed-out step', async () => {
    const { runner, work } = fresh();
    const argv = ['sh', '-c', '(trap "" TERM; sleep 30) & echo $! > straggler.pid; sleep 30'];
    const o = await (await runner().start(spec(work, argv, { timeoutMs: 300 }))).wait();
    assert.match(o.message, /timed out after 300 ms/);
    const straggler = Number(readFileSync(join(work, 'straggler.pid'), 'utf8'));
    await until(() => !alive(straggler));
  });

  test('logs are bounded to 1 MiB per stream and the tails hold the end of the output', async () => {
    const { runner, work } = fresh();
    const script = `const l='x'.repeat(1023)+'\\n'; for (let i=0;i<3072;i++) process.stdout.write(l); process.stdout.write('LAST LINE\\n')`;
    const h = await runner().start(spec(work, [process.execPath, '-e', script]));
    const o = await h.wait();
    assert.equal(o.status, 'succeeded');
    assert.match(o.message, /: LAST LINE$/);
    assert.ok(o.stdoutTail.endsWith('x\nLAST LINE\n'));
    assert.ok(Buffer.byteLength(o.stdoutTail) <= 4096);
    const dir = runDirOf(h.data);
    const size = (f: string) => (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0);
    assert.ok(size('stdout.log') + size('stdout.log.1') <= 1024 * 1024);
    assert.ok(size('stdout.log.1') > 0);
  });

  test('the child sees only spec.env plus PATH and HOME; secrets are not logged', async () => {
    const { runner, work, logs } = fresh();
    process.env.STAGEGATE_TEST_SERVER_TOKEN = 'server-secret';
    try {
      const keys = `console.log(JSON.stringify(Object.keys(process.env).sort()))`;
      const a = await (await runner().start(spec(work, [process.execPath, '-e', keys], { env: { DEPLOY_KEY: 'k-123' } }))).wait();
      const expected = ['DEPLOY_KEY', ...(process.env.HOME ? ['HOME'] : []), 'PATH'];
      assert.equal(a.stdoutTail.trim(), JSON.stringify(expected));
      const parentEnv = ['sh', '-c', 'tr "\\0" "\\n" < /proc/$PPID/environ'];
      const b = await (await runner().start(spec(work, parentEnv, { env: { DEPLOY_KEY: 'k-123' } }))).wait();
      assert.equal(b.status, 'succeeded');
      assert.ok(!b.stdoutTail.includes('STAGEGATE_TEST_SERVER_TOKEN'), 'supervisor env leaked');
      assert.ok(!JSON.stringify(logs).includes('k-123'), 'a secret value was logged');
      assert.ok(logs.length > 0);
    } finally {
      delete process.env.STAGEGATE_TEST_SERVER_TOKEN;
    }
  });

  test('server dies (handle dropped): a fresh runner adopts the same run; it ran once', async () => {
    const { runner, work } = fresh();
    const out = join(work, 'runs.txt');
    const first = await runner().start(spec(work, countedStep(1), { env: { OUT: out } }));
    const adopted = await runner().adopt(first.data);
    const o = await adopted.wait();
    assert.equal(o.status, 'succeeded');
    assert.match(o.message, /: done$/);
    assert.deepEqual(lines(out), ['run']);
  });

  test('server SIGKILLed right after launch: adopt learns the outcome; it ran once', async () => {
    const { runner, work, root } = fresh();
    const out = join(work, 'runs.txt');
    const s = spec(work, countedStep(1), { env: { OUT: out } });
    const script = join(root, 'server.mjs');
    writeFileSync(
      script,
      `import { createExecRunner } from ${JSON.stringify(new URL('./exec.ts', import.meta.url).href)};
const h = await createExecRunner({ runsDir: ${JSON.stringify(join(root, 'runs'))} }).start(${JSON.stringify(s)});
process.stdout.write(h.data + '\\n');
setInterval(() => {}, 1000);`,
    );
    const server = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const data = await new Promise<string>((res, rej) => {
      let buf = '';
      server.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) res(buf.trim());
      });
      server.on('exit', () => rej(new Error('server exited early')));
    });
    server.kill('SIGKILL');
    const o = await (await runner().adopt(data)).wait();
    assert.equal(o.status, 'succeeded');
    assert.deepEqual(lines(out), ['run']);
  });

  test('prepared but never launched: adopt launches it once; adopting again does not rerun it', async () => {
    const { runner, work } = fresh();
    const out = join(work, 'runs.txt');
    const s = spec(work, countedStep(0), { env: { OUT: out } });
    // a crash between prepare and the steps row: preparing again is allowed and rewrites the spec
    const data = await runner().prepare({ ...s, timeoutMs: 1 });
    assert.equal(await runner().prepare(s), data);
    const specFile = join(runDirOf(data), 'spec.json');
    assert.equal(statSync(specFile).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(specFile, 'utf8')).timeoutMs, 10_000);
    assert.ok(!existsSync(out));
    const o = await (await runner().adopt(data)).wait();
    assert.equal(o.status, 'succeeded');
    const again = await (await runner().adopt(data)).wait();
    const relaunched = await (await runner().launch(data)).wait();
    assert.deepEqual([again.status, relaunched.status], ['succeeded', 'succeeded']);
    assert.deepEqual(lines(out), ['run']);
  });

  test('two runners adopting the same prepared step at once: it runs once', async () => {
    const { runner, work } = fresh();
    const out = join(work, 'runs.txt');
    const data = await runner().prepare(spec(work, countedStep(0), { env: { OUT: out } }));
    const handles = await Promise.all([runner().adopt(data), runner().adopt(data), runner().launch(data)]);
    const outcomes = await Promise.all(handles.map((h) => h.wait()));
    assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'succeeded', 'succeeded']);
    assert.deepEqual(lines(out), ['run']);
  });

  test('supervisor SIGKILLed: adopt reports interrupted and kills the orphaned command', async () => {
    const { runner, work } = fresh();
    const out = join(work, 'runs.txt');
    const h = await runner().start(spec(work, countedStep(30), { env: { OUT: out } }));
    const dir = runDirOf(h.data);
    await until(() => existsSync(join(dir, 'child.pid')) && existsSync(out));
    const supervisor = readPid(join(dir, 'launched'));
    const child = readPid(join(dir, 'child.pid'));
    process.kill(supervisor, 'SIGKILL');
    await until(() => !alive(supervisor));
    const o = await (await runner().adopt(h.data)).wait();
    assert.equal(o.status, 'failed');
    assert.equal(o.exitCode, null);
    assert.match(o.message, /^interrupted: the step started but its supervisor died; outcome unknown, check the target and retry the promotion \(step deploy: `sh -c/);
    await until(() => !alive(child));
    assert.deepEqual(lines(out), ['run']);
  });

  test('cancel: before the command starts, and while it runs', async () => {
    const { runner, work } = fresh();
    const early = await runner().start(spec(work, ['sleep', '30']));
    await early.cancel();
    const a = await early.wait();
    assert.equal(a.status, 'failed');
    assert.match(a.message, /was cancelled/);
    const running = await runner().start(spec(work, ['sleep', '30']));
    const dir = runDirOf(running.data);
    await until(() => existsSync(join(dir, 'child.pid')));
    const child = readPid(join(dir, 'child.pid'));
    await running.cancel();
    const b = await running.wait();
    assert.match(b.message, /^deploy failed: `sleep 30` was cancelled$/);
    await until(() => !alive(child));
    await running.cancel(); // finished: a no-op
  });

  test('bad specs and data are refused', async () => {
    const { runner, work, runsDir } = fresh();
    const r = runner();
    const bad: Partial<ExecStepSpec>[] = [
      { promotionId: '../escape' },
      { promotionId: '' },
      { step: 'a/b' },
      { step: 'x'.repeat(81) },
      { argv: [] },
      { argv: [''] },
      { argv: ['echo', 'a\0b'] },
      { cwd: 'relative/dir' },
      { env: { 'BAD-NAME': 'x' } },
      { env: { OK: 'nul\0' } },
      { timeoutMs: 0 },
      { timeoutMs: 1.5 },
      { killGraceMs: -1 },
    ];
    for (const b of bad) await assert.rejects(r.prepare({ ...spec(work, ['true']), ...b }), isCode('invalid_input'), JSON.stringify(b));
    await assert.rejects(r.prepare({ ...spec(work, ['true']), shell: true } as ExecStepSpec), isCode('invalid_input'));
    for (const d of ['not json', '{}', '[]', 'null', JSON.stringify({ v: 1, promotionId: 'a/..', step: 'deploy', runDir: runsDir })]) {
      await assert.rejects(r.adopt(d), isCode('invalid_input'), d);
    }
    const moved = JSON.stringify({ v: 1, promotionId: 'p', step: 'deploy', runDir: '/elsewhere/p/deploy' });
    await assert.rejects(r.adopt(moved), isCode('conflict'));
    const never = JSON.stringify({ v: 1, promotionId: 'never', step: 'deploy', runDir: join(runsDir, 'never', 'deploy') });
    await assert.rejects(r.adopt(never), isCode('not_found'));
    const s = spec(work, ['true']);
    const h = await r.start(s);
    await h.wait();
    await assert.rejects(r.prepare(s), isCode('conflict'));
    writeFileSync(join(runDirOf(h.data), 'result.json'), '{"exitCo');
    await assert.rejects(r.adopt(h.data), isCode('internal'));
  });

  test('property: ids and adopt data from anywhere never escape runsDir, only DomainError is thrown', async () => {
    const { runner, work, runsDir } = fresh();
    const r = runner();
    const idLike = fc.oneof(fc.string({ maxLength: 90 }), fc.constantFrom('..', '.', '../x', '/abs', 'a\0b', 'ok-id_1'));
    await fc.assert(
      fc.asyncProperty(idLike, idLike, fc.string({ maxLength: 200 }), async (promotionId, step, junk) => {
        const forged = [junk];
        try {
          const data = await r.prepare({ ...spec(work, ['true']), promotionId, step });
          const rel = relative(runsDir, runDirOf(data));
          assert.ok(rel !== '' && !rel.startsWith('..') && !isAbsolute(rel), rel);
          assert.match(promotionId, /^[A-Za-z0-9_-]{1,80}$/);
        } catch (e) {
          assert.ok(e instanceof DomainError, String(e));
          forged.push(JSON.stringify({ v: 1, promotionId, step, runDir: join(runsDir, promotionId, step) }));
        }
        for (const d of forged) {
          await r.adopt(d).then(
            () => assert.fail('adopted a step that was never launched'),
            (e: unknown) => assert.ok(e instanceof DomainError, String(e)),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
