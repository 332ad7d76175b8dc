/**
 * memory-artifact: how much a 512 MiB artifact raises the peak RSS of a fresh process, for the
 * checksum gate (child runs checksumGate over a blob) and for an upload through the real HTTP server
 * (child runs the server; this process streams PUT /v1/blobs/<digest>). Value: the larger rise.
 */
import { createReadStream, mkdirSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBlobStore } from '../src/store/blob-store.ts';
import { makeFixture } from '../test/helpers/fixture.ts';
import { CHILD_TOKEN, spawnChild } from './child.ts';
import { type BenchOptions, type BenchResult, MiB, checkTarget, progress, round3, withTempDir, writeRandomFile } from './util.ts';

const TARGET_MIB = 64;

function put(url: string, file: string, digest: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/blobs/${digest}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${CHILD_TOKEN}`, 'content-type': 'application/octet-stream' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: MiB }), req).catch(reject);
  });
}

async function gateRise(dir: string, file: string, digest: string): Promise<number> {
  const blobDir = path.join(dir, 'blobs');
  const target = createBlobStore({ dir: blobDir }).pathOf(digest);
  mkdirSync(path.dirname(target), { recursive: true });
  renameSync(file, target);
  const child = spawnChild(['gate', blobDir, digest, path.join(dir, 'work')]);
  try {
    const r = await child.next<{ before: number; after: number }>();
    return r.after - r.before;
  } finally {
    await child.stop();
    renameSync(target, file);
  }
}

async function uploadRise(file: string, digest: string): Promise<number> {
  const fx = await makeFixture();
  const child = spawnChild(['serve', fx.projectFile, fx.dataDir]);
  try {
    const { url } = await child.next<{ url: string }>();
    // warm the upload path with a small blob, so the first-request code paths are not counted
    const small = path.join(fx.dir, 'small.bin');
    const smallDigest = await writeRandomFile(small, MiB);
    if ((await put(url, small, smallDigest)) !== 201) throw new Error('warm-up upload was refused');
    child.send('rss');
    const before = await child.next<{ maxRss: number }>();
    const status = await put(url, file, digest);
    if (status !== 201) throw new Error(`upload of the artifact answered HTTP ${status}`);
    child.send('rss');
    const after = await child.next<{ maxRss: number }>();
    return after.maxRss - before.maxRss;
  } finally {
    await child.stop();
    fx.cleanup();
  }
}

export async function runMemoryArtifact(opts: BenchOptions): Promise<BenchResult> {
  const bytes = (opts.quick ? 32 : 512) * MiB;
  const rounds = opts.quick ? 1 : 3;
  return withTempDir('memory', async (dir) => {
    const file = path.join(dir, 'artifact.bin');
    progress(`memory-artifact: writing a ${bytes / MiB} MiB artifact`);
    const digest = await writeRandomFile(file, bytes);
    const gate: number[] = [];
    const upload: number[] = [];
    for (let r = 0; r < rounds; r++) {
      gate.push((await gateRise(dir, file, digest)) / MiB);
      upload.push((await uploadRise(file, digest)) / MiB);
      progress(`memory-artifact round ${r + 1}: gate +${gate.at(-1)?.toFixed(1)} MiB, upload (server) +${upload.at(-1)?.toFixed(1)} MiB peak RSS`);
    }
    const worst = Math.max(...gate, ...upload);
    return {
      name: 'memory-artifact',
      value: round3(worst),
      unit: 'MiB peak RSS rise (worst of gate and upload)',
      ...checkTarget(worst, '<', TARGET_MIB),
      rounds: gate.map((g, i) => round3(Math.max(g, upload[i] as number))),
      notes:
        `${bytes / MiB} MiB artifact; each round is a fresh child process: maxRSS (process.resourceUsage) before and after checksumGate, ` +
        'and the server child\'s maxRSS before and after this process streams PUT /v1/blobs/<digest> (after a 1 MiB warm-up upload). Value: the worst rise over all rounds.',
      extra: { gateMaxRiseMiB: round3(Math.max(...gate)), uploadMaxRiseMiB: round3(Math.max(...upload)), gateRises: gate.map(round3).join(' '), uploadRises: upload.map(round3).join(' ') },
    };
  });
}
