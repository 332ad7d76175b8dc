/** Store contract, rollouts: one record per promotion, optimistic updates, newest-first lists. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDomainError } from '../domain/errors.ts';
import type { RolloutPatch, RolloutRecord, Store } from './store.ts';
import { type OpenStore, at, digestOf, rejectsWith, withStore } from './contract-fixtures.ts';

export const rollout = (promotionId: string, over: Partial<RolloutRecord> = {}): RolloutRecord => ({
  promotionId,
  service: 'checkout',
  environment: 'prod',
  strategy: 'canary',
  canaryVersion: '1.5.0',
  canaryReleaseId: digestOf('checkout@1.5.0'),
  stableVersion: '1.4.2',
  stableReleaseId: digestOf('checkout@1.4.2'),
  stablePromotionId: 'prm_stable',
  phase: 'Progressing',
  stepIndex: 0,
  stepStartedAt: at(0),
  weight: 0,
  message: 'starting',
  pauseReason: null,
  command: null,
  commandBy: null,
  analysis: '[]',
  createdAt: at(0),
  updatedAt: at(0),
  ...over,
});

/** rejects with invalid_input whose message and details.field both name `field` */
async function rejectsField(fn: () => Promise<unknown>, field: string): Promise<void> {
  await rejectsWith(fn, 'invalid_input', new RegExp(field.replace('.', '\\.')));
  await assert.rejects(fn, (e: unknown) => isDomainError(e) && e.details.field === field);
}

const ids = async (s: Store, q: Parameters<Store['read']['rollouts']['list']>[0]): Promise<string[]> => (await s.read.rollouts.list(q)).map((r) => r.promotionId);

