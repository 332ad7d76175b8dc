/**
 * The step and token repositories over a Kysely instance or transaction. Portable SQL: the
 * "run once" of steps.start is INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL).
 */
import type { Kysely, Selectable } from 'kysely';
import { DomainError } from '../domain/errors.ts';
import type { Database } from './schema.ts';
import type { StepRecord, StepRepo, TokenRecord, TokenRepo } from './store.ts';
import { decodeList, encodeList } from './kysely-access-repos.ts';
import { MAX_LIST_LIMIT, checkText, checkTimestamp, constraintOf, decodeEnum } from './store-checks.ts';

type Db = Kysely<Database>;

const stepStatuses: readonly StepRecord['status'][] = ['running', 'succeeded', 'failed'];

export function stepRepo(db: Db): StepRepo {
  const toStep = (r: Selectable<Database['steps']>): StepRecord => ({
    promotionId: r.promotion_id,
    step: r.step,
    status: decodeEnum(r.status, stepStatuses, `steps row ${r.promotion_id}/${r.step} status`),
    data: r.data,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    message: r.message,
    exitCode: r.exit_code === null ? null : Number(r.exit_code),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    outputTail: r.output_tail,
  });
  const get = async (promotionId: string, step: string): Promise<StepRecord | undefined> => {
    const r = await db
      .selectFrom('steps')
      .selectAll()
      .where('promotion_id', '=', promotionId)
      .where('step', '=', step)
      .executeTakeFirst();
    return r ? toStep(r) : undefined;
  };
  return {
    async start(s) {
      checkText(s.step, 'step.step', 200);
      checkText(s.data, 'step.data', 1024 * 1024);
      checkTimestamp(s.startedAt, 'step.startedAt');
      try {
        const res = await db
          .insertInto('steps')
          .values({
            promotion_id: s.promotionId,
            step: s.step,
            status: 'running',
            data: s.data,
            started_at: s.startedAt,
            finished_at: null,
            message: null,
            exit_code: null,
            duration_ms: null,
            output_tail: null,
          })
          .onConflict((oc) => oc.columns(['promotion_id', 'step']).doNothing())
          .executeTakeFirst();
        return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
      } catch (e) {
        if (constraintOf(e) === 'foreign_key') {
          throw new DomainError('not_found', `step ${s.step} names promotion ${s.promotionId}, which is not stored`, {
            fix: 'start steps only for a stored promotion',
          });
        }
        throw e;
      }
    },
    get,
    async list(promotionId) {
      const rows = await db.selectFrom('steps').selectAll().where('promotion_id', '=', promotionId).orderBy('started_at', 'asc').orderBy('step', 'asc').limit(100).execute();
      return rows.map(toStep);
    },
    async finish(promotionId, step, outcome) {
      decodeEnum(outcome.status, ['succeeded', 'failed'] as const, 'outcome.status');
      checkTimestamp(outcome.finishedAt, 'outcome.finishedAt');
      checkText(outcome.message, 'outcome.message', 16_000);
      const res = await db
        .updateTable('steps')
        .set({
          status: outcome.status,
          finished_at: outcome.finishedAt,
          message: outcome.message,
          exit_code: outcome.exitCode,
          duration_ms: outcome.durationMs,
          output_tail: outcome.outputTail === null ? null : outcome.outputTail.slice(-8192),
        })
        .where('promotion_id', '=', promotionId)
        .where('step', '=', step)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) return;
      const current = await get(promotionId, step);
      if (!current) {
        throw new DomainError('not_found', `step ${step} of promotion ${promotionId} was never started`, {
          fix: 'call steps.start before steps.finish',
        });
      }
      throw new DomainError('conflict', `step ${step} of promotion ${promotionId} already finished (${current.status})`, {
        fix: 'a step runs at most once; read its outcome with steps.get',
      });
    },
  };
}

export function tokenRepo(db: Db): TokenRepo {
  const toToken = (r: Selectable<Database['tokens']>): TokenRecord => ({
    id: r.id,
    name: r.name,
    secretHash: r.secret_hash,
    actor: r.actor,
    role: r.role,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    scopes: decodeList(r.scopes, `tokens row ${r.id} scopes`),
    expiresAt: r.expires_at,
  });
  return {
    async insert(t) {
      for (const f of ['id', 'name', 'secretHash', 'actor', 'role'] as const) checkText(t[f], `token.${f}`, 512);
      checkTimestamp(t.createdAt, 'token.createdAt');
      if (t.revokedAt !== null) checkTimestamp(t.revokedAt, 'token.revokedAt');
      if (t.expiresAt !== null) checkTimestamp(t.expiresAt, 'token.expiresAt');
      try {
        await db
          .insertInto('tokens')
          .values({
            id: t.id,
            name: t.name,
            secret_hash: t.secretHash,
            actor: t.actor,
            role: t.role,
            created_at: t.createdAt,
            revoked_at: t.revokedAt,
            scopes: encodeList(t.scopes, 'token.scopes'),
            expires_at: t.expiresAt,
          })
          .execute();
      } catch (e) {
        if (constraintOf(e) === 'unique') {
          throw new DomainError('conflict', `token id ${t.id} already exists`, { fix: 'generate a new random token id' });
        }
        throw e;
      }
    },
    async get(id) {
      const r = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toToken(r);
    },
    async list() {
      const rows = await db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('id').limit(MAX_LIST_LIMIT).execute();
      return rows.map(toToken);
    },
    async revoke(id, at) {
      checkTimestamp(at, 'revokedAt');
      const res = await db
        .updateTable('tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}
