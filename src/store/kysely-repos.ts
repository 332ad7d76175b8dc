/**
 * The repositories over a Kysely instance: the main instance (reads and single writes) or a
 * transaction. Portable SQL only (no SQLite-only functions), so PostgreSQL can reuse this file.
 * Multi-statement writes run in their own transaction when not already inside one.
 */
import type { Kysely, Selectable } from 'kysely';
import { DomainError } from '../domain/errors.ts';
import { promotionStates } from '../domain/promotion.ts';
import type { PromotionRecord, PromotionRepo, ReleaseRecord, ReleaseRepo, Repos, StepRecord, StepRepo, SubjectKind, TokenRecord, TokenRepo } from './store.ts';
import type { Database, PromotionsTable, ReleasesTable } from './schema.ts';
import { auditRepo, metaRepo } from './kysely-audit-repo.ts';
import {
  INSERT_CHUNK,
  MAX_LIST_LIMIT,
  checkLimit,
  checkState,
  checkText,
  checkTimestamp,
  chunks,
  constraintOf,
  decodeEnum,
  decodeGates,
  encodeGates,
} from './store-checks.ts';

type Db = Kysely<Database>;

export function createRepos(db: Db): Repos {
  return {
    releases: releaseRepo(db),
    promotions: promotionRepo(db),
    steps: stepRepo(db),
    tokens: tokenRepo(db),
    audit: auditRepo(db),
    meta: metaRepo(db),
  };
}

