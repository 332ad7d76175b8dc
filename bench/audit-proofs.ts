/**
 * audit-proofs: latency of inclusion and consistency proofs through createAuditLog on the real
 * SQLite store at 1,000,000 entries (50,000 with --quick), random indexes and sizes. Every proof is
 * checked with verifyInclusion / verifyConsistency against roots computed independently at fill time.
 */
import { createAuditLog } from '../src/audit/log.ts';
import { generateNoteKey } from '../src/audit/note.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../src/audit/merkle.ts';
import { openSqliteStore } from '../src/store/sqlite-store.ts';
import { BENCH_ORIGIN } from './audit-append.ts';
import { benchLeafText, filledAuditDb } from './audit-fill.ts';
import { type BenchOptions, type BenchResult, checkTarget, median, percentile, progress, round3 } from './util.ts';

const TARGET_MS = 5;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export async function runAuditProofs(opts: BenchOptions): Promise<BenchResult> {
  const size = opts.quick ? 50_000 : 1_000_000;
  const rounds = 5;
  const perRound = opts.quick ? 100 : 200;
  const filled = await filledAuditDb('audit', size);
  const store = await openSqliteStore({ file: filled.file });
  const log = createAuditLog({ origin: BENCH_ORIGIN, noteSigner: generateNoteKey('bench.stagegate.local').signerKey, clock: () => new Date() });
  const sizes = Object.keys(filled.roots).map(Number);
  const incl: number[] = [];
  const cons: number[] = [];
  const roundP99: number[] = [];
  let verified = 0;
  try {
    if ((await store.read.audit.size()) !== size) throw new Error(`cached database ${filled.file} does not hold ${size} entries; delete it and run again`);
    if (hex(await log.root(store.read)) !== filled.root) throw new Error(`root of ${filled.file} differs from the fill's root; delete it and run again`);
    for (let i = 0; i < 50; i++) await log.inclusionProof(store.read, Math.floor(Math.random() * size)); // warm up
    for (let r = 0; r < rounds; r++) {
      const ri: number[] = [];
      const rc: number[] = [];
      for (let k = 0; k < perRound; k++) {
        const index = Math.floor(Math.random() * size);
        let t = performance.now();
        const p = await log.inclusionProof(store.read, index);
        ri.push(performance.now() - t);
        const leaf = leafHash(Buffer.from(benchLeafText(index), 'utf8'));
        const ok = verifyInclusion(index, size, leaf, p.proof, Buffer.from(filled.root, 'hex'));
        if (!ok.ok) throw new Error(`inclusion proof of ${index} at ${size} does not verify: ${ok.reason}`);
        // consistency from a size with an independently computed root (half the time) or a random size
        const known = k % 2 === 0 && sizes.length > 0;
        const from = known ? (sizes[k % sizes.length] as number) : 1 + Math.floor(Math.random() * (size - 1));
        t = performance.now();
        const c = await log.consistencyProof(store.read, from, size);
        rc.push(performance.now() - t);
        const root1 = known ? Buffer.from(filled.roots[String(from)] as string, 'hex') : c.root1;
        const okc = verifyConsistency(from, size, c.proof, root1, Buffer.from(filled.root, 'hex'));
        if (!okc.ok) throw new Error(`consistency proof ${from} -> ${size} does not verify: ${okc.reason}`);
        verified += 2;
      }
      incl.push(...ri);
      cons.push(...rc);
      roundP99.push(round3(Math.max(percentile(ri, 99), percentile(rc, 99))));
      progress(`audit-proofs round ${r + 1}: inclusion median ${median(ri).toFixed(2)} ms p99 ${percentile(ri, 99).toFixed(2)} ms, consistency median ${median(rc).toFixed(2)} ms p99 ${percentile(rc, 99).toFixed(2)} ms`);
    }
  } finally {
    await store.close();
  }
  const value = Math.max(percentile(incl, 99), percentile(cons, 99));
  return {
    name: 'audit-proofs',
    value: round3(value),
    unit: 'ms (p99, worse of inclusion and consistency)',
    ...checkTarget(value, '<', TARGET_MS),
    rounds: roundP99,
    notes:
      `${size} entries in a SQLite file (filled in bulk, cached in bench/out/); log.inclusionProof(store.read, random index) and log.consistencyProof(store.read, random from, size), ` +
      `${rounds} rounds x ${perRound} of each; rounds = per-round p99 of the worse kind. ${verified} proofs verified against roots computed independently at fill time (consistency: half against independent root1).`,
    extra: {
      entries: size,
      inclusionMedianMs: round3(median(incl)),
      inclusionP99Ms: round3(percentile(incl, 99)),
      consistencyMedianMs: round3(median(cons)),
      consistencyP99Ms: round3(percentile(cons, 99)),
      proofsVerified: verified,
    },
  };
}
