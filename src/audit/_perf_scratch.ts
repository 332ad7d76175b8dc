import { createAuditLog } from './log.ts';
import { createMemoryAuditRepo } from './memory-audit-repo.ts';
import { generateNoteKey } from './note.ts';
import { verifyInclusion, verifyConsistency } from './merkle.ts';
const log = createAuditLog({ origin: 'o', noteSigner: generateNoteKey('o').signerKey, clock: () => new Date() });
const repo = createMemoryAuditRepo(); const repos = { audit: repo };
const N = 1_000_000;
let t = performance.now();
for (let i = 0; i < N; i++) await log.append(repos, { time: new Date(i).toISOString(), actor: 'user:a', action: 'release.push', outcome: 'allowed', subject: `s:${i}`, requestDigest: null, details: { i } });
console.log('appends/s', (N / (performance.now() - t) * 1000).toFixed(0));
let reads = 0; const counted = { audit: { ...repo, getNode: (l: number, i: number) => { reads++; return repo.getNode(l, i); } } };
t = performance.now();
for (let k = 0; k < 1000; k++) { const i = (k * 7919) % N; const p = await log.inclusionProof(counted, i); if (!verifyInclusion(i, N, p.leafHash, p.proof, p.rootHash).ok) throw 1; }
console.log('inclusion ms', (performance.now() - t) / 1000, 'reads each', reads / 1000);
reads = 0; t = performance.now();
for (let k = 1; k <= 1000; k++) { const m = (k * 7919) % N + 1; const p = await log.consistencyProof(counted, m, N); if (!verifyConsistency(m, N, p.proof, p.root1, p.root2).ok) throw 2; }
console.log('consistency ms', (performance.now() - t) / 1000, 'reads each', reads / 1000);
t = performance.now(); const v = await log.verifyStored(repos); console.log('verifyStored', v.ok, performance.now() - t);
console.log('rss MB', process.memoryUsage().rss / 1e6);
