import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEntry } from '../domain/audit.ts';
import type { AuditRepo } from '../store/store.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { encodeEntry } from './entry.ts';
import { type AuditRepos, createAuditLog, EXPORT_PAGE_SIZE } from './log.ts';
import { createMemoryAuditRepo } from './memory-audit-repo.ts';
import { createRootAccumulator, leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from './merkle.ts';
import { generateNoteKey, verifyNote } from './note.ts';

const actions = ['release.push', 'promotion.request', 'promotion.transition', 'auth.failed'] as const;
const sampleEntry = (i: number): AuditEntry => ({
  time: new Date(Date.UTC(2026, 10, 26, 10, 0, 0, i)).toISOString(),
  actor: i % 5 === 0 ? 'system:reconciler' : `user:u${i % 7}`,
  action: actions[i % actions.length] as string,
  outcome: i % 3 === 0 ? 'denied' : 'allowed',
  subject: `promotion:p${i}`,
  requestDigest: i % 5 === 0 ? null : `sha256:${i.toString(16).padStart(64, '0')}`,
  details: { n: i, note: `é ${i}`, list: [i, null, true] },
});

const key = generateNoteKey('stagegate.test/audit');
const newLog = () =>
  createAuditLog({ origin: 'stagegate.test/audit', noteSigner: key.signerKey, clock: () => new Date('2026-11-26T10:00:00.000Z') });

/** An AuditRepo whose stored text of one entry was edited behind the log's back. */
function withEditedEntry(repo: AuditRepo, index: number, edit: (text: string) => string): AuditRepo {
  const fix = <T extends { index: number; entry: string }>(r: T): T => (r.index === index ? { ...r, entry: edit(r.entry) } : r);
  return {
    ...repo,
    getEntry: async (i) => {
      const r = await repo.getEntry(i);
      return r && fix(r);
    },
    listEntries: async (from, limit) => (await repo.listEntries(from, limit)).map(fix),
  };
}

function countingRepo(repo: AuditRepo): { repos: AuditRepos; reads: () => number; pages: number[] } {
  let reads = 0;
  const pages: number[] = [];
  const audit: AuditRepo = {
    ...repo,
    getNode: (l, i) => {
      reads++;
      return repo.getNode(l, i);
    },
    listEntries: (from, limit) => {
      pages.push(limit);
      return repo.listEntries(from, limit);
    },
  };
  return { repos: { audit }, reads: () => reads, pages };
}

describe('audit log over the memory repo', async () => {
  const log = newLog();
  const repo = createMemoryAuditRepo();
  const repos = { audit: repo };
  const leaves: Uint8Array[] = [];
  const N = 1000;

  test('append 1..1000: indexes, leaf hashes and every root match a from-scratch computation', async () => {
    const acc = createRootAccumulator();
    assert.deepEqual(await log.root(repos), rootFromLeafHashes([]));
    for (let i = 0; i < N; i++) {
      const r = await log.append(repos, sampleEntry(i));
      assert.equal(r.index, i);
      assert.deepEqual(r.leafHash, leafHash(Buffer.from(encodeEntry(sampleEntry(i)), 'utf8')));
      leaves.push(r.leafHash);
      acc.push(r.leafHash);
      assert.deepEqual(await log.root(repos), acc.root(), `root at size ${i + 1}`);
    }
    for (const n of [1, 2, 3, 7, 8, 9, 255, 256, 257, 511, 999, 1000]) {
      assert.deepEqual(await log.root(repos, n), rootFromLeafHashes(leaves.slice(0, n)));
    }
    assert.equal((await repo.getEntry(3))?.entry, encodeEntry(sampleEntry(3)));
    assert.equal((await repo.getEntry(3))?.createdAt, '2026-11-26T10:00:00.000Z');
  });

  test('every inclusion proof verifies, at the full size and at earlier sizes', async () => {
    for (const size of [N, 1, 2, 5, 64, 333]) {
      const root = rootFromLeafHashes(leaves.slice(0, size));
      for (let i = 0; i < size; i++) {
        const p = await log.inclusionProof(repos, i, size === N ? undefined : size);
        assert.equal(p.treeSize, size);
        assert.deepEqual(p.rootHash, root);
        assert.deepEqual(p.leafHash, leaves[i]);
        assert.ok(verifyInclusion(i, size, p.leafHash, p.proof, root).ok, `leaf ${i} in ${size}`);
      }
    }
  });

  test('every consistency proof to the full size verifies, and random pairs', async () => {
    const pairs: [number, number][] = [];
    for (let m = 1; m <= N; m++) pairs.push([m, N]);
    for (let k = 0; k < 300; k++) {
      const a = 1 + ((k * 7919) % N);
      const b = a + ((k * 104729) % (N - a + 1));
      pairs.push([a, b]);
    }
    for (const [m, n] of pairs) {
      const p = await log.consistencyProof(repos, m, n);
      assert.deepEqual(p.root1, rootFromLeafHashes(leaves.slice(0, m)));
      const res = verifyConsistency(m, n, p.proof, p.root1, p.root2);
      assert.ok(res.ok, `${m} -> ${n}: ${res.ok ? '' : res.reason}`);
    }
  });

  test('node reads are O(log n) for append, roots and proofs', async () => {
    const c = countingRepo(repo);
    await log.inclusionProof(c.repos, 0);
    await log.inclusionProof(c.repos, 999);
    await log.consistencyProof(c.repos, 513, 999);
    assert.ok(c.reads() <= 3 * (2 * 10 + 2), `reads: ${c.reads()}`);
    const scratch = createMemoryAuditRepo();
    const s = countingRepo(scratch);
    for (let i = 0; i < 1024; i++) await log.append(s.repos, sampleEntry(i));
    assert.equal(s.reads(), 1023, 'one read per completed subtree: n - 1 in total');
  });

  test('checkpoint is a signed C2SP checkpoint of the current size and root', async () => {
    const note = await log.checkpoint(repos);
    const v = verifyNote(note, log.verifierKey);
    assert.ok(v.ok);
    const cp = parseCheckpoint(v.body);
    assert.ok(cp.ok);
    assert.equal(cp.checkpoint.origin, 'stagegate.test/audit');
    assert.equal(cp.checkpoint.size, N);
    assert.deepEqual(cp.checkpoint.rootHash, rootFromLeafHashes(leaves));
    assert.equal((await repo.latestCheckpoint())?.note, note);
  });

  test('exportLines reads in pages and emits stored leaf hashes', async () => {
    const c = countingRepo(repo);
    const lines: string[] = [];
    for await (const line of log.exportLines(c.repos, 990)) lines.push(line);
    assert.equal(lines.length, 10);
    assert.ok(c.pages.every((p) => p <= EXPORT_PAGE_SIZE));
    const first = JSON.parse(lines[0] as string);
    assert.equal(first.index, 990);
    assert.deepEqual(first.entry, JSON.parse(encodeEntry(sampleEntry(990))));
    assert.equal(first.leafHash, Buffer.from(leaves[990] as Uint8Array).toString('base64'));
    let all = 0;
    for await (const _ of log.exportLines(c.repos)) all++;
    assert.equal(all, N);
    assert.ok(c.pages.length >= 3);
  });

  test('verifyStored passes, and names the first edited entry', async () => {
    const ok = await log.verifyStored(repos);
    assert.deepEqual(ok, { ok: true, size: N, rootHash: rootFromLeafHashes(leaves) });
    const edited = { audit: withEditedEntry(repo, 417, (t) => t.replace('"denied"', '"allowed"')) };
    const bad = await log.verifyStored(edited);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.index, 417);
    assert.match(!bad.ok ? bad.reason : '', /entry 417 \(promotion\.request at 2026-11-26T10:00:00\.417Z\).*changed/);
    const lines: string[] = [];
    for await (const l of log.exportLines(edited, 417)) lines.push(l);
    assert.equal(JSON.parse(lines[0] as string).entry.outcome, 'allowed', 'export shows the edited content');
  });

  test('verifyStored detects edited interior nodes and rewritten histories', async () => {
    const nodes = { audit: { ...repo, getNode: async (l: number, i: number) => (l === 3 && i === 2 ? new Uint8Array(32) : repo.getNode(l, i)) } };
    const r = await log.verifyStored(nodes);
    assert.match(!r.ok ? r.reason : '', /interior tree nodes/);
    // a forged store: the same entries but one rewritten and all hashes recomputed
    const forged = createMemoryAuditRepo();
    for (let i = 0; i < N; i++) await log.append({ audit: forged }, i === 5 ? { ...sampleEntry(i), subject: 'promotion:forged' } : sampleEntry(i));
    await forged.putCheckpoint((await repo.latestCheckpoint()) as NonNullable<Awaited<ReturnType<AuditRepo['latestCheckpoint']>>>);
    const f = await log.verifyStored({ audit: forged });
    assert.match(!f.ok ? f.reason : '', /do not match the signed checkpoint root/);
    const short = createMemoryAuditRepo();
    await log.append({ audit: short }, sampleEntry(0));
    await short.putCheckpoint((await repo.latestCheckpoint()) as NonNullable<Awaited<ReturnType<AuditRepo['latestCheckpoint']>>>);
    const s = await log.verifyStored({ audit: short });
    assert.match(!s.ok ? s.reason : '', /has 1 entries but its signed checkpoint covers 1000/);
    const other = createAuditLog({ origin: 'stagegate.test/audit', noteSigner: generateNoteKey('x').signerKey, clock: () => new Date() });
    const o = await other.verifyStored(repos);
    assert.match(!o.ok ? o.reason : '', /checkpoint does not verify/);
  });

  test('bad requests and bad entries', async () => {
    await assert.rejects(log.root(repos, N + 1), { code: 'invalid_input' });
    await assert.rejects(log.inclusionProof(repos, N), { code: 'invalid_input' });
    await assert.rejects(log.inclusionProof(repos, 5, 3), { code: 'invalid_input' });
    await assert.rejects(log.consistencyProof(repos, 0, 5), { code: 'invalid_input' });
    await assert.rejects(log.consistencyProof(repos, 5, N + 1), { code: 'invalid_input' });
    await assert.rejects(log.append(repos, { ...sampleEntry(0), details: { x: Number.NaN } }), { code: 'invalid_input' });
    assert.equal(await repo.size(), N, 'a rejected entry writes nothing');
    await assert.rejects(repo.appendEntry({ index: 5, entry: '{}', createdAt: '' }), { code: 'conflict' });
    assert.throws(() => createAuditLog({ origin: 'o', noteSigner: 'nope', clock: () => new Date() }), { code: 'invalid_input' });
    assert.throws(() => createAuditLog({ origin: '', noteSigner: key.signerKey, clock: () => new Date() }), { code: 'invalid_input' });
  });
});
