/**
 * The Store contract: every Store implementation runs this suite (Kysely's dialect loop, Hono's
 * router suite). `open` must return a fresh, empty store each time; the suite closes it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessContract } from './contract-access.ts';
import { flagContract } from './contract-flags.ts';
import { rolloutContract } from './contract-rollouts.ts';
import { auditContract, transactionContract } from './contract-log.ts';
import { type OpenStore, at, digestOf, promotion, rejectsWith, release, step, token, withStore } from './contract-fixtures.ts';
import type { Store } from './store.ts';

export type { OpenStore } from './contract-fixtures.ts';

export function storeContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    releaseContract(open);
    promotionContract(open);
    stepAndTokenContract(open);
    auditContract(open);
    transactionContract(open);
    accessContract(open);
    flagContract(open);
    rolloutContract(open);
  });
}

function releaseContract(open: OpenStore): void {
  describe('releases', () => {
    test('insert then get and findByServiceVersion return the record, subjects in signed order', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.4.2');
        await s.read.releases.insert(r);
        assert.deepEqual(await s.read.releases.get(r.id), r);
        assert.deepEqual(await s.read.releases.findByServiceVersion('checkout', '1.4.2'), r);
        assert.equal(await s.read.releases.get(digestOf('nope')), undefined);
        assert.equal(await s.read.releases.findByServiceVersion('checkout', '9.9.9'), undefined);
        const none = release('empty', '1.0.0', { subjects: [] });
        await s.read.releases.insert(none);
        assert.deepEqual((await s.read.releases.get(none.id))?.subjects, []);
      }));

    test('the same service@version with another digest is a conflict naming both digests', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.4.2');
        await s.read.releases.insert(r);
        const other = release('checkout', '1.4.2', { id: digestOf('rebuilt') });
        await rejectsWith(() => s.read.releases.insert(other), 'conflict', /checkout@1\.4\.2/, new RegExp(r.id), new RegExp(other.id));
        assert.equal(await s.read.releases.count(), 1);
        assert.equal(await s.read.releases.get(other.id), undefined);
      }));

    test('inserting the same id twice is a conflict', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.4.2');
        await s.read.releases.insert(r);
        await rejectsWith(() => s.read.releases.insert(r), 'conflict', new RegExp(r.id));
        const sameIdOtherVersion = release('checkout', '2.0.0', { id: r.id });
        await rejectsWith(() => s.read.releases.insert(sameIdOtherVersion), 'conflict', /checkout@1\.4\.2/);
        assert.equal(await s.read.releases.count(), 1);
      }));

    test('a release with a duplicate subject name writes nothing, even outside a transaction', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        const dup = { ...r, subjects: [...r.subjects, { ...r.subjects[0]!, digest: digestOf('x') }] };
        await rejectsWith(() => s.read.releases.insert(dup), 'conflict', /subject/);
        assert.equal(await s.read.releases.count(), 0);
        await s.read.releases.insert(r);
        assert.equal(await s.read.releases.count(), 1);
      }));

    test('bad input is refused with the field named', () =>
      withStore(open, async (s) => {
        await rejectsWith(() => s.read.releases.insert(release('a', '1', { createdAt: 'yesterday' })), 'invalid_input', /createdAt/);
        const badKind = release('a', '1');
        (badKind.subjects[0] as { kind: string }).kind = 'binary';
        await rejectsWith(() => s.read.releases.insert(badKind), 'invalid_input', /kind/);
        assert.equal(await s.read.releases.count(), 0);
      }));

    test('list is newest first, filters by service and respects the limit', () =>
      withStore(open, async (s) => {
        const versions = ['1.0.0', '1.1.0', '1.2.0', '1.10.0', '2.0.0'];
        for (const v of versions) await s.read.releases.insert(release('checkout', v));
        await s.read.releases.insert(release('cart', '0.1.0'));
        const all = await s.read.releases.list({ limit: 100 });
        assert.deepEqual(all.map((r) => `${r.service}@${r.version}`), ['cart@0.1.0', ...versions.map((v) => `checkout@${v}`).reverse()]);
        assert.equal(all[1]?.subjects.length, 3);
        const two = await s.read.releases.list({ service: 'checkout', limit: 2 });
        assert.deepEqual(two.map((r) => r.version), ['2.0.0', '1.10.0']);
        assert.deepEqual(await s.read.releases.list({ service: 'unknown', limit: 5 }), []);
        assert.equal(await s.read.releases.count(), 6);
        for (const limit of [0, -1, 1.5, 10_001]) {
          await rejectsWith(() => s.read.releases.list({ limit }), 'invalid_input', /limit/);
        }
      }));
  });
}

function promotionContract(open: OpenStore): void {
  describe('promotions', () => {
    test('insert assigns increasing seq; get returns the record with gates', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        const gates = [
          { gate: 'signature', passed: true, message: 'signed by release-key' },
          { gate: 'checksums', passed: false, message: 'config/app.yaml differs', subject: 'config/app.yaml' },
        ];
        const p1 = promotion('p1', r, 'dev', { gates, message: 'waiting for approval' });
        const seq1 = await s.read.promotions.insert(p1);
        const seq2 = await s.read.promotions.insert(promotion('p2', r, 'staging'));
        assert.ok(seq2 > seq1);
        assert.deepEqual(await s.read.promotions.get('p1'), { ...p1, seq: seq1 });
        assert.equal((await s.read.promotions.get('p2'))?.gates, null);
        assert.equal(await s.read.promotions.get('nope'), undefined);
      }));

    test('a duplicate id is a conflict; an unknown release is not_found; bad values are refused', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        await s.read.promotions.insert(promotion('p1', r, 'dev'));
        await rejectsWith(() => s.read.promotions.insert(promotion('p1', r, 'prod')), 'conflict', /p1/);
        const ghost = release('ghost', '1.0.0');
        await rejectsWith(() => s.read.promotions.insert(promotion('p2', ghost, 'dev')), 'not_found', new RegExp(ghost.id));
        await rejectsWith(() => s.read.promotions.insert(promotion('p3', r, 'dev', { state: 'Done' as never })), 'invalid_input', /state/);
        const badGates = [{ gate: '', passed: true, message: 'x' }];
        await rejectsWith(() => s.read.promotions.insert(promotion('p4', r, 'dev', { gates: badGates })), 'invalid_input', /gates/);
        const longEnv = promotion('p5', r, 'x'.repeat(600));
        await rejectsWith(() => s.read.promotions.insert(longEnv), 'invalid_input', /environment/);
        assert.deepEqual((await s.read.promotions.list({})).map((p) => p.id), ['p1']);
      }));

    test('update applies the patch only from the expected state, once', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        await s.read.promotions.insert(promotion('p1', r, 'dev'));
        const before = await s.read.promotions.get('p1');
        assert.equal(await s.read.promotions.update('p1', 'Gating', { state: 'Deploying', message: 'no' }), false);
        assert.deepEqual(await s.read.promotions.get('p1'), before);
        assert.equal(await s.read.promotions.update('nope', 'Pending', { state: 'Gating' }), false);
        const gates = [{ gate: 'soak', passed: true, message: 'soaked 2h in staging' }];
        const patch = { state: 'Gating', updatedAt: at(5), stateChangedAt: at(5), gates, message: 'gating' } as const;
        assert.equal(await s.read.promotions.update('p1', 'Pending', patch), true);
        assert.equal(await s.read.promotions.update('p1', 'Pending', { state: 'Aborted' }), false);
        const after = await s.read.promotions.get('p1');
        assert.deepEqual(after, { ...before, ...patch, gates });
        assert.equal(await s.read.promotions.update('p1', 'Gating', {}), true, 'empty patch still checks the state');
        assert.equal(await s.read.promotions.update('p1', 'Gating', { state: 'Succeeded', succeededAt: at(9), message: null, gates: null }), true);
        const done = await s.read.promotions.get('p1');
        assert.equal(done?.succeededAt, at(9));
        assert.equal(done?.message, null);
        assert.equal(done?.gates, null);
        await rejectsWith(() => s.read.promotions.update('p1', 'Succeeded', { updatedAt: 'now' }), 'invalid_input', /updatedAt/);
      }));

    test('list filters by service, environment and states, oldest or newest first, with a limit', () =>
      withStore(open, async (s) => {
        const a = release('checkout', '1.0.0');
        const b = release('cart', '1.0.0');
        await s.read.releases.insert(a);
        await s.read.releases.insert(b);
        const plan: Array<[string, typeof a, string, 'Pending' | 'Gating' | 'Succeeded']> = [
          ['p1', a, 'dev', 'Succeeded'], ['p2', b, 'dev', 'Pending'], ['p3', a, 'staging', 'Gating'],
          ['p4', a, 'dev', 'Pending'], ['p5', b, 'prod', 'Gating'],
        ];
        for (const [id, r, env, state] of plan) await s.read.promotions.insert(promotion(id, r, env, { state }));
        const ids = async (q: Parameters<Store['read']['promotions']['list']>[0]) => (await s.read.promotions.list(q)).map((p) => p.id);
        assert.deepEqual(await ids({}), ['p1', 'p2', 'p3', 'p4', 'p5']);
        assert.deepEqual(await ids({ newestFirst: true }), ['p5', 'p4', 'p3', 'p2', 'p1']);
        assert.deepEqual(await ids({ service: 'checkout' }), ['p1', 'p3', 'p4']);
        assert.deepEqual(await ids({ service: 'checkout', environment: 'dev' }), ['p1', 'p4']);
        assert.deepEqual(await ids({ environment: 'dev', newestFirst: true, limit: 2 }), ['p4', 'p2']);
        assert.deepEqual(await ids({ states: ['Pending', 'Gating'] }), ['p2', 'p3', 'p4', 'p5']);
        assert.deepEqual(await ids({ states: ['Pending'], service: 'cart' }), ['p2']);
        assert.deepEqual(await ids({ releaseId: a.id, environment: 'dev', newestFirst: true }), ['p4', 'p1']);
        assert.deepEqual(await ids({ releaseId: b.id, states: ['Gating'] }), ['p5']);
        assert.deepEqual(await ids({ states: [] }), []);
        assert.deepEqual(await ids({ limit: 1 }), ['p1']);
        await rejectsWith(() => ids({ limit: 0 }), 'invalid_input', /limit/);
        await rejectsWith(() => ids({ states: ['Nope' as never] }), 'invalid_input', /state/);
      }));

    test('seq order holds past 1,000 promotions (numeric, not text, order)', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        const n = 1_100;
        const seqs = await s.transaction(async (tx) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) out.push(await tx.promotions.insert(promotion(`p-${n - i}`, r, 'dev')));
          return out;
        });
        for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${i} increases`);
        const asc = await s.read.promotions.list({ limit: n });
        assert.deepEqual(asc.map((p) => p.seq), seqs);
        assert.equal(asc[0]?.id, `p-${n}`);
        const desc = await s.read.promotions.list({ newestFirst: true, limit: 3 });
        assert.deepEqual(desc.map((p) => p.id), ['p-1', 'p-2', 'p-3']);
      }));
  });
}

function stepAndTokenContract(open: OpenStore): void {
  describe('steps', () => {
    test('start runs once; finish records the outcome once', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        await s.read.promotions.insert(promotion('p1', r, 'prod'));
        assert.equal(await s.read.steps.get('p1', 'deploy'), undefined);
        assert.equal(await s.read.steps.start(step('p1', 'deploy')), true);
        assert.equal(await s.read.steps.start({ ...step('p1', 'deploy'), data: '{"pid":1}', startedAt: at(60) }), false);
        const running = await s.read.steps.get('p1', 'deploy');
        assert.deepEqual(running, { ...step('p1', 'deploy'), status: 'running', finishedAt: null, message: null, exitCode: null, durationMs: null, outputTail: null });
        assert.equal(await s.read.steps.start(step('p1', 'verify')), true);
        const outcome = { exitCode: 0, durationMs: 1234, outputTail: 'deployed 3/3\n' };
        await s.read.steps.finish('p1', 'deploy', { status: 'succeeded', message: 'deployed 3/3', finishedAt: at(30), ...outcome });
        assert.deepEqual(await s.read.steps.get('p1', 'deploy'), { ...running, status: 'succeeded', finishedAt: at(30), message: 'deployed 3/3', ...outcome });
        assert.deepEqual((await s.read.steps.list('p1')).map((x) => x.step), ['deploy', 'verify']);
        assert.deepEqual(await s.read.steps.list('nope'), []);
        const failed = { status: 'failed' as const, message: 'x', finishedAt: at(31), exitCode: null, durationMs: null, outputTail: null };
        await rejectsWith(() => s.read.steps.finish('p1', 'deploy', failed), 'conflict', /already finished/);
        await rejectsWith(() => s.read.steps.finish('p1', 'rollback', failed), 'not_found', /rollback/);
        await rejectsWith(() => s.read.steps.start(step('nope', 'deploy')), 'not_found', /nope/);
        await rejectsWith(() => s.read.steps.start({ ...step('p1', 'x'), startedAt: 'soon' }), 'invalid_input', /startedAt/);
        assert.equal((await s.read.steps.get('p1', 'verify'))?.status, 'running');
      }));
  });

  describe('tokens', () => {
    test('insert, get, list, revoke once; a duplicate id is a conflict', () =>
      withStore(open, async (s) => {
        const t1 = token('tk1');
        const t2 = token('tk2', { createdAt: at(1), role: 'admin' });
        await s.read.tokens.insert(t2);
        await s.read.tokens.insert(t1);
        assert.deepEqual(await s.read.tokens.get('tk1'), t1);
        assert.equal(await s.read.tokens.get('tk3'), undefined);
        assert.deepEqual(await s.read.tokens.list(), [t1, t2]);
        await rejectsWith(() => s.read.tokens.insert(token('tk1')), 'conflict', /tk1/);
        assert.equal(await s.read.tokens.revoke('tk1', at(10)), true);
        assert.equal(await s.read.tokens.revoke('tk1', at(20)), false);
        assert.equal(await s.read.tokens.revoke('tk9', at(20)), false);
        assert.equal((await s.read.tokens.get('tk1'))?.revokedAt, at(10));
        assert.equal((await s.read.tokens.get('tk2'))?.revokedAt, null);
        await rejectsWith(() => s.read.tokens.revoke('tk2', 'now'), 'invalid_input', /revokedAt/);
      }));
  });
}