export function rolloutContract(open: OpenStore): void {
  describe('rollouts', () => {
    test('insert then get returns the record; a first deploy keeps its nulls', () =>
      withStore(open, async (s) => {
        const r = rollout('prm_a', { pauseReason: 'waiting for a person', phase: 'Paused', command: 'promote', commandBy: 'user:carol', analysis: '[{"name":"errors","phase":"Successful"}]' });
        await s.read.rollouts.insert(r);
        assert.deepEqual(await s.read.rollouts.get('prm_a'), r);
        const first = rollout('prm_first', { strategy: 'allAtOnce', stableVersion: null, stableReleaseId: null, stablePromotionId: null, weight: 100, stepIndex: 1000 });
        await s.read.rollouts.insert(first);
        assert.deepEqual(await s.read.rollouts.get('prm_first'), first);
        assert.equal(await s.read.rollouts.get('prm_nope'), undefined);
      }));

    test('list is newest first (createdAt, then promotionId), filters by service, environment and phases, with a limit', () =>
      withStore(open, async (s) => {
        await s.read.rollouts.insert(rollout('prm_1', { createdAt: at(1) }));
        await s.read.rollouts.insert(rollout('prm_3', { createdAt: at(3), environment: 'staging' }));
        await s.read.rollouts.insert(rollout('prm_2b', { createdAt: at(2), phase: 'Completed' }));
        await s.read.rollouts.insert(rollout('prm_2a', { createdAt: at(2), service: 'cart', phase: 'Aborted' }));
        assert.deepEqual(await ids(s, { limit: 10 }), ['prm_3', 'prm_2b', 'prm_2a', 'prm_1']);
        assert.deepEqual(await ids(s, { limit: 2 }), ['prm_3', 'prm_2b']);
        assert.deepEqual(await ids(s, { service: 'checkout', limit: 10 }), ['prm_3', 'prm_2b', 'prm_1']);
        assert.deepEqual(await ids(s, { environment: 'prod', limit: 10 }), ['prm_2b', 'prm_2a', 'prm_1']);
        assert.deepEqual(await ids(s, { service: 'checkout', environment: 'prod', limit: 10 }), ['prm_2b', 'prm_1']);
        assert.deepEqual(await ids(s, { phases: ['Completed', 'Aborted'], limit: 10 }), ['prm_2b', 'prm_2a']);
        assert.deepEqual(await ids(s, { phases: ['Progressing'], environment: 'staging', limit: 10 }), ['prm_3']);
        assert.deepEqual(await ids(s, { phases: [], limit: 10 }), [], 'no phase allowed matches nothing');
        assert.deepEqual(await ids(s, { service: 'unknown', limit: 10 }), []);
        assert.deepEqual(await s.read.rollouts.list({ service: 'cart', limit: 1 }), [rollout('prm_2a', { createdAt: at(2), service: 'cart', phase: 'Aborted' })]);
      }));

    test('a second rollout for the same promotion is a conflict naming it and writes nothing', () =>
      withStore(open, async (s) => {
        const r = rollout('prm_a');
        await s.read.rollouts.insert(r);
        await rejectsWith(() => s.read.rollouts.insert(rollout('prm_a', { message: 'other', createdAt: at(9) })), 'conflict', /prm_a/);
        assert.deepEqual(await s.read.rollouts.get('prm_a'), r);
        assert.equal((await s.read.rollouts.list({ limit: 10 })).length, 1);
      }));

    test('update is optimistic: a stale updatedAt changes nothing, the current one applies the patch', () =>
      withStore(open, async (s) => {
        await s.read.rollouts.insert(rollout('prm_a'));
        const before = await s.read.rollouts.get('prm_a');
        const patch: RolloutPatch = { phase: 'Paused', stepIndex: 2, stepStartedAt: at(20), weight: 25, message: 'paused', pauseReason: 'manual step', command: 'promote', commandBy: 'user:carol', analysis: '[{"name":"latency"}]', updatedAt: at(20) };
        assert.equal(await s.read.rollouts.update('prm_a', { updatedAt: at(5) }, patch), false, 'stale');
        assert.deepEqual(await s.read.rollouts.get('prm_a'), before);
        assert.equal(await s.read.rollouts.update('prm_nope', { updatedAt: at(0) }, patch), false, 'unknown promotion');
        assert.equal(await s.read.rollouts.update('prm_a', { updatedAt: at(0) }, patch), true);
        assert.deepEqual(await s.read.rollouts.get('prm_a'), { ...before, ...patch });
        assert.equal(await s.read.rollouts.update('prm_a', { updatedAt: at(0) }, { phase: 'Aborted', updatedAt: at(21) }), false, 'the second writer of the same read loses');
        assert.equal(await s.read.rollouts.update('prm_a', { updatedAt: at(20) }, { command: null, commandBy: null, pauseReason: null, updatedAt: at(21) }), true);
        const after = await s.read.rollouts.get('prm_a');
        assert.deepEqual([after?.command, after?.commandBy, after?.pauseReason, after?.phase], [null, null, null, 'Paused']);
      }));

    test('bad input is refused naming the field, and nothing is written', () =>
      withStore(open, async (s) => {
        const bad: [Partial<RolloutRecord>, string][] = [
          [{ promotionId: '' }, 'promotionId'],
          [{ promotionId: 'p'.repeat(201) }, 'promotionId'],
          [{ service: 'Checkout!' }, 'service'],
          [{ environment: 'x'.repeat(64) }, 'environment'],
          [{ strategy: 'linear' as never }, 'strategy'],
          [{ canaryVersion: 'v 1' }, 'canaryVersion'],
          [{ canaryReleaseId: 'r'.repeat(201) }, 'canaryReleaseId'],
          [{ stableVersion: '1'.repeat(129) }, 'stableVersion'],
          [{ stableReleaseId: '' }, 'stableReleaseId'],
          [{ stablePromotionId: 'p'.repeat(201) }, 'stablePromotionId'],
          [{ phase: 'Done' as never }, 'phase'],
          [{ stepIndex: -1 }, 'stepIndex'],
          [{ stepIndex: 1001 }, 'stepIndex'],
          [{ stepStartedAt: 'now' }, 'stepStartedAt'],
          [{ weight: 101 }, 'weight'],
          [{ weight: 12.5 }, 'weight'],
          [{ message: 'm'.repeat(2001) }, 'message'],
          [{ pauseReason: 'm'.repeat(2001) }, 'pauseReason'],
          [{ command: 'skip' as never }, 'command'],
          [{ commandBy: 'u'.repeat(201) }, 'commandBy'],
          [{ analysis: 'not json' }, 'analysis'],
          [{ analysis: JSON.stringify(['x'.repeat(64 * 1024)]) }, 'analysis'],
          [{ createdAt: '2026-11-26' }, 'createdAt'],
          [{ updatedAt: 'yesterday' }, 'updatedAt'],
        ];
        for (const [over, field] of bad) await rejectsField(() => s.read.rollouts.insert(rollout('prm_bad', over)), field);
        assert.equal(await s.read.rollouts.get('prm_bad'), undefined);
        await s.read.rollouts.insert(rollout('prm_a'));
        const before = await s.read.rollouts.get('prm_a');
        const expect = { updatedAt: at(0) };
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, {}), 'patch');
        await rejectsField(() => s.read.rollouts.update('prm_a', { updatedAt: 'then' }, { weight: 5 }), 'expect.updatedAt');
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, { weight: -1 }), 'weight');
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, { stepIndex: 1.5 }), 'stepIndex');
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, { phase: 'Sleeping' as never }), 'phase');
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, { analysis: '{' }), 'analysis');
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, { command: 'abort', commandBy: 'u'.repeat(201) }), 'commandBy');
        await rejectsField(() => s.read.rollouts.update('prm_a', expect, { weight: 50, updatedAt: 'later' }), 'updatedAt');
        assert.deepEqual(await s.read.rollouts.get('prm_a'), before);
        for (const limit of [0, -1, 1.5, 1001]) await rejectsField(() => s.read.rollouts.list({ limit }), 'limit');
        await rejectsField(() => s.read.rollouts.list({ service: 'A B', limit: 5 }), 'service');
        await rejectsField(() => s.read.rollouts.list({ environment: '', limit: 5 }), 'environment');
        await rejectsField(() => s.read.rollouts.list({ phases: ['Gone' as never], limit: 5 }), 'phases');
        assert.equal((await s.read.rollouts.list({ limit: 1000 })).length, 1);
      }));

    test('a transaction that throws leaves no rollout and no update behind', () =>
      withStore(open, async (s) => {
        await s.read.rollouts.insert(rollout('prm_a'));
        await assert.rejects(
          s.transaction(async (tx) => {
            await tx.rollouts.insert(rollout('prm_b'));
            assert.equal(await tx.rollouts.update('prm_a', { updatedAt: at(0) }, { weight: 50, updatedAt: at(1) }), true);
            assert.equal((await tx.rollouts.get('prm_b'))?.promotionId, 'prm_b', 'visible inside the transaction');
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await s.read.rollouts.get('prm_b'), undefined);
        assert.deepEqual(await s.read.rollouts.get('prm_a'), rollout('prm_a'));
      }));
  });
}
