/** Store contract, feature flags: flag-set versions per environment and change requests. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FlagChangeRecord, FlagVersionRecord } from './store.ts';
import { type OpenStore, at, digestOf, rejectsWith, withStore } from './contract-fixtures.ts';

const version = (environment: string, v: number, over: Partial<FlagVersionRecord> = {}): FlagVersionRecord => ({
  environment,
  version: v,
  flagSet: `{"flags":{"v${v}":{"defaultVariant":"on","state":"ENABLED","variants":{"on":true}}}}`,
  digest: digestOf(`set ${environment} ${v}`),
  createdBy: 'system:seed',
  createdAt: at(v),
  changeId: null,
  ...over,
});

const change = (id: string, over: Partial<FlagChangeRecord> = {}): FlagChangeRecord => ({
  id,
  environment: 'prod',
  baseVersion: 1,
  patch: '[{"op":"replace","path":"/flags/v1/state","value":"DISABLED"}]',
  resultDigest: digestOf(`result ${id}`),
  reason: 'turn it off',
  state: 'draft',
  author: 'user:carol',
  approvals: [],
  createdAt: at(10),
  updatedAt: at(10),
  appliedVersion: null,
  ...over,
});

export function flagContract(open: OpenStore): void {
  describe('feature flags', () => {
    test('versions: insert, latest, getVersion, history newest first, per environment', () =>
      withStore(open, async (s) => {
        assert.equal(await s.read.flags.latest('prod'), undefined);
        await s.transaction(async (tx) => {
          await tx.flags.insertVersion(version('prod', 1));
          await tx.flags.insertVersion(version('prod', 2, { changeId: 'flc_1', createdBy: 'user:carol' }));
          await tx.flags.insertVersion(version('staging', 1));
        });
        assert.deepEqual(await s.read.flags.latest('prod'), version('prod', 2, { changeId: 'flc_1', createdBy: 'user:carol' }));
        assert.deepEqual(await s.read.flags.getVersion('prod', 1), version('prod', 1));
        assert.equal(await s.read.flags.getVersion('prod', 9), undefined);
        assert.deepEqual((await s.read.flags.history('prod', 10)).map((v) => v.version), [2, 1]);
        assert.deepEqual((await s.read.flags.history('prod', 1)).map((v) => v.version), [2]);
        assert.deepEqual((await s.read.flags.history('staging', 10)).map((v) => v.version), [1]);
      }));

    test('the same version twice is a conflict and writes nothing; bad input names the field', () =>
      withStore(open, async (s) => {
        await s.read.flags.insertVersion(version('prod', 1));
        await rejectsWith(() => s.read.flags.insertVersion(version('prod', 1, { digest: digestOf('other') })), 'conflict', /version 1 of prod/);
        assert.equal((await s.read.flags.latest('prod'))?.digest, version('prod', 1).digest);
        await rejectsWith(() => s.read.flags.insertVersion(version('prod', 2, { digest: 'md5:x' })), 'invalid_input', /digest/);
        await rejectsWith(() => s.read.flags.insertVersion(version('Prod!', 2)), 'invalid_input', /environment/);
        await rejectsWith(() => s.read.flags.insertVersion(version('prod', 2, { createdAt: 'now' })), 'invalid_input', /createdAt/);
        assert.equal((await s.read.flags.history('prod', 10)).length, 1);
      }));

    test('a transaction that throws leaves no version behind', () =>
      withStore(open, async (s) => {
        await assert.rejects(
          s.transaction(async (tx) => {
            await tx.flags.insertVersion(version('prod', 1));
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await s.read.flags.latest('prod'), undefined);
      }));

    test('changes: insert, get, update only from the expected state, list filters', () =>
      withStore(open, async (s) => {
        await s.read.flags.insertChange(change('flc_a'));
        await s.read.flags.insertChange(change('flc_b', { environment: 'staging', createdAt: at(20), updatedAt: at(20) }));
        assert.deepEqual(await s.read.flags.getChange('flc_a'), change('flc_a'));
        assert.equal(await s.read.flags.getChange('flc_nope'), undefined);
        const approvals = [{ approver: 'user:alice', groups: ['sre'], decision: 'approve' as const, comment: 'ok', at: at(30) }];
        assert.equal(await s.read.flags.updateChange('flc_a', 'draft', { state: 'approved', approvals, updatedAt: at(30) }), true);
        assert.equal(await s.read.flags.updateChange('flc_a', 'draft', { state: 'rejected' }), false, 'no longer a draft');
        const a = await s.read.flags.getChange('flc_a');
        assert.equal(a?.state, 'approved');
        assert.deepEqual(a?.approvals, approvals);
        assert.equal(await s.read.flags.updateChange('flc_a', 'approved', { state: 'applied', appliedVersion: 2 }), true);
        assert.equal((await s.read.flags.getChange('flc_a'))?.appliedVersion, 2);
        assert.deepEqual((await s.read.flags.listChanges({ limit: 10 })).map((c) => c.id), ['flc_b', 'flc_a']);
        assert.deepEqual((await s.read.flags.listChanges({ environment: 'prod', limit: 10 })).map((c) => c.id), ['flc_a']);
        assert.deepEqual((await s.read.flags.listChanges({ states: ['draft', 'approved'], limit: 10 })).map((c) => c.id), ['flc_b']);
      }));

    test('changes: duplicate id is a conflict; bad state and oversized fields are refused', () =>
      withStore(open, async (s) => {
        await s.read.flags.insertChange(change('flc_a'));
        await rejectsWith(() => s.read.flags.insertChange(change('flc_a')), 'conflict', /flc_a/);
        await rejectsWith(() => s.read.flags.insertChange(change('flc_b', { state: 'merged' as never })), 'invalid_input', /state/);
        await rejectsWith(() => s.read.flags.insertChange(change('flc_c', { reason: 'x'.repeat(1001) })), 'invalid_input', /reason/);
        await rejectsWith(() => s.read.flags.updateChange('flc_a', 'draft', { state: 'done' as never }), 'invalid_input', /state/);
        assert.equal((await s.read.flags.listChanges({ limit: 10 })).length, 1);
      }));
  });
}
