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
const WRITERS = 16;
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

/** `writers` concurrent callers, each awaiting its transaction (one entry) before the next */
async function appendRate(file: string, durability: 'full' | 'normal', perRound: number, rounds: number, writers: number): Promise<number[]> {
  const store = await openSqliteStore({ file, durability });
  const log = createAuditLog({ origin: BENCH_ORIGIN, noteSigner: generateNoteKey('bench.stagegate.local').signerKey, clock: () => new Date() });
  const rates: number[] = [];
  try {
    for (let i = 0; i < 50; i++) await store.transaction((tx) => log.append(tx, benchEntry(i))); // warm up
    let n = 50;
    for (let r = 0; r < rounds; r++) {
      const start = process.hrtime.bigint();
      let next = 0;
      const writer = async () => {
        while (next < perRound) {
          next++;
          await store.transaction((tx) => log.append(tx, benchEntry(n++)));
        }
      };
      await Promise.all(Array.from({ length: writers }, writer));
      rates.push(perRound / secondsSince(start));
      progress(`audit-append (${durability}, ${writers} writer(s)) round ${r + 1}: ${rates.at(-1)?.toFixed(0)}/s`);
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
    const full = await appendRate(path.join(dir, 'full.db'), 'full', perRound, rounds, WRITERS);
    const sequential = await appendRate(path.join(dir, 'seq.db'), 'full', perRound, rounds, 1);
    const normal = await appendRate(path.join(dir, 'normal.db'), 'normal', perRound, rounds, 1);
    const value = median(full);
    return {
      name: 'audit-append',
      value: Math.round(value),
      unit: `appends/s (durability full, ${WRITERS} concurrent writers)`,
      ...checkTarget(value, '>=', TARGET),
      rounds: full.map(round3),
      notes:
        `store.transaction(tx => log.append(tx, entry)), one entry per transaction, ${perRound} per round, ${rounds} rounds, ` +
        `${WRITERS} concurrent writers each awaiting its own durable commit (as requests do in the server; the store's group commit lets transactions that queue up share one fsync), ` +
        'SQLite file in the OS temp dir, WAL, synchronous FULL (the store default). extra.sequentialAppendsPerSec: one writer, each commit its own fsync. ' +
        'extra.normalAppendsPerSec: one writer with durability "normal" (synchronous NORMAL: survives a process crash, not power loss).',
      extra: {
        sequentialAppendsPerSec: Math.round(median(sequential)),
        sequentialRounds: sequential.map(round3).join(' '),
        normalAppendsPerSec: Math.round(median(normal)),
        normalRounds: normal.map(round3).join(' '),
      },
    };
  });
}
