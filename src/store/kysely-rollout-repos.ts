/** The rollout repository: one row per promotion with the progress of its traffic strategy (table of 0005-rollouts). */
import type { Kysely, Selectable } from 'kysely';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE, VERSION_RE } from '../domain/ids.ts';
import type { Database } from './schema.ts';
import { type RolloutRecord, type RolloutRepo, rolloutCommands, rolloutPhases, rolloutStrategies } from './rollout-records.ts';
import { checkText, checkTimestamp, constraintOf, corrupt, decodeEnum } from './store-checks.ts';

export interface RolloutsTable {
  promotion_id: string;
  service: string;
  environment: string;
  strategy: string;
  canary_version: string;
  canary_release_id: string;
  stable_version: string | null;
  stable_release_id: string | null;
  stable_promotion_id: string | null;
  phase: string;
  step_index: number;
  step_started_at: string;
  weight: number;
  message: string;
  pause_reason: string | null;
  command: string | null;
  command_by: string | null;
  analysis: string;
  created_at: string;
  updated_at: string;
}

export type RolloutTables = {
  rollouts: RolloutsTable;
};

type Db = Kysely<Database & RolloutTables>;

/** bounds of the values a rollout row holds */
export const ROLLOUT_LIMITS = { id: 200, actor: 200, message: 2000, analysis: 64 * 1024, stepIndex: 1000, list: 1000 } as const;

function checkName(v: unknown, field: string): string {
  if (typeof v !== 'string' || !NAME_RE.test(v)) throw new DomainError('invalid_input', `${field} ${String(v).slice(0, 64)} is not a name`, { field, fix: 'use lowercase letters, digits and dashes, starting with a letter (at most 63)' });
  return v;
}

function checkVersionText(v: unknown, field: string): string {
  if (typeof v !== 'string' || !VERSION_RE.test(v)) throw new DomainError('invalid_input', `${field} ${String(v).slice(0, 64)} is not a release version`, { field, fix: 'pass the release version, e.g. 1.4.2 (at most 128 characters)' });
  return v;
}

function checkId(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > ROLLOUT_LIMITS.id) throw new DomainError('invalid_input', `${field} must be a non-empty string of at most ${ROLLOUT_LIMITS.id} characters`, { field, fix: `pass the stored ${field}` });
  return v;
}

function checkInt(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new DomainError('invalid_input', `${field} must be a whole number from 0 to ${max}, got ${String(v).slice(0, 40)}`, { field, fix: `pass an integer 0..${max} as ${field}` });
  return v;
}

function checkOneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly unknown[]).includes(v)) throw new DomainError('invalid_input', `${field} must be one of ${allowed.join(', ')}, got ${String(v).slice(0, 40)}`, { field, fix: `use one of ${allowed.join(', ')}` });
  return v as T;
}

function checkAnalysis(v: unknown): string {
  const text = checkText(v, 'analysis', ROLLOUT_LIMITS.analysis);
  try {
    JSON.parse(text);
  } catch {
    throw new DomainError('invalid_input', 'analysis is not JSON text', { field: 'analysis', fix: 'pass JSON.stringify of the analysis runs' });
  }
  return text;
}

const nullable = <T>(v: T | null, check: (v: T) => T): T | null => (v === null ? null : check(v));

function decodeInt(v: unknown, max: number, where: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw corrupt(where, `${String(v).slice(0, 40)} is not an integer 0..${max}`);
  return n;
}

function decodeJson(text: string, where: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    throw corrupt(where, `not JSON (${(e as Error).message})`);
  }
  return text;
}

