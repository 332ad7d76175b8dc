/** Repositories of access control: approvals, just-in-time elevations, break-glass, revoked sessions. */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import type { Database } from './schema.ts';
import type {
  ApprovalRecord,
  ApprovalRepo,
  BreakGlassRecord,
  BreakGlassRepo,
  ElevationRecord,
  ElevationRepo,
  RevocationRepo,
} from './store.ts';
import { checkLimit, checkText, checkTimestamp, constraintOf, corrupt, decodeEnum } from './store-checks.ts';

type Db = Kysely<Database>;

const stringList = z.array(z.string().max(200)).max(100);

/** a JSON list column, parsed and bounded (never trusted blindly) */
export function decodeList(text: string | null, where: string): string[] {
  if (text === null) return [];
  try {
    const r = stringList.safeParse(JSON.parse(text));
    if (r.success) return r.data;
  } catch {
    // fall through
  }
  throw corrupt(where, 'a JSON list of strings');
}

export function encodeList(list: readonly string[], field: string): string {
  const r = stringList.safeParse(list);
  if (!r.success) throw new DomainError('invalid_input', `${field} must be at most 100 strings of at most 200 characters`, { field, fix: 'shorten the list' });
  return JSON.stringify(r.data);
}

/** an input value from a closed list (a bad one is the caller's error, not corruption) */
function checkEnum<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new DomainError('invalid_input', `${field} must be one of ${allowed.join(', ')}`, { field, fix: `use one of ${allowed.join(', ')}` });
}

const unique = (what: string) => (e: unknown) => {
  if (constraintOf(e) === 'unique') throw new DomainError('conflict', `${what} already exists`, { fix: 'use a new random id' });
  if (constraintOf(e) === 'foreign_key') throw new DomainError('not_found', `${what} names a promotion that is not stored`, { fix: 'record it for a stored promotion' });
  throw e;
};

export function approvalRepo(db: Db): ApprovalRepo {
  const decisions = ['approve', 'reject'] as const;
  const toRecord = (r: Selectable<Database['approvals']>): ApprovalRecord => ({
    id: r.id,
    promotionId: r.promotion_id,
    approver: r.approver,
    groups: decodeList(r.groups, `approvals row ${r.id} groups`),
    decision: decodeEnum(r.decision, decisions, `approvals row ${r.id} decision`),
    comment: r.comment,
    binding: r.binding,
    bundle: r.bundle,
    personallySigned: Number(r.personally_signed) === 1,
    createdAt: r.created_at,
  });
  return {
    async insert(a) {
      checkText(a.comment, 'approval.comment', 2000);
      checkText(a.bundle, 'approval.bundle', 256 * 1024);
      checkTimestamp(a.createdAt, 'approval.createdAt');
      checkEnum(a.decision, decisions, 'approval.decision');
      await db
        .insertInto('approvals')
        .values({
          id: a.id,
          promotion_id: a.promotionId,
          approver: a.approver,
          groups: encodeList(a.groups, 'approval.groups'),
          decision: a.decision,
          comment: a.comment,
          binding: a.binding,
          bundle: a.bundle,
          personally_signed: a.personallySigned ? 1 : 0,
          created_at: a.createdAt,
        })
        .execute()
        .catch(unique(`approval ${a.id}`));
    },
    async list(promotionId) {
      const rows = await db.selectFrom('approvals').selectAll().where('promotion_id', '=', promotionId).orderBy('created_at').orderBy('id').limit(1000).execute();
      return rows.map(toRecord);
    },
  };
}

