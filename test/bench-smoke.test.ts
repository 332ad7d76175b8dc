/**
 * Smoke test of `npm run bench`: every cheap benchmark runs with --quick in a child process and
 * yields a well-formed result; bad arguments exit 2. Figures are not judged here (the machine is noisy).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { benchmarks } from '../bench/registry.ts';
import { median, parseArgs, percentile } from '../bench/util.ts';
import { repoRoot } from './helpers/fixture.ts';

const runBench = (args: string[], timeout: number) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'run.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout });

describe('npm run bench', () => {
  test('--out writes the printed document', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-smoke-'));
    try {
      const out = path.join(dir, 'results.json');
      const r = runBench(['--quick', '--only', 'gate-rules', '--out', out], 110_000);
      assert.equal(r.status, 0, `bench exited ${r.status}: ${r.stderr.slice(-2000)}`);
      assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), JSON.parse(r.stdout), 'the --out file holds the printed document');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // one child process per benchmark, so a slow machine cannot make one benchmark's time count against another
  for (const name of benchmarks.filter((b) => b.cheap).map((b) => b.name)) {
    test(`--quick --only ${name} prints one JSON document with a well-formed result`, { timeout: 180_000 }, () => {
      const r = runBench(['--quick', '--only', name], 170_000);
      assert.equal(r.status, 0, `bench exited ${r.status}: ${r.stderr.slice(-2000)}`);
      const doc = JSON.parse(r.stdout) as { quick: boolean; results: Record<string, unknown>[]; errors: unknown[] };
      assert.equal(doc.quick, true);
      assert.deepEqual(doc.errors, []);
      assert.deepEqual(doc.results.map((x) => x['name']), [name]);
      for (const res of doc.results) {
        assert.equal(typeof res['value'], 'number', `${res['name']}.value`);
        assert.ok(Number.isFinite(res['value']) && (res['value'] as number) > 0, `${res['name']}.value is a positive number`);
        assert.equal(typeof res['unit'], 'string');
        assert.match(res['target'] as string, /^(>=|<) \d+(\.\d+)?$/);
        assert.equal(typeof res['pass'], 'boolean');
        const [op, bound] = (res['target'] as string).split(' ') as [string, string];
        assert.equal(res['pass'], op === '>=' ? (res['value'] as number) >= Number(bound) : (res['value'] as number) < Number(bound), `${res['name']}.pass agrees with its target`);
        assert.ok(Array.isArray(res['rounds']) && (res['rounds'] as unknown[]).length >= 1 && (res['rounds'] as unknown[]).every((v) => typeof v === 'number'));
        assert.ok((res['notes'] as string).length > 20, `${res['name']} explains how it measured`);
      }
    });
  }

  test('an unknown benchmark or argument exits 2 and names the problem', { timeout: 20_000 }, () => {
    const r = runBench(['--only', 'no-such-bench'], 15_000);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown benchmark no-such-bench; known: artifact-verify/);
    const r2 = runBench(['--fast'], 15_000);
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /unknown argument "--fast"/);
  });

  test('argument parsing and statistics', () => {
    assert.deepEqual(parseArgs(['--quick', '--only', 'a,b', '--only=c']), { quick: true, only: ['a', 'b', 'c'] });
    assert.deepEqual(parseArgs(['--out', 'x.json']), { quick: false, only: [], out: 'x.json' });
    assert.throws(() => parseArgs(['--only']), /--only needs a benchmark name/);
    assert.throws(() => parseArgs(['--out', '--quick']), /--out needs a file path/);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.throws(() => median([]), /median of no values/);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 100), 100);
    assert.equal(percentile([5], 99), 5);
  });
});
