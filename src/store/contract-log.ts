/** Store contract, part two: the audit log, meta, and transactions (commit, rollback, serialization). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type OpenStore, at, auditEntry, hash32, rejectsWith, release, withStore } from './contract-fixtures.ts';
import type { MerkleNodeRow } from './store.ts';

export function auditContract(open: OpenStore): void {
  describe('audit', () => {
    test('entries append at size only; a gap or duplicate is a conflict and writes nothing', () =>
      withStore(open, async (s) => {
        const a = s.read.audit;
        assert.equal(await a.size(), 0);
        assert.equal(await a.getEntry(0), undefined);
        await rejectsWith(() => a.appendEntry(auditEntry(1)), 'conflict', /gap/);
        for (let i = 0; i < 3; i++) await a.appendEntry(auditEntry(i));
        assert.equal(await a.size(), 3);
        await rejectsWith(() => a.appendEntry(auditEntry(1)), 'conflict', /already written/);
        await rejectsWith(() => a.appendEntry({ ...auditEntry(3), index: 5 }), 'conflict', /gap of 2/);
        await rejectsWith(() => a.appendEntry({ ...auditEntry(3), index: -1 }), 'invalid_input', /index/);
        await rejectsWith(() => a.appendEntry({ ...auditEntry(3), createdAt: 'x' }), 'invalid_input', /createdAt/);
        assert.equal(await a.size(), 3);
        assert.deepEqual(await a.getEntry(1), auditEntry(1));
      }));

    test('listEntries returns [from, from+limit) in order and respects the limit', () =>
      withStore(open, async (s) => {
        const a = s.read.audit;
        await s.transaction(async (tx) => {
          for (let i = 0; i < 25; i++) await tx.audit.appendEntry(auditEntry(i));
        });
        assert.deepEqual((await a.listEntries(0, 5)).map((e) => e.index), [0, 1, 2, 3, 4]);
        assert.deepEqual(await a.listEntries(20, 100), [20, 21, 22, 23, 24].map(auditEntry));
        assert.deepEqual(await a.listEntries(25, 10), []);
        await rejectsWith(() => a.listEntries(0, 0), 'invalid_input', /limit/);
        await rejectsWith(() => a.listEntries(-1, 5), 'invalid_input', /from/);
      }));

    test('Merkle nodes are stored once, as 32-byte hashes, in bulk', () =>
      withStore(open, async (s) => {
        const a = s.read.audit;
        const nodes: MerkleNodeRow[] = [];
        for (let i = 0; i < 1_200; i++) nodes.push({ level: 0, index: i, hash: hash32(`leaf-${i}`) });
        nodes.push({ level: 10, index: 0, hash: hash32('root-1024') });
        await a.putNodes(nodes);
        await a.putNodes([]);
        const got = await a.getNode(0, 1_199);
        assert.ok(got instanceof Uint8Array);
        assert.deepEqual(got, hash32('leaf-1199'));
        assert.deepEqual(await a.getNode(10, 0), hash32('root-1024'));
        assert.equal(await a.getNode(1, 0), undefined);
        await rejectsWith(() => a.putNodes([{ level: 1, index: 0, hash: hash32('n') }, nodes[7]!]), 'conflict', /already stored/);
        assert.equal(await a.getNode(1, 0), undefined, 'the failed batch wrote nothing');
        await rejectsWith(() => a.putNodes([{ level: 1, index: 1, hash: new Uint8Array(31) }]), 'invalid_input', /32 bytes/);
        await rejectsWith(() => a.putNodes([{ level: 64, index: 1, hash: hash32('x') }]), 'invalid_input', /level/);
      }));

    test('checkpoints: latest by size, one note per size, never beyond the log', () =>
      withStore(open, async (s) => {
        const a = s.read.audit;
        assert.equal(await a.latestCheckpoint(), undefined);
        const note = (n: number) => `stagegate.example/log\n${n}\nroot${n}=\n\n— key sig${n}\n`;
        await a.putCheckpoint({ size: 0, note: note(0), createdAt: at(0) });
        await rejectsWith(() => a.putCheckpoint({ size: 2, note: note(2), createdAt: at(1) }), 'conflict', /beyond the log/);
        for (let i = 0; i < 5; i++) await a.appendEntry(auditEntry(i));
        await a.putCheckpoint({ size: 5, note: note(5), createdAt: at(5) });
        await a.putCheckpoint({ size: 2, note: note(2), createdAt: at(6) });
        assert.deepEqual(await a.latestCheckpoint(), { size: 5, note: note(5), createdAt: at(5) });
        await a.putCheckpoint({ size: 5, note: note(5), createdAt: at(7) });
        await rejectsWith(() => a.putCheckpoint({ size: 5, note: 'other', createdAt: at(8) }), 'conflict', /size 5/);
        assert.deepEqual(await a.latestCheckpoint(), { size: 5, note: note(5), createdAt: at(5) });
      }));
  });

  describe('meta', () => {
    test('get, set and overwrite a value; an empty key is refused', () =>
      withStore(open, async (s) => {
        assert.equal(await s.read.meta.get('audit.origin'), undefined);
        await s.read.meta.set('audit.origin', 'stagegate.example/log');
        await s.read.meta.set('other', '');
        await s.read.meta.set('audit.origin', 'stagegate.example/log2');
        assert.equal(await s.read.meta.get('audit.origin'), 'stagegate.example/log2');
        assert.equal(await s.read.meta.get('other'), '');
        await rejectsWith(() => s.read.meta.set('', 'x'), 'invalid_input', /key/);
      }));
  });
}

export function transactionContract(open: OpenStore): void {
  describe('transactions', () => {
    test('commit makes every write visible and returns the callback value', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        const out = await s.transaction(async (tx) => {
          await tx.releases.insert(r);
          await tx.audit.appendEntry(auditEntry(await tx.audit.size()));
          assert.deepEqual(await tx.releases.get(r.id), r, 'a transaction reads its own writes');
          return 'done';
        });
        assert.equal(out, 'done');
        assert.deepEqual(await s.read.releases.get(r.id), r);
        assert.equal(await s.read.audit.size(), 1);
      }));

    test('a throw rolls back the release and its audit entry together and rethrows', () =>
      withStore(open, async (s) => {
        const boom = new Error('gate crashed');
        await assert.rejects(
          s.transaction(async (tx) => {
            await tx.releases.insert(release('checkout', '1.0.0'));
            await tx.audit.appendEntry(auditEntry(0));
            await tx.audit.putNodes([{ level: 0, index: 0, hash: hash32('l0') }]);
            await tx.meta.set('k', 'v');
            throw boom;
          }),
          (e) => e === boom,
        );
        assert.equal(await s.read.releases.count(), 0);
        assert.equal(await s.read.audit.size(), 0);
        assert.equal(await s.read.audit.getNode(0, 0), undefined);
        assert.equal(await s.read.meta.get('k'), undefined);
        await s.transaction(async (tx) => tx.audit.appendEntry(auditEntry(0)));
        assert.equal(await s.read.audit.size(), 1, 'the store works after a rollback');
      }));

    test('a DomainError inside (e.g. a conflict) rolls back the earlier writes too', () =>
      withStore(open, async (s) => {
        await s.read.releases.insert(release('checkout', '1.0.0'));
        await rejectsWith(
          () =>
            s.transaction(async (tx) => {
              await tx.audit.appendEntry(auditEntry(0));
              await tx.releases.insert(release('checkout', '1.0.0', { id: `sha256:${'0'.repeat(64)}` }));
            }),
          'conflict',
        );
        assert.equal(await s.read.audit.size(), 0);
      }));

    test('50 concurrent transactions each reading size then appending never interleave', () =>
      withStore(open, async (s) => {
        const runs = Array.from({ length: 50 }, (_, i) =>
          s.transaction(async (tx) => {
            const n = await tx.audit.size();
            await new Promise((resolve) => setImmediate(resolve));
            await tx.audit.appendEntry({ index: n, entry: JSON.stringify({ writer: i }), createdAt: at(n) });
            await tx.audit.putNodes([{ level: 0, index: n, hash: hash32(`w${i}`) }]);
            return n;
          }),
        );
        const indexes = await Promise.all(runs);
        assert.deepEqual([...indexes].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
        assert.equal(await s.read.audit.size(), 50);
        const entries = await s.read.audit.listEntries(0, 100);
        assert.deepEqual(new Set(entries.map((e) => (JSON.parse(e.entry) as { writer: number }).writer)).size, 50);
      }));

    test('among concurrent transactions, one that throws rolls back alone; the others commit', () =>
      withStore(open, async (s) => {
        const runs = Array.from({ length: 30 }, (_, i) =>
          s.transaction(async (tx) => {
            await tx.meta.set(`k${i}`, `v${i}`);
            const n = await tx.audit.size();
            await tx.audit.appendEntry({ index: n, entry: JSON.stringify({ writer: i }), createdAt: at(n) });
            if (i % 3 === 0) throw new Error(`writer ${i} fails after writing`);
            return i;
          }),
        );
        const settled = await Promise.allSettled(runs);
        settled.forEach((r, i) => {
          assert.equal(r.status, i % 3 === 0 ? 'rejected' : 'fulfilled', `writer ${i}`);
          if (r.status === 'rejected') assert.match(String(r.reason), new RegExp(`writer ${i} fails`));
        });
        for (let i = 0; i < 30; i++) assert.equal(await s.read.meta.get(`k${i}`), i % 3 === 0 ? undefined : `v${i}`);
        assert.equal(await s.read.audit.size(), 20);
        const writers = (await s.read.audit.listEntries(0, 100)).map((e) => (JSON.parse(e.entry) as { writer: number }).writer);
        assert.deepEqual([...writers].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 0));
      }));
  });
}