/** run fn atomically: in the current transaction, or in a new one on the main instance */
export function atomic<T>(db: Db, fn: (ex: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

const subjectKinds: readonly SubjectKind[] = ['artifact', 'config', 'image'];

function releaseRepo(db: Db): ReleaseRepo {
  async function withSubjects(rows: Selectable<ReleasesTable>[]): Promise<ReleaseRecord[]> {
    if (rows.length === 0) return [];
    const byId = new Map<string, ReleaseRecord>();
    for (const r of rows) {
      byId.set(r.id, {
        id: r.id,
        service: r.service,
        version: r.version,
        bundle: r.bundle,
        signerKeyId: r.signer_key_id,
        subjects: [],
        pushedBy: r.pushed_by,
        createdAt: r.created_at,
      });
    }
    for (const ids of chunks([...byId.keys()], INSERT_CHUNK)) {
      const subjects = await db
        .selectFrom('release_subjects')
        .selectAll()
        .where('release_id', 'in', ids)
        .orderBy('release_id')
        .orderBy('position')
        .execute();
      for (const s of subjects) {
        byId.get(s.release_id)?.subjects.push({
          name: s.name,
          digest: s.digest,
          kind: decodeEnum(s.kind, subjectKinds, `release_subjects.kind of ${s.release_id}`),
          size: s.size === null ? null : Number(s.size),
        });
      }
    }
    return [...byId.values()];
  }

  return {
    async insert(r) {
      for (const [field, value] of [['id', r.id], ['service', r.service], ['version', r.version], ['signerKeyId', r.signerKeyId], ['pushedBy', r.pushedBy]] as const) {
        checkText(value, `release.${field}`, 512);
      }
      checkText(r.bundle, 'release.bundle', 16 * 1024 * 1024);
      checkTimestamp(r.createdAt, 'release.createdAt');
      r.subjects.forEach((s, i) => {
        checkText(s.name, `release.subjects[${i}].name`, 1024);
        checkText(s.digest, `release.subjects[${i}].digest`, 200);
        if (!subjectKinds.includes(s.kind)) {
          throw new DomainError('invalid_input', `release.subjects[${i}].kind is ${String(s.kind).slice(0, 40)}`, {
            field: `subjects[${i}].kind`,
            fix: `use one of ${subjectKinds.join(', ')}`,
          });
        }
      });
      await atomic(db, async (ex) => {
        const existing = await ex
          .selectFrom('releases')
          .select(['id', 'service', 'version'])
          .where((eb) => eb.or([eb('id', '=', r.id), eb.and([eb('service', '=', r.service), eb('version', '=', r.version)])]))
          .execute();
        for (const e of existing) {
          if (e.id === r.id) {
            throw new DomainError('conflict', `release ${r.id} is already stored as ${e.service}@${e.version}`, {
              fix: 'a release is immutable and pushed once; look it up with releases.get before inserting',
            });
          }
          throw new DomainError('conflict', `${r.service}@${r.version} already exists with digest ${e.id}; this push has digest ${r.id}`, {
            fix: 'releases are immutable: give the new build a new version and push it again',
          });
        }
        const last = await ex.selectFrom('releases').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
        const seq = Number(last?.m ?? 0) + 1;
        try {
          await ex
            .insertInto('releases')
            .values({ id: r.id, seq, service: r.service, version: r.version, bundle: r.bundle, signer_key_id: r.signerKeyId, pushed_by: r.pushedBy, created_at: r.createdAt })
            .execute();
          const rows = r.subjects.map((s, position) => ({ release_id: r.id, position, name: s.name, digest: s.digest, kind: s.kind, size: s.size }));
          for (const part of chunks(rows, INSERT_CHUNK)) await ex.insertInto('release_subjects').values(part).execute();
        } catch (e) {
          if (constraintOf(e) === 'unique') {
            throw new DomainError('conflict', `release ${r.service}@${r.version} (${r.id}) conflicts with a stored release or lists a subject name twice`, {
              fix: 'push each release once, with unique subject names',
            });
          }
          throw e;
        }
      });
    },
    async get(id) {
      const rows = await db.selectFrom('releases').selectAll().where('id', '=', id).execute();
      return (await withSubjects(rows))[0];
    },
    async findByServiceVersion(service, version) {
      const rows = await db.selectFrom('releases').selectAll().where('service', '=', service).where('version', '=', version).execute();
      return (await withSubjects(rows))[0];
    },
    async list(q) {
      let query = db.selectFrom('releases').selectAll();
      if (q.service !== undefined) query = query.where('service', '=', q.service);
      const rows = await query.orderBy('seq', 'desc').limit(checkLimit(q.limit, 'limit')).execute();
      return withSubjects(rows);
    },
    async count() {
      const row = await db.selectFrom('releases').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}

function toPromotion(r: Selectable<PromotionsTable>): PromotionRecord {
  const where = `promotions row ${r.id}`;
  const state = decodeEnum(r.state, promotionStates, `${where} state`);
  return {
    id: r.id,
    seq: Number(r.seq),
    service: r.service,
    version: r.version,
    releaseId: r.release_id,
    environment: r.environment,
    state,
    requestedBy: r.requested_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    stateChangedAt: r.state_changed_at,
    gates: decodeGates(r.gates, `${where} gates`),
    message: r.message,
    succeededAt: r.succeeded_at,
  };
}

function promotionRepo(db: Db): PromotionRepo {
  return {
    async insert(p) {
      checkText(p.id, 'promotion.id', 512);
      checkState(p.state, 'promotion.state');
      for (const f of ['createdAt', 'updatedAt', 'stateChangedAt'] as const) checkTimestamp(p[f], `promotion.${f}`);
      if (p.succeededAt !== null) checkTimestamp(p.succeededAt, 'promotion.succeededAt');
      const gates = encodeGates(p.gates, 'promotion.gates');
      return atomic(db, async (ex) => {
        const last = await ex.selectFrom('promotions').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
        const seq = Number(last?.m ?? 0) + 1;
        try {
          await ex
            .insertInto('promotions')
            .values({
              id: p.id, seq, service: p.service, version: p.version, release_id: p.releaseId, environment: p.environment,
              state: p.state, requested_by: p.requestedBy, created_at: p.createdAt, updated_at: p.updatedAt,
              state_changed_at: p.stateChangedAt, gates, message: p.message, succeeded_at: p.succeededAt,
            })
            .execute();
        } catch (e) {
          const c = constraintOf(e);
          if (c === 'unique') {
            throw new DomainError('conflict', `promotion ${p.id} already exists`, { fix: 'give each promotion a new id' });
          }
          if (c === 'foreign_key') {
            throw new DomainError('not_found', `promotion ${p.id} names release ${p.releaseId}, which is not stored`, {
              field: 'releaseId',
              fix: 'push the release first, then request its promotion',
            });
          }
          throw e;
        }
        return seq;
      });
    },
    async get(id) {
      const row = await db.selectFrom('promotions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPromotion(row);
    },
    async update(id, expectState, patch) {
      checkState(expectState, 'expectState');
      const set: Partial<Omit<PromotionsTable, 'id' | 'seq'>> = {};
      if (patch.state !== undefined) set.state = checkState(patch.state, 'patch.state');
      if (patch.updatedAt !== undefined) set.updated_at = checkTimestamp(patch.updatedAt, 'patch.updatedAt');
      if (patch.stateChangedAt !== undefined) set.state_changed_at = checkTimestamp(patch.stateChangedAt, 'patch.stateChangedAt');
      if (patch.gates !== undefined) set.gates = encodeGates(patch.gates, 'patch.gates');
      if (patch.message !== undefined) set.message = patch.message === null ? null : checkText(patch.message, 'patch.message', 16_000);
      if (patch.succeededAt !== undefined) {
        set.succeeded_at = patch.succeededAt === null ? null : checkTimestamp(patch.succeededAt, 'patch.succeededAt');
      }
      // one conditional UPDATE: the transition happens at most once
      const res = await db
        .updateTable('promotions')
        .set(Object.keys(set).length > 0 ? set : (eb) => ({ state: eb.ref('state') }))
        .where('id', '=', id)
        .where('state', '=', expectState)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async list(q) {
      const limit = q.limit === undefined ? MAX_LIST_LIMIT : checkLimit(q.limit, 'limit');
      if (q.states !== undefined && q.states.length === 0) return [];
      let query = db.selectFrom('promotions').selectAll();
      if (q.service !== undefined) query = query.where('service', '=', q.service);
      if (q.environment !== undefined) query = query.where('environment', '=', q.environment);
      if (q.states !== undefined) query = query.where('state', 'in', q.states.map((s) => checkState(s, 'states')));
      const rows = await query.orderBy('seq', q.newestFirst ? 'desc' : 'asc').limit(limit).execute();
      return rows.map(toPromotion);
    },
  };
}

const stepStatuses: readonly StepRecord['status'][] = ['running', 'succeeded', 'failed'];

function stepRepo(db: Db): StepRepo {
  const get = async (promotionId: string, step: string): Promise<StepRecord | undefined> => {
    const r = await db.selectFrom('steps').selectAll().where('promotion_id', '=', promotionId).where('step', '=', step).executeTakeFirst();
    if (!r) return undefined;
    const status = decodeEnum(r.status, stepStatuses, `steps row ${promotionId}/${step} status`);
    return { promotionId, step, status, data: r.data, startedAt: r.started_at, finishedAt: r.finished_at, message: r.message };
  };
  return {
    async start(s) {
      checkText(s.step, 'step.step', 200);
      checkText(s.data, 'step.data', 1024 * 1024);
      checkTimestamp(s.startedAt, 'step.startedAt');
      try {
        const res = await db
          .insertInto('steps')
          .values({ promotion_id: s.promotionId, step: s.step, status: 'running', data: s.data, started_at: s.startedAt, finished_at: null, message: null })
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
    async finish(promotionId, step, outcome) {
      decodeEnum(outcome.status, ['succeeded', 'failed'] as const, 'outcome.status');
      checkTimestamp(outcome.finishedAt, 'outcome.finishedAt');
      checkText(outcome.message, 'outcome.message', 16_000);
      const res = await db
        .updateTable('steps')
        .set({ status: outcome.status, finished_at: outcome.finishedAt, message: outcome.message })
        .where('promotion_id', '=', promotionId)
        .where('step', '=', step)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) return;
      const current = await get(promotionId, step);
      if (!current) {
        throw new DomainError('not_found', `step ${step} of promotion ${promotionId} was never started`, { fix: 'call steps.start before steps.finish' });
      }
      throw new DomainError('conflict', `step ${step} of promotion ${promotionId} already finished (${current.status})`, {
        fix: 'a step runs at most once; read its outcome with steps.get',
      });
    },
  };
}

function tokenRepo(db: Db): TokenRepo {
  const toToken = (r: Selectable<Database['tokens']>): TokenRecord => ({
    id: r.id, name: r.name, secretHash: r.secret_hash, actor: r.actor, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at,
  });
  return {
    async insert(t) {
      for (const f of ['id', 'name', 'secretHash', 'actor', 'role'] as const) checkText(t[f], `token.${f}`, 512);
      checkTimestamp(t.createdAt, 'token.createdAt');
      if (t.revokedAt !== null) checkTimestamp(t.revokedAt, 'token.revokedAt');
      try {
        await db
          .insertInto('tokens')
          .values({ id: t.id, name: t.name, secret_hash: t.secretHash, actor: t.actor, role: t.role, created_at: t.createdAt, revoked_at: t.revokedAt })
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
      const res = await db.updateTable('tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}
