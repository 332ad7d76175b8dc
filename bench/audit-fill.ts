/**
 * Bulk fill of a SQLite database with a valid audit log: entries as log.append writes them, Merkle
 * nodes computed with nodesToAdd over an in-memory frontier, inserted with prepared statements in
 * large transactions. The schema comes from the store's own migrations. Filled files are cached
 * under bench/out/ with a sidecar JSON (root hash, a few intermediate roots) written last.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { encodeEntry } from '../src/audit/entry.ts';
import { createRootAccumulator, leafHash, nodesToAdd } from '../src/audit/merkle.ts';
import { openSqliteStore } from '../src/store/sqlite-store.ts';
import { benchEntry } from './audit-append.ts';
import { outDir, progress, secondsSince } from './util.ts';

export interface FilledLog {
  file: string;
  size: number;
  /** hex root of the whole log */
  root: string;
  /** hex roots at a few sizes, computed independently while filling */
  roots: Record<string, string>;
}

const FILL_TIME = new Date('2026-01-01T00:00:00.000Z');
const BATCH = 50_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** sizes at which the fill records the root: spread over the log, deterministic */
export function sampleSizes(size: number): number[] {
  const out = new Set<number>();
  for (let k = 1; k <= 24; k++) out.add(Math.max(1, Math.floor((size * k * 7919) / 24 / 7919) - (k % 3)));
  return [...out].filter((m) => m >= 1 && m < size);
}

export const benchLeafText = (i: number): string => encodeEntry(benchEntry(i, FILL_TIME));

/** fill (or reuse the cached) database with `size` audit entries; `name` keeps caches apart */
export async function filledAuditDb(name: string, size: number): Promise<FilledLog> {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}-${size}.db`);
  const sidecar = `${file}.json`;
  if (existsSync(file) && existsSync(sidecar)) {
    const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as FilledLog;
    if (meta.size === size) {
      progress(`using cached ${path.relative(process.cwd(), file)}`);
      return meta;
    }
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`, sidecar]) rmSync(f, { force: true });
  const store = await openSqliteStore({ file }); // creates the schema through the migrations
  await store.close();
  const start = process.hrtime.bigint();
  const db = new BetterSqlite3(file);
  const wanted = new Set(sampleSizes(size));
  const roots: Record<string, string> = {};
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insEntry = db.prepare('insert into audit_entries (idx, entry, created_at) values (?, ?, ?)');
    const insNode = db.prepare('insert into merkle_nodes (level, idx, hash) values (?, ?, ?)');
    const frontier: Uint8Array[] = [];
    const acc = createRootAccumulator();
    const createdAt = FILL_TIME.toISOString();
    for (let from = 0; from < size; from += BATCH) {
      const rows: { text: string; nodes: Awaited<ReturnType<typeof nodesToAdd>> }[] = [];
      for (let i = from; i < Math.min(size, from + BATCH); i++) {
        const text = benchLeafText(i);
        const leaf = leafHash(Buffer.from(text, 'utf8'));
        const nodes = await nodesToAdd(i, leaf, async (level) => frontier[level]);
        for (const n of nodes) frontier[n.level] = n.hash;
        rows.push({ text, nodes });
        acc.push(leaf);
        if (wanted.has(acc.size())) roots[String(acc.size())] = hex(acc.root());
      }
      db.transaction(() => {
        rows.forEach((r, k) => {
          insEntry.run(from + k, r.text, createdAt);
          for (const n of r.nodes) insNode.run(n.level, n.index, Buffer.from(n.hash));
        });
      })();
      progress(`audit fill: ${Math.min(size, from + BATCH)}/${size} entries`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const meta: FilledLog = { file, size, root: hex(acc.root()), roots };
    writeFileSync(sidecar, JSON.stringify(meta));
    progress(`audit fill of ${size} entries took ${secondsSince(start).toFixed(1)} s`);
    return meta;
  } finally {
    db.close();
  }
}
