/**
 * One Cedar decision per request. The policy set and schema are parsed once (`preparsePolicySet`,
 * `preparseSchema`) and every request runs `statefulIsAuthorized` on a handful of entities built
 * from the resolved principal (its roles and groups as parents) and the resource.
 *
 * Cedar denies by default without saying why, so a deny with no forbid rule gets a reason here:
 * which roles would have been permitted, found by asking Cedar again with each known role.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { DomainError } from '../../domain/errors.ts';
import type { ResolvedPrincipal } from '../principal.ts';
import { defaultRoles } from '../principal.ts';
import { cedarNamespace, isCedarAction, isResourceType, principalEntityTypes, promotionContextActions, qualified } from './actions.ts';
import type { CedarPolicySet, LoadedPolicy } from './load.ts';

export type AttrValue = string | boolean | number;

export interface AuthzRequest {
  principal: ResolvedPrincipal;
  action: string;
  resource: { type: string; id: string; attrs?: Readonly<Record<string, AttrValue>> };
  context?: Readonly<Record<string, AttrValue>>;
}

export interface AuthzDecision {
  allowed: boolean;
  /** the policies that decided: the permits that allowed, or the forbids that denied (empty for a default deny) */
  policyIds: string[];
  /** plain words: which policy permitted, which forbid rule denied, or which roles would have been permitted */
  reason: string;
  /** evaluation or request errors (a policy that errored is skipped, as Cedar does) */
  errors: string[];
}

export interface CedarAuthorizer {
  /** the first decision is slow (~200 ms); call once before serving */
  warmUp(): void;
  isAuthorized(req: AuthzRequest): AuthzDecision;
  /** the policy set decisions are made with */
  readonly policySet: CedarPolicySet;
}

type EntityJson = cedar.EntityJson;

const uid = (type: string, id: string) => ({ type: qualified(type), id });

function toCedarValue(key: string, v: AttrValue, errors: string[]): cedar.CedarValueJson | undefined {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    errors.push(`${key} = ${v} is not an integer; Cedar numbers are 64-bit integers`);
    return undefined;
  }
  return v;
}

function record(values: Readonly<Record<string, AttrValue>> | undefined, what: string, errors: string[]): Record<string, cedar.CedarValueJson> {
  const out: Record<string, cedar.CedarValueJson> = {};
  for (const [k, v] of Object.entries(values ?? {})) {
    const c = toCedarValue(`${what}.${k}`, v, errors);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** the roles Cedar policies mention (walks the policy JSON for `Stagegate::Role` entity references) */
function rolesIn(policies: readonly LoadedPolicy[]): string[] {
  const roleType = qualified('Role');
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
    } else if (node !== null && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === roleType && typeof o.id === 'string') found.add(o.id);
      for (const v of Object.values(o)) walk(v);
    }
  };
  for (const p of policies) {
    const json = cedar.policyToJson(p.text);
    if (json.type === 'success') walk(json.json);
  }
  return [...found];
}

/**
 * For each action of a schema, its entity and those of the groups it is in (transitively), as
 * Cedar would derive them from the schema: what a request without the schema needs.
 */
function actionHierarchy(schemaText: string): Map<string, EntityJson[]> {
  const out = new Map<string, EntityJson[]>();
  const json = cedar.schemaToJson(schemaText);
  if (json.type === 'failure') return out;
  const actions = json.json[cedarNamespace]?.actions ?? {};
  const entity = (id: string): EntityJson => ({
    uid: uid('Action', id),
    attrs: {},
    parents: (actions[id]?.memberOf ?? []).map((m) => ({ type: m.type ?? qualified('Action'), id: m.id })),
  });
  for (const id of Object.keys(actions)) {
    const seen = new Set<string>([id]);
    const queue = [id];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const m of actions[next]?.memberOf ?? []) {
        if (!seen.has(m.id)) {
          seen.add(m.id);
          queue.push(m.id);
        }
      }
    }
    out.set(id, [...seen].map(entity));
  }
  return out;
}

const list = (xs: readonly string[]): string => `[${xs.join(', ')}]`;

let instances = 0;

