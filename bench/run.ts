/**
 * `npm run bench [-- --quick] [-- --only NAME[,NAME]]`: run the benchmarks, print one JSON document
 * to stdout (progress goes to stderr) and write it to bench/out/results.json (or --out FILE). Exit code 0 when every
 * benchmark ran (pass or fail is in the JSON), 2 on bad arguments, 1 when a benchmark threw.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchmarks } from './registry.ts';
import { type BenchResult, outDir, parseArgs, progress, secondsSince } from './util.ts';

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
    const unknown = args.only.filter((n) => !benchmarks.some((b) => b.name === n));
    if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const selected = benchmarks.filter((b) => args.only.length === 0 || args.only.includes(b.name));
  const started = new Date();
  const t0 = process.hrtime.bigint();
  const results: BenchResult[] = [];
  const errors: { name: string; error: string }[] = [];
  for (const b of selected) {
    progress(`${b.name}: start${args.quick ? ' (quick)' : ''}`);
    const t = process.hrtime.bigint();
    try {
      const r = await b.run({ quick: args.quick });
      results.push(r);
      progress(`${b.name}: ${r.value} ${r.unit} (target ${r.target}) ${r.pass ? 'PASS' : 'FAIL'} in ${secondsSince(t).toFixed(1)} s`);
    } catch (e) {
      errors.push({ name: b.name, error: (e as Error).stack ?? String(e) });
      progress(`${b.name}: ERROR ${(e as Error).message}`);
    }
  }
  const doc = {
    startedAt: started.toISOString(),
    durationSeconds: Math.round(secondsSince(t0) * 10) / 10,
    quick: args.quick,
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryMiB: Math.round(os.totalmem() / 2 ** 20) },
    results,
    errors,
  };
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  const out = args.out ?? path.join(outDir, 'results.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
  process.stdout.write(text);
  return errors.length > 0 ? 1 : 0;
}

process.exitCode = await main();
