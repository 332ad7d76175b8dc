/**
 * Child process of the memory benchmarks (a fresh process, so peak RSS is its own).
 *   gate <blobDir> <digest> <workDir>: run checksumGate once; print {"before": maxRSS, "after": maxRSS} in bytes
 *   serve <projectFile> <dataDir>: run the real server; print {"url": ...}; answer each "rss" line on stdin
 *     with {"maxRss": bytes, "rss": bytes}; exit on "exit" or when stdin closes
 */
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { checksumGate } from '../src/engine/gates.ts';
import { createBlobStore } from '../src/store/blob-store.ts';
import { CHILD_TOKEN } from './child.ts';

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

async function gate(blobDir: string, digest: string, workDir: string): Promise<void> {
  const blobs = createBlobStore({ dir: blobDir });
  const release = {
    id: `sha256:${'0'.repeat(64)}`,
    service: 'bench',
    version: '1.0.0',
    bundle: '{}',
    signerKeyId: 'bench',
    subjects: [{ name: 'artifact.bin', digest, kind: 'artifact' as const, size: null }],
    pushedBy: 'user:bench',
    createdAt: new Date().toISOString(),
  };
  const deps = { blobs, clock: () => new Date() } as unknown as Parameters<typeof checksumGate>[0];
  const before = maxRss();
  const results = await checksumGate(deps, release, path.join(workDir, 'artifacts'));
  const after = maxRss();
  if (results[0]?.passed !== true) throw new Error(`checksum gate failed: ${JSON.stringify(results)}`);
  process.stdout.write(`${JSON.stringify({ before, after })}\n`);
}

async function serve(projectFile: string, dataDir: string): Promise<void> {
  const config = loadConfig({ port: 0, dataDir, projectFile, bootstrapToken: CHILD_TOKEN, logLevel: 'silent' }, {});
  const app = await createApp({ config, logger: pino({ level: 'silent' }) });
  const addr = await app.listen();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${addr.port}`, pid: process.pid })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'rss') process.stdout.write(`${JSON.stringify({ maxRss: maxRss(), rss: process.memoryUsage.rss() })}\n`);
    if (line.trim() === 'exit') break;
  }
  await app.close();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'gate' && args.length === 3) await gate(args[0]!, args[1]!, args[2]!);
else if (mode === 'serve' && args.length === 2) await serve(args[0]!, args[1]!);
else {
  process.stderr.write('usage: memory-child.ts gate BLOBDIR DIGEST WORKDIR | serve PROJECTFILE DATADIR\n');
  process.exitCode = 2;
}
