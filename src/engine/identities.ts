/**
 * Identities managed through the API, next to those declared in stagegate.yaml: users, groups
 * (nested) and service accounts. The project file's entries are read-only here (change them in the
 * file); API-managed ones live in the store. Every change is validated against the merged set (no
 * unknown members, no group cycles) before it is written, and audited.
 */
import { z } from 'zod';
import { checkIdentities, type Identities, identitiesSchema } from '../auth/identity-schema.ts';
import { DomainError } from '../domain/errors.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { projectResource } from './guard.ts';

const KEY = 'identities.managed';
export const identityKinds = ['users', 'groups', 'serviceAccounts'] as const;
export type IdentityKind = (typeof identityKinds)[number];
type Managed = Pick<Identities, IdentityKind>;
const managedSchema = identitiesSchema.omit({ oidc: true });

/** the merged identities every principal is resolved with; replaced when the managed ones change */
export function createIdentityHolder(project: Identities | undefined) {
  let managed: Managed = {};
  let merged = project;
  const merge = (m: Managed): Identities | undefined => {
    if (!project && !m.users?.length && !m.groups?.length && !m.serviceAccounts?.length) return undefined;
    return {
      ...project,
      users: [...(project?.users ?? []), ...(m.users ?? [])],
      groups: [...(project?.groups ?? []), ...(m.groups ?? [])],
      serviceAccounts: [...(project?.serviceAccounts ?? []), ...(m.serviceAccounts ?? [])],
    };
  };
  return {
    current: () => merged,
    managed: () => managed,
    project: () => project,
    merge,
    set(m: Managed) {
      managed = m;
      merged = merge(m);
    },
  };
}
export type IdentityHolder = ReturnType<typeof createIdentityHolder>;

export function createIdentityAdmin(deps: Pick<EngineDeps, 'store' | 'project'> & { identities: IdentityHolder }, audit: AuditWriter) {
  const holder = deps.identities;

  async function load(): Promise<void> {
    const text = await deps.store.read.meta.get(KEY);
    const r = text === undefined ? { success: true as const, data: {} } : managedSchema.safeParse(JSON.parse(text));
    if (!r.success) throw new DomainError('internal', 'the stored API-managed identities are damaged', { fix: 'restore the database from a backup' });
    holder.set(r.data);
  }

  async function change(ctx: RequestContext, kind: IdentityKind, name: string, entry: Record<string, unknown> | undefined) {
    await audit.guard(ctx, 'identity.manage', projectResource(deps.project));
    const subject = `identity:${kind}/${name}`;
    const refuse = async (e: DomainError): Promise<never> => {
      await audit.denied(ctx, { action: 'identity.manage', subject, details: { reason: e.message } });
      throw e;
    };
    if ((holder.project()?.[kind] ?? []).some((x) => x.name === name)) {
      return refuse(new DomainError('conflict', `${kind} ${name} is declared in stagegate.yaml`, { fix: 'change it in the project file; the API manages only identities the file does not declare' }));
    }
    const current = holder.managed();
    const others = (current[kind] ?? []).filter((x) => x.name !== name);
    if (!entry && others.length === (current[kind] ?? []).length) return refuse(new DomainError('not_found', `no API-managed ${kind} ${name}`, { fix: 'list identities with `stagegate identity list`' }));
    const parsed = managedSchema.safeParse({ ...current, [kind]: entry ? [...others, { ...entry, name }] : others });
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return refuse(new DomainError('invalid_input', `${kind} ${name}: ${i?.path.slice(2).join('.') || 'entry'}: ${i?.message ?? 'invalid'}`, { field: i?.path.slice(2).join('.'), fix: 'see docs/identities.md for the fields' }));
    }
    try {
      const merged = holder.merge(parsed.data);
      if (merged) checkIdentities(merged);
    } catch (e) {
      if (e instanceof DomainError) return refuse(e);
      throw e;
    }
    await deps.store.transaction(async (tx) => {
      await tx.meta.set(KEY, JSON.stringify(parsed.data));
      await audit.record(tx, ctx, { action: entry ? 'identity.put' : 'identity.delete', outcome: 'succeeded', subject, details: entry ? JSON.parse(JSON.stringify(entry)) : {} });
    });
    holder.set(parsed.data);
    return { kind, name, ...(entry ? { entry } : { deleted: true }) };
  }

  async function list(ctx: RequestContext) {
    await audit.guard(ctx, 'identity.read', projectResource(deps.project));
    const { oidc: _o, ...project } = holder.project() ?? {};
    return { project, managed: holder.managed() };
  }

  return {
    load,
    put: (ctx: RequestContext, kind: IdentityKind, name: string, entry: Record<string, unknown>) => change(ctx, kind, name, entry),
    remove: (ctx: RequestContext, kind: IdentityKind, name: string) => change(ctx, kind, name, undefined),
    list,
  };
}

export const identityEntryBody = z.record(z.string(), z.unknown());
