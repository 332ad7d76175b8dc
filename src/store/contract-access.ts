/** Store contract, access control: token scopes and expiry, approvals, elevations, break-glass, revocations. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApprovalRecord, BreakGlassRecord, ElevationRecord } from './store.ts';
import { type OpenStore, at, promotion, rejectsWith, release, token, withStore } from './contract-fixtures.ts';

const approval = (id: string, promotionId: string, over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id,
  promotionId,
  approver: 'user:alice',
  groups: ['sre'],
  decision: 'approve',
  comment: 'looks good',
  binding: `sha256:${'b'.repeat(64)}`,
  bundle: '{"mediaType":"x"}',
  personallySigned: false,
  createdAt: at(10),
  ...over,
});

const elevation = (id: string, over: Partial<ElevationRecord> = {}): ElevationRecord => ({
  id,
  principal: 'user:bob',
  role: 'releaser',
  reason: 'hotfix',
  durationMs: 30 * 60_000,
  status: 'pending',
  requestedAt: at(0),
  decidedBy: null,
  decidedAt: null,
  expiresAt: null,
  ...over,
});

const breakGlass = (id: string, promotionId: string): BreakGlassRecord => ({
  id,
  promotionId,
  requestedBy: 'user:bob',
  justification: 'outage',
  skip: ['approvals', 'freeze'],
  status: 'pending',
  createdAt: at(0),
  timeBoxMs: 3_600_000,
  confirmedBy: null,
  confirmedAt: null,
  expiresAt: null,
  reviewedBy: null,
  reviewedAt: null,
  reviewComment: null,
});

export function accessContract(open: OpenStore): void {
  describe('access control', () => {
    test('tokens keep scopes and expiry', () =>
      withStore(open, async (s) => {
        await s.read.tokens.insert(token('t1', { scopes: ['release.push', '*.read'], expiresAt: at(3600) }));
        const t = await s.read.tokens.get('t1');
        assert.deepEqual(t?.scopes, ['release.push', '*.read']);
        assert.equal(t?.expiresAt, at(3600));
        await rejectsWith(() => s.read.tokens.insert(token('t2', { expiresAt: 'tomorrow' })), 'invalid_input', /expiresAt/);
      }));

    test('approvals are listed per promotion, oldest first; an unknown promotion is not_found', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        await s.read.promotions.insert(promotion('p1', r, 'prod'));
        await s.read.approvals.insert(approval('a2', 'p1', { createdAt: at(20), approver: 'user:carol', decision: 'reject', personallySigned: true }));
        await s.read.approvals.insert(approval('a1', 'p1'));
        const list = await s.read.approvals.list('p1');
        assert.deepEqual(list.map((a) => a.id), ['a1', 'a2']);
        assert.deepEqual(list[1], approval('a2', 'p1', { createdAt: at(20), approver: 'user:carol', decision: 'reject', personallySigned: true }));
        assert.deepEqual(await s.read.approvals.list('p2'), []);
        await rejectsWith(() => s.read.approvals.insert(approval('a3', 'nope')), 'not_found', /promotion/);
        await rejectsWith(() => s.read.approvals.insert(approval('a1', 'p1')), 'conflict', /a1/);
        await rejectsWith(() => s.read.approvals.insert(approval('a4', 'p1', { decision: 'maybe' as never })), 'invalid_input', /decision/);
      }));

    test('elevations: decided once; active only until they expire', () =>
      withStore(open, async (s) => {
        await s.read.elevations.insert(elevation('e1'));
        assert.equal((await s.read.elevations.list({ status: 'pending', limit: 10 })).length, 1);
        const patch = { status: 'active' as const, decidedBy: 'user:alice', decidedAt: at(60), expiresAt: at(60 + 1800) };
        assert.equal(await s.read.elevations.decide('e1', patch), true);
        assert.equal(await s.read.elevations.decide('e1', { ...patch, status: 'denied' }), false);
        assert.deepEqual((await s.read.elevations.activeFor('user:bob', at(100))).map((e) => e.id), ['e1']);
        assert.deepEqual(await s.read.elevations.activeFor('user:bob', at(60 + 1800)), []);
        assert.deepEqual(await s.read.elevations.activeFor('user:alice', at(100)), []);
        assert.equal((await s.read.elevations.get('e1'))?.decidedBy, 'user:alice');
      }));

    test('break-glass: confirmed once, reviewed once, listed until reviewed', () =>
      withStore(open, async (s) => {
        const r = release('checkout', '1.0.0');
        await s.read.releases.insert(r);
        await s.read.promotions.insert(promotion('p1', r, 'prod'));
        await s.read.breakGlass.insert(breakGlass('b1', 'p1'));
        const confirm = { status: 'active' as const, confirmedBy: 'user:alice', confirmedAt: at(30), expiresAt: at(3630) };
        assert.equal(await s.read.breakGlass.update('b1', 'pending', confirm), true);
        assert.equal(await s.read.breakGlass.update('b1', 'pending', confirm), false);
        assert.deepEqual((await s.read.breakGlass.unreviewed(10)).map((b) => b.id), ['b1']);
        const review = { reviewedBy: 'user:carol', reviewedAt: at(4000), reviewComment: 'justified' };
        assert.equal(await s.read.breakGlass.update('b1', 'active', review), true);
        assert.equal(await s.read.breakGlass.update('b1', 'active', { ...review, reviewedBy: 'user:dave' }), false);
        assert.deepEqual(await s.read.breakGlass.unreviewed(10), []);
        const b = (await s.read.breakGlass.forPromotion('p1'))[0];
        assert.deepEqual(b?.skip, ['approvals', 'freeze']);
        assert.equal(b?.reviewedBy, 'user:carol');
      }));

    test('revoked sessions', () =>
      withStore(open, async (s) => {
        assert.equal(await s.read.revocations.isRevoked('j1'), false);
        await s.read.revocations.revoke('j1', at(900));
        await s.read.revocations.revoke('j1', at(900));
        assert.equal(await s.read.revocations.isRevoked('j1'), true);
      }));
  });
}
