/** The flag repository: flag-set versions per environment and change requests (tables of 0004-flags). */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import type { Database } from './schema.ts';
import { type FlagApprovalRecord, type FlagChangeRecord, type FlagChangeState, type FlagRepo, type FlagVersionRecord, flagChangeStates } from './store.ts';
import { checkLimit, checkText, checkTimestamp, constraintOf, corrupt, decodeEnum } from './store-checks.ts';

export interface FlagVersionsTable {
  environment: string;
  version: number;
  flag_set: string;
  digest: string;
  created_by: string;
  created_at: string;
  change_id: string | null;
}

export interface FlagChangesTable {
  id: string;
  environment: string;
  base_version: number;
  patch: string;
  result_digest: string;
  reason: string;
  state: string;
  author: string;
  approvals: string;
  created_at: string;
  updated_at: string;
  applied_version: number | null;
}

export type FlagTables = {
  flag_versions: FlagVersionsTable;
  flag_changes: FlagChangesTable;
};

type Db = Kysely<Database & FlagTables>;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const approvalsSchema = z
  .array(
    z.strictObject({
      approver: z.string().max(200),
      groups: z.array(z.string().max(200)).max(100),
      decision: z.enum(['approve', 'reject']),
      comment: z.string().max(2000),
      at: z.string().max(40),
    }),
  )
  .max(100);

function encodeApprovals(a: FlagApprovalRecord[]): string {
  const r = approvalsSchema.safeParse(a);
  if (!r.success) throw new DomainError('invalid_input', 'flag change approvals must be at most 100 decisions with bounded fields', { field: 'approvals', fix: 'shorten the comment or groups' });
  return JSON.stringify(r.data);
}

function decodeApprovals(text: string, where: string): FlagApprovalRecord[] {
  try {
    const r = approvalsSchema.safeParse(JSON.parse(text));
    if (r.success) return r.data;
  } catch {
    // fall through
  }
  throw corrupt(where, 'a JSON list of flag approvals');
}

function checkEnv(env: unknown): string {
  if (typeof env !== 'string' || !NAME_RE.test(env)) throw new DomainError('invalid_input', `environment ${String(env).slice(0, 64)} is not an environment name`, { field: 'environment', fix: 'use lowercase letters, digits and dashes' });
  return env;
}

function checkVersion(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new DomainError('invalid_input', `${field} must be a whole number >= 0`, { field, fix: 'pass a version number' });
  return v;
}

function checkDigest(d: unknown, field: string): string {
  if (typeof d !== 'string' || !DIGEST_RE.test(d)) throw new DomainError('invalid_input', `${field} must be sha256:<64 hex>`, { field, fix: 'pass the digest of the canonical flag set' });
  return d;
}

const toVersion = (r: Selectable<FlagVersionsTable>): FlagVersionRecord => ({
  environment: r.environment,
  version: Number(r.version),
  flagSet: r.flag_set,
  digest: r.digest,
  createdBy: r.created_by,
  createdAt: r.created_at,
  changeId: r.change_id,
});

const toChange = (r: Selectable<FlagChangesTable>): FlagChangeRecord => ({
  id: r.id,
  environment: r.environment,
  baseVersion: Number(r.base_version),
  patch: r.patch,
  resultDigest: r.result_digest,
  reason: r.reason,
  state: decodeEnum(r.state, flagChangeStates, `flag_changes row ${r.id} state`),
  author: r.author,
  approvals: decodeApprovals(r.approvals, `flag_changes row ${r.id} approvals`),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  appliedVersion: r.applied_version === null ? null : Number(r.applied_version),
});

function checkState(s: unknown): FlagChangeState {
  if (!(flagChangeStates as readonly unknown[]).includes(s)) throw new DomainError('invalid_input', `flag change state must be one of ${flagChangeStates.join(', ')}`, { field: 'state', fix: `use one of ${flagChangeStates.join(', ')}` });
  return s as FlagChangeState;
}