function toRollout(r: Selectable<RolloutsTable>): RolloutRecord {
  const where = `rollouts row ${r.promotion_id}`;
  return {
    promotionId: r.promotion_id,
    service: r.service,
    environment: r.environment,
    strategy: decodeEnum(r.strategy, rolloutStrategies, `${where} strategy`),
    canaryVersion: r.canary_version,
    canaryReleaseId: r.canary_release_id,
    stableVersion: r.stable_version,
    stableReleaseId: r.stable_release_id,
    stablePromotionId: r.stable_promotion_id,
    phase: decodeEnum(r.phase, rolloutPhases, `${where} phase`),
    stepIndex: decodeInt(r.step_index, ROLLOUT_LIMITS.stepIndex, `${where} step_index`),
    stepStartedAt: r.step_started_at,
    weight: decodeInt(r.weight, 100, `${where} weight`),
    message: r.message,
    pauseReason: r.pause_reason,
    command: r.command === null ? null : decodeEnum(r.command, rolloutCommands, `${where} command`),
    commandBy: r.command_by,
    analysis: decodeJson(r.analysis, `${where} analysis`),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRow(r: RolloutRecord): RolloutsTable {
  return {
    promotion_id: checkId(r.promotionId, 'promotionId'),
    service: checkName(r.service, 'service'),
    environment: checkName(r.environment, 'environment'),
    strategy: checkOneOf(r.strategy, rolloutStrategies, 'strategy'),
    canary_version: checkVersionText(r.canaryVersion, 'canaryVersion'),
    canary_release_id: checkId(r.canaryReleaseId, 'canaryReleaseId'),
    stable_version: nullable(r.stableVersion, (v) => checkVersionText(v, 'stableVersion')),
    stable_release_id: nullable(r.stableReleaseId, (v) => checkId(v, 'stableReleaseId')),
    stable_promotion_id: nullable(r.stablePromotionId, (v) => checkId(v, 'stablePromotionId')),
    phase: checkOneOf(r.phase, rolloutPhases, 'phase'),
    step_index: checkInt(r.stepIndex, 'stepIndex', ROLLOUT_LIMITS.stepIndex),
    step_started_at: checkTimestamp(r.stepStartedAt, 'stepStartedAt'),
    weight: checkInt(r.weight, 'weight', 100),
    message: checkText(r.message, 'message', ROLLOUT_LIMITS.message),
    pause_reason: nullable(r.pauseReason, (v) => checkText(v, 'pauseReason', ROLLOUT_LIMITS.message)),
    command: nullable(r.command, (v) => checkOneOf(v, rolloutCommands, 'command')),
    command_by: nullable(r.commandBy, (v) => checkText(v, 'commandBy', ROLLOUT_LIMITS.actor)),
    analysis: checkAnalysis(r.analysis),
    created_at: checkTimestamp(r.createdAt, 'createdAt'),
    updated_at: checkTimestamp(r.updatedAt, 'updatedAt'),
  };
}

function checkListLimit(v: unknown): number {
  const max = ROLLOUT_LIMITS.list;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw new DomainError('invalid_input', `limit must be an integer from 1 to ${max}, got ${String(v).slice(0, 40)}`, { field: 'limit', fix: `page through rollouts with a limit of at most ${max}` });
  return v;
}

export function rolloutRepo(base: Kysely<Database>): RolloutRepo {
  const db = base.withTables<RolloutTables>() as unknown as Db;
  return {
    async insert(r) {
      const row = toRow(r);
      await db
        .insertInto('rollouts')
        .values(row)
        .execute()
        .catch((e: unknown) => {
          if (constraintOf(e) === 'unique') throw new DomainError('conflict', `promotion ${r.promotionId} already has a rollout`, { field: 'promotionId', fix: 'update the stored rollout instead of inserting another' });
          throw e;
        });
    },
    async get(promotionId) {
      const r = await db.selectFrom('rollouts').selectAll().where('promotion_id', '=', promotionId).executeTakeFirst();
      return r && toRollout(r);
    },
    async update(promotionId, expect, patch) {
      const expected = checkTimestamp(expect?.updatedAt, 'expect.updatedAt');
      const set: Partial<RolloutsTable> = {};
      if (patch.phase !== undefined) set.phase = checkOneOf(patch.phase, rolloutPhases, 'phase');
      if (patch.stepIndex !== undefined) set.step_index = checkInt(patch.stepIndex, 'stepIndex', ROLLOUT_LIMITS.stepIndex);
      if (patch.stepStartedAt !== undefined) set.step_started_at = checkTimestamp(patch.stepStartedAt, 'stepStartedAt');
      if (patch.weight !== undefined) set.weight = checkInt(patch.weight, 'weight', 100);
      if (patch.message !== undefined) set.message = checkText(patch.message, 'message', ROLLOUT_LIMITS.message);
      if (patch.pauseReason !== undefined) set.pause_reason = nullable(patch.pauseReason, (v) => checkText(v, 'pauseReason', ROLLOUT_LIMITS.message));
      if (patch.command !== undefined) set.command = nullable(patch.command, (v) => checkOneOf(v, rolloutCommands, 'command'));
      if (patch.commandBy !== undefined) set.command_by = nullable(patch.commandBy, (v) => checkText(v, 'commandBy', ROLLOUT_LIMITS.actor));
      if (patch.analysis !== undefined) set.analysis = checkAnalysis(patch.analysis);
      if (patch.updatedAt !== undefined) set.updated_at = checkTimestamp(patch.updatedAt, 'updatedAt');
      if (Object.keys(set).length === 0) throw new DomainError('invalid_input', `the patch for rollout ${String(promotionId).slice(0, 64)} is empty: it changes nothing`, { field: 'patch', fix: 'pass at least one field to change' });
      // one conditional UPDATE: of two writers that read the same updatedAt, only the first lands
      const res = await db.updateTable('rollouts').set(set).where('promotion_id', '=', promotionId).where('updated_at', '=', expected).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
    async list(q) {
      const limit = checkListLimit(q.limit);
      let query = db.selectFrom('rollouts').selectAll();
      if (q.service !== undefined) query = query.where('service', '=', checkName(q.service, 'service'));
      if (q.environment !== undefined) query = query.where('environment', '=', checkName(q.environment, 'environment'));
      if (q.phases !== undefined) {
        if (q.phases.length === 0) return [];
        query = query.where('phase', 'in', q.phases.map((p) => checkOneOf(p, rolloutPhases, 'phases')));
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('promotion_id', 'desc').limit(limit).execute();
      return rows.map(toRollout);
    },
  };
}
