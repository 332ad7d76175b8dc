/**
 * Just-in-time elevation: a person asks for a role for N minutes with a reason; another person
 * approves (or denies) it; from approval it counts as held (resolveActor adds active, unexpired
 * elevations to a principal's roles) and it expires by itself. Every step is an audit entry.
 */
import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { Identities } from '../auth/identity-schema.ts';
import { defaultRoles } from '../policy/principal.ts';
import type { Project } from '../project/schema.ts';
import type { ElevationRecord } from '../store/store.ts';
import type { AuditWriter, Resource } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { projectResource } from './guard.ts';

export const MAX_ELEVATION_MINUTES = 240;
/** a request nobody decided within this time can no longer be approved */
export const ELEVATION_PENDING_TTL_MS = 24 * 60 * 60_000;
export const ELEVATION_ID_RE = /^elv_[a-f0-9]{16}$/;
export const elevationListStatuses = ['pending', 'active', 'expired', 'denied'] as const;
export type ElevationListStatus = (typeof elevationListStatuses)[number];

export interface ElevationRequest {
  role: string;
  minutes: number;
  reason: string;
}

/** what a listing shows: the record and whether it still counts */
export type ElevationView = ElevationRecord & { state: ElevationListStatus };

/** the roles an elevation may name: the default roles and every role the project's identities name */
export function knownRoles(identities: Identities | undefined): string[] {
  const named = new Set<string>(defaultRoles);
  for (const u of identities?.users ?? []) for (const r of u.roles) named.add(r);
  for (const g of identities?.groups ?? []) for (const r of g.roles ?? []) named.add(r);
  for (const s of identities?.serviceAccounts ?? []) for (const r of s.roles) named.add(r);
  for (const o of identities?.oidc ?? []) for (const r of o.roles) named.add(r);
  return [...named].sort();
}

const roleResource = (role: string): Resource => ({ type: 'Role', id: role });

export function stateOf(e: ElevationRecord, now: string): ElevationListStatus {
  if (e.status === 'active') return e.expiresAt !== null && e.expiresAt > now ? 'active' : 'expired';
  return e.status;
}

