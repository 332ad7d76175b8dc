/**
 * audit-append: durable appends per second, one entry per transaction, through createAuditLog.append
 * inside store.transaction on the real SQLite store (a file on disk). Measured with the store's
 * default durability (synchronous FULL) and, labelled separately, with durability 'normal'.
 */
import path from 'node:path';
import { createAuditLog } from '../src/audit/log.ts';
import { generateNoteKey } from '../src/audit/note.ts';
import type { AuditEntry } from '../src/domain/audit.ts';
import { openSqliteStore } from '../src/store/sqlite-store.ts';
import { type BenchOptions, type BenchResult, checkTarget, median, progress, round3, secondsSince, withTempDir } from './util.ts';

const TARGET = 5000;
export const BENCH_ORIGIN = 'bench.stagegate.local/audit';

export function benchEntry(i: number, time = new Date()): AuditEntry {
  return {
    time: time.toISOString(),
    actor: 'token:benchtoken01',
    action: 'promotion.transition',
    outcome: 'succeeded',
    subject: `promotion:prm_${i.toString(36).padStart(10, '0')}`,
    requestDigest: null,
    details: { from: 'Gating', to: 'Deploying', environment: 'staging', service: 'checkout' },
  };
}

async function appendRate(file: string, durability: 'full' | 'normal', perRound: number, rounds: number): Promise<number[]> {
  const store = await openSqliteStore({ file, durability });
  const log = createAuditLog({ origin: BENCH_ORIGIN, noteSigner: generateNoteKey('bench.stagegate.local').signerKey, clock: () => new Date() });
  const rates: number[] = [];
  try {
    for (let i = 0; i < 50; i++) await store.transaction((tx) => log.append(tx, benchEntry(i))); // warm up
    let n = 50;
    for (let r = 0; r < rounds; r++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++, n++) await store.transaction((tx) => log.append(tx, benchEntry(n)));
      rates.push(perRound / secondsSince(start));
      progress(`audit-append (${durability}) round ${r + 1}: ${rates.at(-1)?.toFixed(0)}/s`);
    }
    if ((await store.read.audit.size()) !== n) throw new Error(`audit log has ${await store.read.audit.size()} entries, expected ${n}`);
  } finally {
    await store.close();
  }
  return rates;
}

export async function runAuditAppend(opts: BenchOptions): Promise<BenchResult> {
  const perRound = opts.quick ? 300 : 2000;
  const rounds = 5;
  return withTempDir('append', async (dir) => {
    const full = await appendRate(path.join(dir, 'full.db'), 'full', perRound, rounds);
    const normal = await appendRate(path.join(dir, 'normal.db'), 'normal', perRound, rounds);
    const value = median(full);
    return {
      name: 'audit-append',
      value: Math.round(value),
      unit: 'appends/s (durability full)',
      ...checkTarget(value, '>=', TARGET),
      rounds: full.map(round3),
      notes:
        `store.transaction(tx => log.append(tx, entry)), one entry per transaction, ${perRound} per round, ${rounds} rounds, ` +
        'SQLite file in the OS temp dir, WAL, synchronous FULL (the store default). extra.normalAppendsPerSec: same with durability "normal" (synchronous NORMAL: survives a process crash, not power loss).',
      extra: { normalAppendsPerSec: Math.round(median(normal)), normalRounds: normal.map(round3).join(' ') },
    };
  });
}