export function createCedarAuthorizer(policySet: CedarPolicySet): CedarAuthorizer {
  // one cache slot per authorizer: a reload with new policies never sees the old ones
  const key = `${policySet.digest}#${++instances}`;
  const schemaName = `schema:${key}`;
  const policySetId = `policies:${key}`;
  const staticPolicies: Record<string, string> = {};
  for (const p of policySet.policies) staticPolicies[p.id] = p.text;
  const schemaAnswer = cedar.preparseSchema(schemaName, policySet.schemaText);
  const policyAnswer = cedar.preparsePolicySet(policySetId, { staticPolicies });
  for (const a of [schemaAnswer, policyAnswer]) {
    if (a.type === 'failure') {
      // loadPolicySet already parsed both: this is a broken invariant, not bad input
      throw new DomainError('internal', `cedar preparse failed after validation: ${a.errors.map((e) => e.message).join('; ')}`, {
        fix: 'load policies with loadPolicySet (or buildPolicySet), which validates them first',
      });
    }
  }
  const byId = new Map(policySet.policies.map((p) => [p.id, p]));
  const candidateRoles = [...new Set([...defaultRoles, ...rolesIn(policySet.policies)])].sort((a, b) => {
    const ia = (defaultRoles as readonly string[]).indexOf(a);
    const ib = (defaultRoles as readonly string[]).indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });

  const actionEntities = actionHierarchy(policySet.schemaText);

  /**
   * One Cedar call. `errors` collects request problems (a request with any is denied unevaluated).
   * `probe` skips the schema: only for re-asking a request Cedar has already validated with another
   * principal role set, with the action hierarchy passed as entities instead (several times cheaper).
   */
  function decide(req: AuthzRequest, roles: readonly string[], groups: readonly string[], probe = false): { answer?: cedar.AuthorizationAnswer; errors: string[] } {
    const errors: string[] = [];
    const p = req.principal;
    const principalType = principalEntityTypes[p.kind];
    if (!principalType) errors.push(`unknown principal kind ${JSON.stringify(p.kind)}; expected user, service or workload`);
    if (!isCedarAction(req.action)) errors.push(`unknown action ${JSON.stringify(req.action)}`);
    if (!isResourceType(req.resource.type)) errors.push(`unknown resource type ${JSON.stringify(req.resource.type)}`);
    const attrs = record(req.resource.attrs, 'resource', errors);
    const context = record(req.context, 'context', errors);
    if (isCedarAction(req.action) && promotionContextActions.includes(req.action)) {
      // the promotion context defaults to the promotion's own tier and to no break-glass
      if (context.tier === undefined && typeof attrs.tier === 'string') context.tier = attrs.tier;
      if (context.breakGlass === undefined) context.breakGlass = false;
    }
    if (errors.length > 0 || !principalType) return { errors };
    const principalUid = uid(principalType, p.name);
    const resourceUid = uid(req.resource.type, req.resource.id);
    const entities: EntityJson[] = [
      {
        uid: principalUid,
        attrs: {},
        parents: [...roles.map((r) => uid('Role', r)), ...groups.map((g) => uid('Group', g))],
      },
      ...roles.map((r) => ({ uid: uid('Role', r), attrs: {}, parents: [] })),
      ...groups.map((g) => ({ uid: uid('Group', g), attrs: {}, parents: [] })),
    ];
    const sameAsPrincipal = resourceUid.type === principalUid.type && resourceUid.id === principalUid.id;
    const sameAsParent = (req.resource.type === 'Role' && roles.includes(req.resource.id)) || (req.resource.type === 'Group' && groups.includes(req.resource.id));
    if (!sameAsPrincipal && !sameAsParent) entities.push({ uid: resourceUid, attrs, parents: [] });
    const call = { principal: principalUid, action: uid('Action', req.action), resource: resourceUid, context, preparsedPolicySetId: policySetId };
    const answer = probe
      ? cedar.statefulIsAuthorized({ ...call, validateRequest: false, entities: [...entities, ...(actionEntities.get(req.action) ?? [])] })
      : cedar.statefulIsAuthorized({ ...call, preparsedSchemaName: schemaName, validateRequest: true, entities });
    return { answer, errors };
  }

  const describePolicy = (id: string): string => {
    const p = byId.get(id);
    return p?.reason ? `${id} (${p.reason})` : id;
  };

  const wouldCache = new Map<string, string[]>();

  function isAuthorized(req: AuthzRequest): AuthzDecision {
    const roles = [...new Set(req.principal.roles)];
    const groups = [...new Set(req.principal.groups)];
    const { answer, errors } = decide(req, roles, groups);
    if (!answer || answer.type === 'failure') {
      const all = [...errors, ...(answer?.type === 'failure' ? answer.errors.map((e) => e.message) : [])];
      return { allowed: false, policyIds: [], reason: `request refused before any policy ran: ${all.join('; ')}`, errors: all };
    }
    const { decision, diagnostics } = answer.response;
    const policyIds = [...diagnostics.reason].sort();
    const evalErrors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
    const subject = `${req.action} on ${req.resource.type}::${JSON.stringify(req.resource.id)}`;
    if (decision === 'allow') {
      return { allowed: true, policyIds, reason: `permitted by ${policyIds.map(describePolicy).join('; ')}`, errors: evalErrors };
    }
    if (policyIds.length > 0) {
      return { allowed: false, policyIds, reason: `forbidden by ${policyIds.map(describePolicy).join('; ')}`, errors: evalErrors };
    }
    // which roles alone would be permitted depends on the request, not on who asks: cache it
    const wouldKey = JSON.stringify([req.principal.kind, req.action, req.resource.type, req.resource.id, req.resource.attrs ?? null, req.context ?? null]);
    let would = wouldCache.get(wouldKey);
    if (!would) {
      would = candidateRoles.filter((r) => {
        const a = decide(req, [r], [], true).answer;
        return a?.type === 'success' && a.response.decision === 'allow';
      });
      if (wouldCache.size >= 1000) wouldCache.delete(wouldCache.keys().next().value as string);
      wouldCache.set(wouldKey, would);
    }
    return {
      allowed: false,
      policyIds: [],
      reason: `no policy permits ${subject} for ${req.principal.id} with roles ${list(roles)}; roles that would: ${would.length > 0 ? list(would) : 'none'}`,
      errors: evalErrors,
    };
  }

  return {
    policySet,
    warmUp() {
      isAuthorized({
        principal: { kind: 'user', name: 'warm-up', id: 'user:warm-up', roles: ['viewer'], groups: [], credential: 'warm-up', scopes: [] },
        action: 'promotion.request',
        resource: { type: 'Promotion', id: 'warm-up', attrs: { service: 'warm-up', environment: 'warm-up', tier: 'prod' } },
      });
    },
    isAuthorized,
  };
}
