/**
 * memory-idle: RSS of the real server (a child process) holding 100,000 releases and 1,000,000
 * audit entries, after a few requests and a few seconds idle, read from /proc/<pid>/status.
 * The database is the audit fill plus bulk-inserted releases signed like real ones, cached in bench/out/.
 */
import { createPublicKey } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { bundleToJson, toBundle } from '../src/crypto/bundle.ts';
import { digestOf } from '../src/crypto/digest.ts';
import { signDsse } from '../src/crypto/dsse.ts';
import { generateSigningKey, keyIdOf, loadPrivateKey } from '../src/crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE, artifactSubject, buildReleaseStatement } from '../src/crypto/statement.ts';
import { makeFixture } from '../test/helpers/fixture.ts';
import { filledAuditDb } from './audit-fill.ts';
import { CHILD_TOKEN, type Child, spawnChild } from './child.ts';
import { type BenchOptions, type BenchResult, MiB, checkTarget, median, outDir, progress, round3, secondsSince } from './util.ts';

const TARGET_MIB = 300;
const BATCH = 10_000;

/** the audit fill plus `releases` signed releases of `checkout`, one artifact subject each */
export async function idleDb(entries: number, releases: number): Promise<string> {
  const audit = await filledAuditDb('audit', entries);
  const file = path.join(outDir, `idle-${entries}-${releases}.db`);
  const marker = `${file}.json`;
  if (existsSync(file) && existsSync(marker)) return file;
  for (const f of [file, `${file}-wal`, `${file}-shm`, marker]) rmSync(f, { force: true });
  copyFileSync(audit.file, file);
  const start = process.hrtime.bigint();
  const key = generateSigningKey();
  const priv = loadPrivateKey(key.privateKeyPem, 'bench key');
  const keyId = keyIdOf(createPublicKey(priv));
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insRelease = db.prepare('insert into releases (id, seq, service, version, bundle, signer_key_id, pushed_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)');
    const insSubject = db.prepare('insert into release_subjects (release_id, position, name, digest, kind, size) values (?, 0, ?, ?, ?, ?)');
    const createdAt = new Date('2026-01-01T00:00:00.000Z').toISOString();
    for (let from = 0; from < releases; from += BATCH) {
      const rows: { id: string; seq: number; version: string; bundle: string; subject: { name: string; digest: string } }[] = [];
      for (let i = from; i < Math.min(releases, from + BATCH); i++) {
        const version = `1.${Math.floor(i / 1000)}.${i % 1000}`;
        const subject = artifactSubject('checkout.tgz', digestOf(`checkout build ${i}`), 'bench');
        const { bytes } = buildReleaseStatement({ service: 'checkout', version, subjects: [subject] });
        const bundle = bundleToJson(toBundle(signDsse(INTOTO_PAYLOAD_TYPE, bytes, priv, keyId), keyId));
        rows.push({ id: digestOf(bytes), seq: i + 1, version, bundle, subject });
      }
      db.transaction(() => {
        for (const r of rows) {
          insRelease.run(r.id, r.seq, 'checkout', r.version, r.bundle, keyId, 'user:admin', createdAt);
          insSubject.run(r.id, r.subject.name, r.subject.digest, 'artifact', 1024);
        }
      })();
      progress(`release fill: ${Math.min(releases, from + BATCH)}/${releases}`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  writeFileSync(marker, JSON.stringify({ entries, releases }));
  progress(`release fill of ${releases} took ${secondsSince(start).toFixed(1)} s`);
  return file;
}

function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rss: (kib('VmRSS') * 1024) / MiB, hwm: (kib('VmHWM') * 1024) / MiB };
}

export async function runMemoryIdle(opts: BenchOptions): Promise<BenchResult> {
  const entries = opts.quick ? 50_000 : 1_000_000;
  const releases = opts.quick ? 5_000 : 100_000;
  const db = await idleDb(entries, releases);
  const fx = await makeFixture();
  let child: Child | undefined;
  try {
    mkdirSync(fx.dataDir, { recursive: true });
    copyFileSync(db, path.join(fx.dataDir, 'stagegate.db'));
    child = spawnChild(['serve', fx.projectFile, fx.dataDir]);
    const { url, pid } = await child.next<{ url: string; pid: number }>();
    const get = async (p: string): Promise<string> => {
      const res = await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${CHILD_TOKEN}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET ${p} answered ${res.status}: ${text.slice(0, 300)}`);
      return text;
    };
    await get('/v1/status');
    await get('/v1/audit/checkpoint');
    const proof = JSON.parse(await get(`/v1/audit/proof?index=${Math.floor(entries / 3)}`)) as { treeSize: number };
    if (proof.treeSize < entries) throw new Error(`the server's log has ${proof.treeSize} entries, expected at least ${entries}`);
    await get(`/v1/audit/consistency?from=${Math.floor(entries / 2)}&to=${entries}`);
    await get('/v1/releases?limit=50');
    await get(`/v1/releases/checkout@1.${Math.floor((releases - 1) / 1000)}.${(releases - 1) % 1000}`);
    const afterRequests = procStatus(pid);
    await sleep(opts.quick ? 1000 : 5000);
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      samples.push(procStatus(pid).rss);
      await sleep(opts.quick ? 200 : 1000);
    }
    const value = median(samples);
    progress(`memory-idle: VmRSS ${samples.map((s) => s.toFixed(1)).join(', ')} MiB (peak ${procStatus(pid).hwm.toFixed(1)} MiB)`);
    return {
      name: 'memory-idle',
      value: round3(value),
      unit: 'MiB VmRSS',
      ...checkTarget(value, '<', TARGET_MIB),
      rounds: samples.map(round3),
      notes:
        `server child (createApp, as stagegate serve) on a SQLite copy holding ${releases} signed releases (one subject each) and ${entries} audit entries with their Merkle nodes; ` +
        `after GET status, checkpoint, inclusion and consistency proofs, release list and lookup, ${opts.quick ? 1 : 5} s idle, VmRSS from /proc/<pid>/status sampled 3 times; value: median.`,
      extra: { entries, releases, rssAfterRequestsMiB: round3(afterRequests.rss), peakVmHWMMiB: round3(procStatus(pid).hwm) },
    };
  } finally {
    await child?.stop();
    fx.cleanup();
  }
}
