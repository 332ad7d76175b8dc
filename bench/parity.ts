/**
 * parity: the full parity report (every difference, rules applied, JSON text and table) of every
 * adjacent pair of 5 environments with 500 services each (~60 configuration leaves, 3 secrets per
 * service, 200 flags per environment, 50 rules). Each round is a fresh child process
 * (bench/parity-child.ts), so its peak RSS is the benchmark's own. Value: median wall time.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { type BenchOptions, type BenchResult, benchDir, checkTarget, MiB, median, progress, repoRoot, round3 } from './util.ts';

const run = promisify(execFile);
const TARGET_SECONDS = 2;
const TARGET_RSS_MIB = 512;

interface ChildResult {
  reportMs: number;
  reportCpuMs: number;
  buildMs: number;
  maxRss: number;
  compared: number;
  differences: number;
  findings: number;
  allowed: number;
  outputBytes: number;
}

export async function runParity(opts: BenchOptions): Promise<BenchResult> {
  const services = opts.quick ? 50 : 500;
  const rounds = opts.quick ? 1 : 5;
  const results: ChildResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(benchDir, 'parity-child.ts'), String(services)], { cwd: repoRoot, maxBuffer: 1024 * 1024 });
    const res = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
    results.push(res);
    progress(`parity round ${r + 1}: ${(res.reportMs / 1000).toFixed(3)} s wall (${(res.reportCpuMs / 1000).toFixed(3)} s CPU), peak RSS ${(res.maxRss / MiB).toFixed(1)} MiB`);
  }
  const seconds = median(results.map((r) => r.reportMs / 1000));
  const peak = Math.max(...results.map((r) => r.maxRss)) / MiB;
  const t = checkTarget(seconds, '<', TARGET_SECONDS);
  const last = results.at(-1)!;
  return {
    name: 'parity',
    value: round3(seconds),
    unit: 's (4 adjacent-pair reports, 500 services x 5 environments)',
    ...t,
    rounds: results.map((r) => round3(r.reportMs / 1000)),
    notes:
      `${services} services x 5 environments of synthetic snapshots (~60 config leaves, 3 secrets each; 200 flags per environment; 50 rules), built in a fresh child process; ` +
      'timed: parityReport of every adjacent pair plus its JSON text and table. Peak RSS: maxRSS of the child (snapshots included). Value: median wall time over the rounds.',
    extra: {
      peakRssMiB: round3(peak),
      peakRssTarget: `< ${TARGET_RSS_MIB}`,
      peakRssPass: peak < TARGET_RSS_MIB ? 'yes' : 'no',
      medianCpuSeconds: round3(median(results.map((r) => r.reportCpuMs / 1000))),
      snapshotBuildSeconds: round3(median(results.map((r) => r.buildMs / 1000))),
      comparedLeaves: last.compared,
      differences: last.differences,
      findings: last.findings,
      allowed: last.allowed,
      outputBytes: last.outputBytes,
    },
  };
}
