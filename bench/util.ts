/**
 * Shared benchmark helpers: the result shape, medians and percentiles, rounds, progress on stderr,
 * temporary folders that are always removed, and a random file written without holding it in memory.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(benchDir, '..');
export const outDir = path.join(benchDir, 'out');
export const MiB = 1024 * 1024;

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** e.g. ">= 0.7" or "< 5" (same unit as value) */
  target: string;
  pass: boolean;
  /** the value of each round (or each sample, for latency figures: see notes) */
  rounds: number[];
  notes: string;
  /** further measured figures, each labelled */
  extra?: Record<string, number | string>;
}

export interface BenchOptions {
  quick: boolean;
}

export interface Benchmark {
  name: string;
  /** cheap enough for the smoke test in --quick mode */
  cheap: boolean;
  run(opts: BenchOptions): Promise<BenchResult>;
}

export const progress = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** nearest-rank percentile, p in (0, 100] */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}

/** a benchmark's length in seconds: the variable `name` when set, else the quick or full default; bounded */
export function secondsFromEnv(name: string, quick: boolean, defaults: { quick: number; full: number }, minSeconds: number): number {
  const text = process.env[name];
  const seconds = text ? Number(text) : quick ? defaults.quick : defaults.full;
  if (!Number.isInteger(seconds) || seconds < minSeconds || seconds > 86_400) throw new Error(`${name} must be a whole number of seconds from ${minSeconds} to 86400, got ${text}`);
  return seconds;
}

export const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** seconds since `start` (a process.hrtime.bigint() value) */
export const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

export function checkTarget(value: number, op: '>=' | '<', bound: number): { target: string; pass: boolean } {
  return { target: `${op} ${bound}`, pass: op === '>=' ? value >= bound : value < bound };
}

/** a fresh folder under the OS temp dir, removed when fn settles */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), `sg-bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** write `bytes` pseudo-random bytes to `file` in 4 MiB chunks; returns its sha256 digest */
export async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(4 * MiB);
  const fh = await open(file, 'wx');
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(buf.length, bytes - done);
      const chunk = buf.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      for (let off = 0; off < n; ) off += (await fh.write(chunk, off)).bytesWritten;
      done += n;
    }
  } finally {
    await fh.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

export function parseArgs(argv: readonly string[]): { quick: boolean; only: string[]; out?: string } {
  const only: string[] = [];
  let quick = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error('--only needs a benchmark name, e.g. --only audit-append');
      only.push(...v.split(',').filter((s) => s.length > 0));
    } else if (a === '--out') {
      out = argv[++i];
      if (out === undefined || out.startsWith('--')) throw new Error('--out needs a file path for the JSON results');
    } else if (a?.startsWith('--only=')) only.push(...a.slice('--only='.length).split(',').filter((s) => s.length > 0));
    else throw new Error(`unknown argument ${JSON.stringify(a)}; use --quick, --only NAME[,NAME] and --out FILE`);
  }
  return out === undefined ? { quick, only } : { quick, only, out };
}