export function elevationRepo(db: Db): ElevationRepo {
  const statuses = ['pending', 'active', 'denied'] as const;
  const toRecord = (r: Selectable<Database['elevations']>): ElevationRecord => ({
    id: r.id,
    principal: r.principal,
    role: r.role,
    reason: r.reason,
    durationMs: Number(r.duration_ms),
    status: decodeEnum(r.status, statuses, `elevations row ${r.id} status`),
    requestedAt: r.requested_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    expiresAt: r.expires_at,
  });
  return {
    async insert(e) {
      checkText(e.reason, 'elevation.reason', 1000);
      checkTimestamp(e.requestedAt, 'elevation.requestedAt');
      await db
        .insertInto('elevations')
        .values({
          id: e.id,
          principal: e.principal,
          role: e.role,
          reason: e.reason,
          duration_ms: e.durationMs,
          status: checkEnum(e.status, statuses, 'elevation.status'),
          requested_at: e.requestedAt,
          decided_by: e.decidedBy,
          decided_at: e.decidedAt,
          expires_at: e.expiresAt,
        })
        .execute()
        .catch(unique(`elevation ${e.id}`));
    },
    async get(id) {
      const r = await db.selectFrom('elevations').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toRecord(r);
    },
    async decide(id, patch) {
      const res = await db
        .updateTable('elevations')
        .set({ status: patch.status, decided_by: patch.decidedBy, decided_at: patch.decidedAt, expires_at: patch.expiresAt })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async activeFor(principal, now) {
      checkTimestamp(now, 'now');
      const rows = await db
        .selectFrom('elevations')
        .selectAll()
        .where('principal', '=', principal)
        .where('status', '=', 'active')
        .where('expires_at', '>', now)
        .limit(100)
        .execute();
      return rows.map(toRecord);
    },
    async list(q) {
      let query = db.selectFrom('elevations').selectAll();
      if (q.status) query = query.where('status', '=', q.status);
      return (await query.orderBy('requested_at', 'desc').limit(checkLimit(q.limit, 'limit')).execute()).map(toRecord);
    },
  };
}

export function breakGlassRepo(db: Db): BreakGlassRepo {
  const statuses = ['pending', 'active', 'rejected'] as const;
  const toRecord = (r: Selectable<Database['break_glass']>): BreakGlassRecord => ({
    id: r.id,
    promotionId: r.promotion_id,
    requestedBy: r.requested_by,
    justification: r.justification,
    skip: decodeList(r.skip, `break_glass row ${r.id} skip`),
    status: decodeEnum(r.status, statuses, `break_glass row ${r.id} status`),
    createdAt: r.created_at,
    timeBoxMs: Number(r.time_box_ms),
    confirmedBy: r.confirmed_by,
    confirmedAt: r.confirmed_at,
    expiresAt: r.expires_at,
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at,
    reviewComment: r.review_comment,
  });
  return {
    async insert(b) {
      checkText(b.justification, 'breakGlass.justification', 2000);
      checkTimestamp(b.createdAt, 'breakGlass.createdAt');
      await db
        .insertInto('break_glass')
        .values({
          id: b.id,
          promotion_id: b.promotionId,
          requested_by: b.requestedBy,
          justification: b.justification,
          skip: encodeList(b.skip, 'breakGlass.skip'),
          status: checkEnum(b.status, statuses, 'breakGlass.status'),
          created_at: b.createdAt,
          time_box_ms: b.timeBoxMs,
          confirmed_by: b.confirmedBy,
          confirmed_at: b.confirmedAt,
          expires_at: b.expiresAt,
          reviewed_by: b.reviewedBy,
          reviewed_at: b.reviewedAt,
          review_comment: b.reviewComment,
        })
        .execute()
        .catch(unique(`break-glass ${b.id}`));
    },
    async get(id) {
      const r = await db.selectFrom('break_glass').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toRecord(r);
    },
    async update(id, expectStatus, patch) {
      const set: Partial<Database['break_glass']> = {};
      if (patch.status !== undefined) set.status = checkEnum(patch.status, statuses, 'breakGlass.status');
      if (patch.confirmedBy !== undefined) set.confirmed_by = patch.confirmedBy;
      if (patch.confirmedAt !== undefined) set.confirmed_at = patch.confirmedAt;
      if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
      if (patch.reviewedBy !== undefined) set.reviewed_by = patch.reviewedBy;
      if (patch.reviewedAt !== undefined) set.reviewed_at = patch.reviewedAt;
      if (patch.reviewComment !== undefined) set.review_comment = patch.reviewComment;
      let q = db.updateTable('break_glass').set(set).where('id', '=', id).where('status', '=', expectStatus);
      if (patch.reviewedBy !== undefined) q = q.where('reviewed_by', 'is', null);
      return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
    },
    async forPromotion(promotionId) {
      const rows = await db.selectFrom('break_glass').selectAll().where('promotion_id', '=', promotionId).orderBy('created_at').limit(100).execute();
      return rows.map(toRecord);
    },
    async unreviewed(limit) {
      const rows = await db
        .selectFrom('break_glass')
        .selectAll()
        .where('status', '=', 'active')
        .where('reviewed_by', 'is', null)
        .orderBy('created_at')
        .limit(checkLimit(limit, 'limit'))
        .execute();
      return rows.map(toRecord);
    },
  };
}

export function revocationRepo(db: Db): RevocationRepo {
  return {
    async revoke(jti, expiresAt) {
      checkText(jti, 'jti', 200);
      checkTimestamp(expiresAt, 'expiresAt');
      await db.insertInto('revoked_sessions').values({ jti, expires_at: expiresAt }).onConflict((oc) => oc.column('jti').doNothing()).execute();
    },
    async isRevoked(jti) {
      return (await db.selectFrom('revoked_sessions').select('jti').where('jti', '=', jti).executeTakeFirst()) !== undefined;
    },
  };
}
