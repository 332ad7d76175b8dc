/**
 * The repositories over a Kysely instance: the main instance (reads and single writes) or a
 * transaction. Portable SQL only (no SQLite-only functions), so PostgreSQL can reuse this file.
 * Multi-statement writes run in their own transaction when not already inside one.
 */
import { flagRepo } from './kysely-flag-repos.ts';
import { rolloutRepo } from './kysely-rollout-repos.ts';
import { approvalRepo, breakGlassRepo, elevationRepo, revocationRepo } from './kysely-access-repos.ts';
import type { Kysely, Selectable } from 'kysely';
import { DomainError } from '../domain/errors.ts';
import { promotionStates } from '../domain/promotion.ts';
import type { PromotionRecord, PromotionRepo, ReleaseRecord, ReleaseRepo, Repos, SubjectKind } from './store.ts';
import type { Database, PromotionsTable, ReleasesTable } from './schema.ts';
import { auditRepo, metaRepo } from './kysely-audit-repo.ts';
import { stepRepo, tokenRepo } from './kysely-step-token-repos.ts';
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
    flags: flagRepo(db),
    rollouts: rolloutRepo(db),
    releases: releaseRepo(db),
    promotions: promotionRepo(db),
    steps: stepRepo(db),
    tokens: tokenRepo(db),
    approvals: approvalRepo(db),
    elevations: elevationRepo(db),
    breakGlass: breakGlassRepo(db),
    revocations: revocationRepo(db),
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
      for (const field of ['id', 'service', 'version', 'signerKeyId', 'pushedBy'] as const) {
        checkText(r[field], `release.${field}`, 512);
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
          .where((eb) =>
            eb.or([eb('id', '=', r.id), eb.and([eb('service', '=', r.service), eb('version', '=', r.version)])]),
          )
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
            .values({
              id: r.id,
              seq,
              service: r.service,
              version: r.version,
              bundle: r.bundle,
              signer_key_id: r.signerKeyId,
              pushed_by: r.pushedBy,
              created_at: r.createdAt,
            })
            .execute();
          const rows = r.subjects.map((s, position) => ({
            release_id: r.id,
            position,
            name: s.name,
            digest: s.digest,
            kind: s.kind,
            size: s.size,
          }));
          for (const part of chunks(rows, INSERT_CHUNK)) {
            await ex.insertInto('release_subjects').values(part).execute();
          }
        } catch (e) {
          if (constraintOf(e) === 'unique') {
            throw new DomainError(
              'conflict',
              `release ${r.service}@${r.version} (${r.id}) conflicts with a stored release or lists a subject name twice`,
              { fix: 'push each release once, with unique subject names' },
            );
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
      const rows = await db
        .selectFrom('releases')
        .selectAll()
        .where('service', '=', service)
        .where('version', '=', version)
        .execute();
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
      for (const f of ['id', 'service', 'version', 'releaseId', 'environment', 'requestedBy'] as const) {
        checkText(p[f], `promotion.${f}`, 512);
      }
      if (p.message !== null) checkText(p.message, 'promotion.message', 16_000);
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
              id: p.id,
              seq,
              service: p.service,
              version: p.version,
              release_id: p.releaseId,
              environment: p.environment,
              state: p.state,
              requested_by: p.requestedBy,
              created_at: p.createdAt,
              updated_at: p.updatedAt,
              state_changed_at: p.stateChangedAt,
              gates,
              message: p.message,
              succeeded_at: p.succeededAt,
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
      if (q.releaseId !== undefined) query = query.where('release_id', '=', q.releaseId);
      if (q.states !== undefined) query = query.where('state', 'in', q.states.map((s) => checkState(s, 'states')));
      const rows = await query.orderBy('seq', q.newestFirst ? 'desc' : 'asc').limit(limit).execute();
      return rows.map(toPromotion);
    },
  };
}
