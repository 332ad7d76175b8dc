/**
 * Use-cases: read an environment's flags and history, and propose a change (a draft change request).
 * A draft is a complete new flag set or an RFC 6902 patch against the current version; either way
 * the result must pass flagd's schema before anything is stored, and the draft with its audit entry
 * commits in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { JsonValue } from '../domain/audit.ts';
import type { AuditWriter } from '../engine/audit-writer.ts';
import type { EngineDeps, RequestContext } from '../engine/deps.ts';
import type { FlagChangeRecord, FlagChangeState } from '../store/store.ts';
import { changeView, flagApprovalState } from './change-view.ts';
import { currentFlags, environmentOf, flagResource } from './current.ts';
import { flagSetDigest, validateFlagSet } from './flag-set.ts';
import { applyFlagPatch, diffFlagSets, MAX_PATCH_CHARS, parsePatch, type PatchOp } from './patch.ts';

export type FlagDeps = Pick<EngineDeps, 'store' | 'project' | 'clock'>;

export interface ChangeInput {
  /** an RFC 6902 patch against the current version */
  patch?: unknown;
  /** or the complete new flag set */
  flags?: unknown;
  reason: string;
}

export const changeIdRe = /^flc_[a-f0-9]{16}$/;

export function createFlagReads(deps: FlagDeps, audit: AuditWriter) {
  async function show(ctx: RequestContext, environment: string) {
    await audit.guard(ctx, 'flag.read', flagResource(deps.project, environment));
    return currentFlags(deps.store.read.flags, environment);
  }

  async function history(ctx: RequestContext, environment: string, limit = 50) {
    await audit.guard(ctx, 'flag.read', flagResource(deps.project, environment));
    const versions = await deps.store.read.flags.history(environment, limit);
    return versions.map((v) => ({ version: v.version, digest: v.digest, createdBy: v.createdBy, createdAt: v.createdAt, changeId: v.changeId }));
  }

  async function listChanges(ctx: RequestContext, environment: string, states?: readonly FlagChangeState[]) {
    const env = environmentOf(deps.project, environment);
    await audit.guard(ctx, 'flag.read', flagResource(deps.project, environment));
    const list = await deps.store.read.flags.listChanges({ environment, ...(states ? { states } : {}), limit: 200 });
    return list.map((c) => changeView(c, flagApprovalState(env, c, deps.clock())));
  }

  /** with `environment` (the route's), authorize on it first; by id alone, authorize on the change's */
  async function getChange(ctx: RequestContext, id: string, environment?: string) {
    if (environment !== undefined) await audit.guard(ctx, 'flag.read', flagResource(deps.project, environment));
    const c = await deps.store.read.flags.getChange(id);
    if (!c || (environment !== undefined && c.environment !== environment)) throw new DomainError('not_found', `flag change ${id.slice(0, 40)} does not exist`, { fix: 'list changes with `stagegate flags changes ENV`' });
    if (environment === undefined) await audit.guard(ctx, 'flag.read', flagResource(deps.project, c.environment));
    return changeView(c, flagApprovalState(environmentOf(deps.project, c.environment), c, deps.clock()));
  }

  return { show, history, listChanges, getChange };
}

export function createFlagChange(deps: FlagDeps, audit: AuditWriter) {
  return async function create(ctx: RequestContext, environment: string, input: ChangeInput) {
    const resource = flagResource(deps.project, environment);
    await audit.guard(ctx, 'flag.change', resource);
    const base = await currentFlags(deps.store.read.flags, environment);
    let ops: PatchOp[];
    let result: unknown;
    if ((input.patch === undefined) === (input.flags === undefined)) {
      throw new DomainError('invalid_input', 'a change request needs either "patch" (RFC 6902 operations) or "flags" (the whole new flag set), not both and not neither', { field: 'patch', fix: 'send {"patch": [...], "reason": "..."} or {"flags": {...}, "reason": "..."}' });
    }
    if (input.patch !== undefined) {
      ops = parsePatch(input.patch, `change of ${environment} flags`);
      result = applyFlagPatch(base.flagSet, ops, `change of ${environment} flags (base version ${base.version})`);
    } else {
      result = input.flags;
      ops = [];
    }
    const next = validateFlagSet(result, input.patch !== undefined ? `change request result (base version ${base.version})` : 'request body flags');
    // the applied entry records the diff from the old set to the new one: it must fit an audit entry too
    const diff = diffFlagSets(base.flagSet, next);
    if (JSON.stringify(diff).length > MAX_PATCH_CHARS) throw new DomainError('invalid_input', `the change is over ${MAX_PATCH_CHARS} characters as a patch`, { field: input.flags !== undefined ? '/flags' : '/patch', fix: 'split the change into smaller change requests' });
    if (input.flags !== undefined) ops = diff;
    const resultDigest = flagSetDigest(next);
    if (resultDigest === base.digest) {
      throw new DomainError('invalid_input', `the change leaves the ${environment} flag set as it is (version ${base.version})`, { field: input.patch !== undefined ? '/patch' : '/flags', fix: 'change at least one flag' });
    }
    const now = deps.clock().toISOString();
    const record: FlagChangeRecord = {
      id: `flc_${randomBytes(8).toString('hex')}`,
      environment,
      baseVersion: base.version,
      patch: JSON.stringify(ops),
      resultDigest,
      reason: input.reason,
      state: 'draft',
      author: ctx.actor,
      approvals: [],
      createdAt: now,
      updatedAt: now,
      appliedVersion: null,
    };
    await deps.store.transaction(async (tx) => {
      await tx.flags.insertChange(record);
      await audit.record(tx, ctx, {
        action: 'flag.change',
        outcome: 'succeeded',
        subject: `flag-change:${record.id}`,
        details: { environment, baseVersion: base.version, baseDigest: base.digest, resultDigest, reason: input.reason, patch: ops as unknown as JsonValue },
      });
    });
    return changeView(record, flagApprovalState(environmentOf(deps.project, environment), record, deps.clock()));
  };
}
