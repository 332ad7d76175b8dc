/**
 * artifact-verify: throughput of the checksum gate (blob store read stream -> hash -> copy into the
 * promotion's folder, the code that runs at promotion) over one large artifact, as a ratio of plain
 * in-process SHA-256 over a reused 4 MiB buffer (the CPU bound) in the same run. Rounds alternate.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { sha256File } from '../src/crypto/digest.ts';
import { checksumGate } from '../src/engine/gates.ts';
import { createBlobStore } from '../src/store/blob-store.ts';
import type { ReleaseRecord } from '../src/store/store.ts';
import { type BenchOptions, type BenchResult, MiB, checkTarget, median, progress, round3, secondsSince, withTempDir, writeRandomFile } from './util.ts';

const TARGET = 0.7;

/** MiB/s of SHA-256 over `bytes` fed as a reused 4 MiB buffer */
export function plainSha256Rate(bytes: number): number {
  const buf = Buffer.alloc(4 * MiB, 7);
  const start = process.hrtime.bigint();
  const h = createHash('sha256');
  for (let done = 0; done < bytes; done += buf.length) h.update(bytes - done >= buf.length ? buf : buf.subarray(0, bytes - done));
  h.digest();
  return bytes / MiB / secondsSince(start);
}

export async function runArtifactVerify(opts: BenchOptions): Promise<BenchResult> {
  const bytes = (opts.quick ? 32 : 512) * MiB;
  const rounds = 3;
  return withTempDir('artifact', async (dir) => {
    const blobs = createBlobStore({ dir: path.join(dir, 'blobs') });
    progress(`artifact-verify: writing a ${bytes / MiB} MiB artifact`);
    const src = path.join(dir, 'artifact.bin');
    const digest = await writeRandomFile(src, bytes);
    mkdirSync(path.dirname(blobs.pathOf(digest)), { recursive: true });
    renameSync(src, blobs.pathOf(digest));
    const release: ReleaseRecord = {
      id: `sha256:${'0'.repeat(64)}`,
      service: 'bench',
      version: '1.0.0',
      bundle: '{}',
      signerKeyId: 'bench',
      subjects: [{ name: 'artifact.bin', digest, kind: 'artifact', size: bytes }],
      pushedBy: 'user:bench',
      createdAt: new Date().toISOString(),
    };
    const deps = { blobs, clock: () => new Date() } as unknown as Parameters<typeof checksumGate>[0];
    const plain: number[] = [];
    const gate: number[] = [];
    const file: number[] = [];
    for (let r = 0; r < rounds; r++) {
      plain.push(plainSha256Rate(bytes));
      const start = process.hrtime.bigint();
      const results = await checksumGate(deps, release, path.join(dir, 'promotion', 'artifacts'));
      const t = secondsSince(start);
      if (results.length !== 1 || results[0]?.passed !== true) throw new Error(`checksum gate did not pass: ${JSON.stringify(results)}`);
      gate.push(bytes / MiB / t);
      const fStart = process.hrtime.bigint();
      const fd = await sha256File(blobs.pathOf(digest));
      if (fd.digest !== digest) throw new Error(`sha256File gave ${fd.digest}, expected ${digest}`);
      file.push(bytes / MiB / secondsSince(fStart));
      progress(`artifact-verify round ${r + 1}: plain ${plain.at(-1)?.toFixed(0)} MiB/s, gate ${gate.at(-1)?.toFixed(0)} MiB/s, sha256File ${file.at(-1)?.toFixed(0)} MiB/s`);
    }
    const ratio = median(gate) / median(plain);
    return {
      name: 'artifact-verify',
      value: round3(ratio),
      unit: 'ratio (gate MiB/s / plain SHA-256 MiB/s)',
      ...checkTarget(ratio, '>=', TARGET),
      rounds: gate.map((g, i) => round3(g / (plain[i] as number))),
      notes:
        `checksumGate over a ${bytes / MiB} MiB blob in the real blob store (read stream, hash, copy into the promotion folder; the file is in the page cache) ` +
        'vs createHash over a reused 4 MiB buffer of the same total size, alternating, median of each. ' +
        'sha256File (used by release verify) is reported as extra.',
      extra: {
        gateMiBps: round3(median(gate)),
        plainSha256MiBps: round3(median(plain)),
        sha256FileMiBps: round3(median(file)),
        sha256FileRatio: round3(median(file) / median(plain)),
        bytes,
      },
    };
  });
}