export function flagRepo(base: Kysely<Database>): FlagRepo {
  const db = base.withTables<FlagTables>() as unknown as Db;
  return {
    async insertVersion(v) {
      checkEnv(v.environment);
      checkVersion(v.version, 'version');
      checkText(v.flagSet, 'flagSet', 1024 * 1024);
      checkDigest(v.digest, 'digest');
      checkText(v.createdBy, 'createdBy', 200);
      checkTimestamp(v.createdAt, 'createdAt');
      await db
        .insertInto('flag_versions')
        .values({ environment: v.environment, version: v.version, flag_set: v.flagSet, digest: v.digest, created_by: v.createdBy, created_at: v.createdAt, change_id: v.changeId })
        .execute()
        .catch((e: unknown) => {
          if (constraintOf(e) === 'unique') throw new DomainError('conflict', `flag set version ${v.version} of ${v.environment} already exists`, { fix: 'rebase on the current version and try again' });
          throw e;
        });
    },
    async latest(environment) {
      const r = await db.selectFrom('flag_versions').selectAll().where('environment', '=', environment).orderBy('version', 'desc').limit(1).executeTakeFirst();
      return r && toVersion(r);
    },
    async getVersion(environment, version) {
      const r = await db.selectFrom('flag_versions').selectAll().where('environment', '=', environment).where('version', '=', version).executeTakeFirst();
      return r && toVersion(r);
    },
    async history(environment, limit) {
      const rows = await db.selectFrom('flag_versions').selectAll().where('environment', '=', environment).orderBy('version', 'desc').limit(checkLimit(limit, 'limit')).execute();
      return rows.map(toVersion);
    },
    async insertChange(c) {
      checkEnv(c.environment);
      checkVersion(c.baseVersion, 'baseVersion');
      checkText(c.patch, 'patch', 64 * 1024);
      checkDigest(c.resultDigest, 'resultDigest');
      checkText(c.reason, 'reason', 1000);
      checkText(c.author, 'author', 200);
      checkTimestamp(c.createdAt, 'createdAt');
      checkTimestamp(c.updatedAt, 'updatedAt');
      await db
        .insertInto('flag_changes')
        .values({
          id: c.id,
          environment: c.environment,
          base_version: c.baseVersion,
          patch: c.patch,
          result_digest: c.resultDigest,
          reason: c.reason,
          state: checkState(c.state),
          author: c.author,
          approvals: encodeApprovals(c.approvals),
          created_at: c.createdAt,
          updated_at: c.updatedAt,
          applied_version: c.appliedVersion,
        })
        .execute()
        .catch((e: unknown) => {
          if (constraintOf(e) === 'unique') throw new DomainError('conflict', `flag change ${c.id} already exists`, { fix: 'use a new random id' });
          throw e;
        });
    },
    async getChange(id) {
      const r = await db.selectFrom('flag_changes').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toChange(r);
    },
    async updateChange(id, expectState, patch) {
      const set: Partial<FlagChangesTable> = {};
      if (patch.state !== undefined) set.state = checkState(patch.state);
      if (patch.approvals !== undefined) set.approvals = encodeApprovals(patch.approvals);
      if (patch.updatedAt !== undefined) set.updated_at = checkTimestamp(patch.updatedAt, 'updatedAt');
      if (patch.appliedVersion !== undefined) set.applied_version = patch.appliedVersion === null ? null : checkVersion(patch.appliedVersion, 'appliedVersion');
      if (Object.keys(set).length === 0) return false;
      const res = await db.updateTable('flag_changes').set(set).where('id', '=', id).where('state', '=', expectState).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async listChanges(q) {
      let query = db.selectFrom('flag_changes').selectAll();
      if (q.environment !== undefined) query = query.where('environment', '=', q.environment);
      if (q.states && q.states.length > 0) query = query.where('state', 'in', [...q.states]);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(checkLimit(q.limit, 'limit')).execute();
      return rows.map(toChange);
    },
  };
}