export function createElevation(deps: Pick<EngineDeps, 'store' | 'clock'> & { project: Pick<Project, 'project' | 'identities'> }, audit: AuditWriter) {
  const roles = knownRoles(deps.project.identities);

  async function request(ctx: RequestContext, req: ElevationRequest): Promise<ElevationRecord> {
    const known = roles.includes(req.role);
    // the guard names the role asked for; an unknown name is decided (and refused below) as Role "unknown"
    await audit.guard(ctx, 'elevation.request', roleResource(known ? req.role : 'unknown'));
    const subject = `role:${req.role.slice(0, 63)}`;
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'elevation.request', subject, details: { reason: e.message } });
      throw e;
    };
    if (!known) {
      return refuse(new DomainError('invalid_input', `role "${req.role.slice(0, 63)}" is not a default role nor one the project's identities name`, { field: 'role', fix: `ask for one of ${roles.join(', ')}` }));
    }
    if (!Number.isInteger(req.minutes) || req.minutes < 1 || req.minutes > MAX_ELEVATION_MINUTES) {
      return refuse(new DomainError('invalid_input', `an elevation of ${req.minutes} minutes is not allowed`, { field: 'minutes', fix: `give 1 to ${MAX_ELEVATION_MINUTES} minutes` }));
    }
    const reason = req.reason.trim();
    if (reason.length < 10 || reason.length > 1000) {
      return refuse(new DomainError('invalid_input', 'an elevation needs a written reason', { field: 'reason', fix: 'say what you need the role for (10 to 1000 characters)' }));
    }
    if (ctx.principal?.roles.includes(req.role)) {
      return refuse(new DomainError('conflict', `${ctx.actor} already holds role ${req.role}`, { field: 'role', fix: 'ask only for a role you do not hold; GET /v1/whoami lists yours' }));
    }
    const record: ElevationRecord = {
      id: `elv_${randomBytes(8).toString('hex')}`,
      principal: ctx.actor,
      role: req.role,
      reason,
      durationMs: req.minutes * 60_000,
      status: 'pending',
      requestedAt: deps.clock().toISOString(),
      decidedBy: null,
      decidedAt: null,
      expiresAt: null,
    };
    await deps.store.transaction(async (tx) => {
      await tx.elevations.insert(record);
      await audit.record(tx, ctx, { action: 'elevation.request', outcome: 'allowed', subject: `elevation:${record.id}`, details: { role: record.role, minutes: req.minutes, reason } });
    });
    return record;
  }

  async function decide(ctx: RequestContext, id: string, decision: 'approve' | 'deny'): Promise<ElevationRecord> {
    const subject = `elevation:${id.slice(0, 40)}`;
    const e = ELEVATION_ID_RE.test(id) ? await deps.store.read.elevations.get(id) : undefined;
    await audit.guard(ctx, 'elevation.approve', roleResource(e?.role ?? 'unknown'));
    const refuse = async (err: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'elevation.approve', subject, details: { decision, reason: err.message } });
      throw err;
    };
    if (!e) return refuse(new DomainError('not_found', `elevation ${id.slice(0, 40)} does not exist`, { fix: 'list pending requests with `stagegate elevation list --pending`' }));
    if (e.principal === ctx.actor) {
      return refuse(new DomainError('forbidden', `${ctx.actor} requested elevation ${id} and cannot also ${decision} it`, { fix: 'another person must decide it' }));
    }
    const now = deps.clock();
    if (e.status === 'pending' && now.getTime() - Date.parse(e.requestedAt) > ELEVATION_PENDING_TTL_MS) {
      return refuse(new DomainError('conflict', `elevation ${id} was requested at ${e.requestedAt} and timed out undecided`, { fix: 'the requester asks again with `stagegate elevate`' }));
    }
    const patch =
      decision === 'approve'
        ? { status: 'active' as const, decidedBy: ctx.actor, decidedAt: now.toISOString(), expiresAt: new Date(now.getTime() + e.durationMs).toISOString() }
        : { status: 'denied' as const, decidedBy: ctx.actor, decidedAt: now.toISOString(), expiresAt: null };
    const done = await deps.store.transaction(async (tx) => {
      const ok = await tx.elevations.decide(id, patch);
      if (ok) {
        await audit.record(tx, ctx, {
          action: 'elevation.approve',
          outcome: 'succeeded',
          subject,
          details: { decision, principal: e.principal, role: e.role, reason: e.reason, expiresAt: patch.expiresAt },
        });
      }
      return ok;
    });
    if (!done) return refuse(new DomainError('conflict', `elevation ${id} is ${e.status}${e.decidedBy ? ` (decided by ${e.decidedBy})` : ''}, not waiting for a decision`, { fix: 'ask again with `stagegate elevate`' }));
    return { ...e, ...patch };
  }

  /**
   * Listing is guarded by identity.read: who holds which role, and why, is identity information
   * (security and admin by default). Requesters see their own request in the answer to their POST
   * and their roles at GET /v1/whoami.
   */
  async function list(ctx: RequestContext, status?: ElevationListStatus): Promise<ElevationView[]> {
    await audit.guard(ctx, 'identity.read', projectResource(deps.project));
    const now = deps.clock().toISOString();
    const stored = status === 'expired' ? 'active' : status;
    const rows = await deps.store.read.elevations.list({ ...(stored ? { status: stored } : {}), limit: 500 });
    return rows.map((e) => ({ ...e, state: stateOf(e, now) })).filter((e) => !status || e.state === status);
  }

  return { request, approve: (ctx: RequestContext, id: string) => decide(ctx, id, 'approve'), deny: (ctx: RequestContext, id: string) => decide(ctx, id, 'deny'), list };
}
export type ElevationUseCases = ReturnType<typeof createElevation>;
