/**
 * The `identities:` section of stagegate.yaml: users, (nested) groups, service accounts and the OIDC
 * issuers whose ID tokens stand in for a stored secret (workload identity). The zod schema is the edge
 * parser; `checkIdentities` checks what a schema cannot (unknown references, duplicate names, group
 * cycles); `resolvePrincipal` turns a principal reference into the roles and groups it holds.
 */
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import type { PrincipalRef, ResolvedPrincipal } from '../policy/principal.ts';
import { principalId } from '../policy/principal.ts';

/** names of users, groups, service accounts, OIDC issuers and roles */
export const IDENTITY_NAME_RE = /^[a-z][a-z0-9._-]{0,62}$/;
/** a group member: `user:NAME`, `service:NAME` or `group:NAME` */
export const MEMBER_RE = /^(user|service|group):([a-z][a-z0-9._-]{0,62})$/;
/** a JWT claim name usable in `require` and in principal templates */
export const CLAIM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/**
 * A principal template: `workload:` then literal text and `{claim}` placeholders, e.g.
 * `workload:github:{repository}`. Literal text is limited to characters that cannot be confused
 * with a placeholder.
 */
export const PRINCIPAL_TEMPLATE_RE = /^workload:(?:[a-z0-9._/@-]|:|\{[A-Za-z_][A-Za-z0-9_.-]{0,63}\})+$/;
/** an issuer or JWKS URL: https anywhere, plain http only on the loopback interface */
export const ISSUER_URL_RE = /^(?:https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?|http:\/\/(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?)(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/;

export const identityLimits = {
  users: 10_000,
  groups: 1_000,
  serviceAccounts: 1_000,
  oidc: 32,
  rolesPerPrincipal: 32,
  groupsPerUser: 64,
  membersPerGroup: 10_000,
  requireClaims: 16,
  claimValueBytes: 256,
  urlBytes: 512,
  audienceBytes: 256,
  templateBytes: 200,
} as const;

const name = z
  .string()
  .max(63)
  .regex(IDENTITY_NAME_RE)
  .describe('lowercase letters, digits, dots, underscores and dashes; starts with a letter; at most 63');
const roles = z.array(name).max(identityLimits.rolesPerPrincipal).describe('role names, e.g. viewer, developer, releaser, approver, security, admin');

/** true for https URLs, and for http URLs on 127.0.0.1, localhost or [::1] only */
export function isAllowedIssuerUrl(text: string): boolean {
  if (text.length > identityLimits.urlBytes || !ISSUER_URL_RE.test(text)) return false;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return false;
  }
  if (u.username || u.password || u.search || u.hash) return false;
  if (u.protocol === 'https:') return u.hostname.length > 0;
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

const url = (what: string) =>
  z
    .string()
    .max(identityLimits.urlBytes)
    .regex(ISSUER_URL_RE)
    .refine(isAllowedIssuerUrl, `${what} must be an https URL (plain http only on 127.0.0.1, localhost or [::1]), without credentials, query or fragment`)
    .describe(`${what}: an https URL; plain http is accepted only for 127.0.0.1, localhost or [::1]`);

export const userSchema = z
  .strictObject({
    name,
    roles,
    groups: z.array(name).max(identityLimits.groupsPerUser).optional().describe('groups the user belongs to (in addition to group member lists)'),
  })
  .describe('a person');

export const groupSchema = z
  .strictObject({
    name,
    roles: roles.optional().describe('roles every member holds'),
    members: z
      .array(z.string().max(70).regex(MEMBER_RE))
      .max(identityLimits.membersPerGroup)
      .optional()
      .describe('user:NAME, service:NAME or group:NAME (a nested group: its members are members of this group)'),
  })
  .describe('a named set of users, service accounts and other groups');

export const serviceAccountSchema = z.strictObject({ name, roles }).describe('a non-human principal that authenticates with an API token');

export const oidcIssuerSchema = z
  .strictObject({
    name,
    issuer: url('issuer').describe('the exact `iss` claim value of the ID tokens, e.g. https://token.actions.githubusercontent.com'),
    audience: z.string().min(1).max(identityLimits.audienceBytes).describe('the `aud` claim the ID tokens must carry'),
    jwksUrl: url('jwksUrl').describe("the issuer's JSON Web Key Set URL"),
    subjectClaim: z.string().regex(CLAIM_NAME_RE).default('sub').describe('the claim that names the subject (must be present)'),
    principal: z
      .string()
      .max(identityLimits.templateBytes)
      .regex(PRINCIPAL_TEMPLATE_RE)
      .describe('principal template built from claims, e.g. workload:github:{repository}'),
    roles,
    require: z
      .record(z.string().regex(CLAIM_NAME_RE), z.string().min(1).max(identityLimits.claimValueBytes))
      .refine((o) => Object.keys(o).length <= identityLimits.requireClaims, `at most ${identityLimits.requireClaims} required claims`)
      .meta({ maxProperties: identityLimits.requireClaims })
      .optional()
      .describe('claims that must have exactly this value, e.g. repository_owner: my-org'),
  })
  .describe('an OIDC issuer whose ID tokens authenticate workloads (CI jobs) without a stored secret');

export const identitiesSchema = z
  .strictObject({
    users: z.array(userSchema).max(identityLimits.users).optional(),
    groups: z.array(groupSchema).max(identityLimits.groups).optional(),
    serviceAccounts: z.array(serviceAccountSchema).max(identityLimits.serviceAccounts).optional(),
    oidc: z.array(oidcIssuerSchema).max(identityLimits.oidc).optional(),
  })
  .describe('who may act: users, nested groups, service accounts and OIDC workload issuers');

export type Identities = z.output<typeof identitiesSchema>;
export type IdentitiesInput = z.input<typeof identitiesSchema>;
export type OidcIssuerConfig = z.output<typeof oidcIssuerSchema>;

/** placeholders of a principal template, in order */
export function templateClaims(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

interface Index {
  users: Map<string, { roles: readonly string[] }>;
  services: Map<string, { roles: readonly string[] }>;
  groupRoles: Map<string, readonly string[]>;
  /** member id (`user:x`, `service:y`) -> every group it is in, nested groups flattened, sorted */
  memberOf: Map<string, readonly string[]>;
}

const invalid = (message: string, field: string, fix: string) => new DomainError('invalid_input', message, { field, fix });

function duplicates(list: readonly { name: string }[] | undefined, field: string): void {
  const seen = new Set<string>();
  (list ?? []).forEach((item, i) => {
    if (seen.has(item.name)) {
      throw invalid(`${field} "${item.name}" is declared twice`, `identities.${field}[${i}].name`, `give every entry of identities.${field} its own name`);
    }
    seen.add(item.name);
  });
}

/** Build the lookup index, throwing DomainError on what the schema cannot check. */
function buildIndex(identities: Identities): Index {
  duplicates(identities.users, 'users');
  duplicates(identities.groups, 'groups');
  duplicates(identities.serviceAccounts, 'serviceAccounts');
  duplicates(identities.oidc, 'oidc');
  const users = new Map((identities.users ?? []).map((u) => [u.name, { roles: u.roles }]));
  const services = new Map((identities.serviceAccounts ?? []).map((s) => [s.name, { roles: s.roles }]));
  const groups = identities.groups ?? [];
  const groupIndex = new Map(groups.map((g, i) => [g.name, i]));
  const groupRoles = new Map(groups.map((g) => [g.name, g.roles ?? []]));

  // direct edges: member -> groups; group -> groups that contain it
  const direct = new Map<string, Set<string>>();
  const add = (member: string, group: string) => {
    const s = direct.get(member) ?? new Set<string>();
    s.add(group);
    direct.set(member, s);
  };
  const exists = (kind: string, n: string) => (kind === 'user' ? users.has(n) : kind === 'service' ? services.has(n) : groupIndex.has(n));
  groups.forEach((g, gi) => {
    (g.members ?? []).forEach((m, mi) => {
      const [, kind, n] = MEMBER_RE.exec(m)!;
      if (!exists(kind!, n!)) {
        const where = kind === 'user' ? 'identities.users' : kind === 'service' ? 'identities.serviceAccounts' : 'identities.groups';
        throw invalid(`group "${g.name}" lists member ${m}, which is not declared`, `identities.groups[${gi}].members[${mi}]`, `declare it under ${where}, or fix the spelling`);
      }
      if (kind === 'group' && n === g.name) {
        throw invalid(`group cycle: ${g.name} -> ${g.name} (a group cannot contain itself)`, `identities.groups[${gi}].members[${mi}]`, `remove group:${g.name} from its own members`);
      }
      add(m, g.name);
    });
  });
  (identities.users ?? []).forEach((u, ui) => {
    (u.groups ?? []).forEach((gname, i) => {
      if (!groupIndex.has(gname)) {
        throw invalid(`user "${u.name}" is in group "${gname}", which is not declared`, `identities.users[${ui}].groups[${i}]`, 'declare the group under identities.groups, or fix the spelling');
      }
      add(`user:${u.name}`, gname);
    });
  });

  // cycle detection over group -> containing group edges (iterative DFS, colours)
  const colour = new Map<string, 1 | 2>();
  /** groups in DFS finishing order: every group after the groups that contain it */
  const order: string[] = [];
  for (const start of groups) {
    if (colour.get(start.name) === 2) continue;
    const path: string[] = [];
    const stack: { node: string; next: Iterator<string> }[] = [];
    const enter = (node: string) => {
      colour.set(node, 1);
      path.push(node);
      stack.push({ node, next: (direct.get(`group:${node}`) ?? new Set<string>()).values() });
    };
    enter(start.name);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const step = top.next.next();
      if (step.done) {
        colour.set(top.node, 2);
        order.push(top.node);
        stack.pop();
        path.pop();
        continue;
      }
      const parent = step.value;
      const c = colour.get(parent);
      if (c === 1) {
        const cycle = [...path.slice(path.indexOf(parent)), parent];
        // name the membership that closes the cycle: `parent` lists group:`top.node`
        const gi = groupIndex.get(parent)!;
        const mi = (groups[gi]!.members ?? []).indexOf(`group:${top.node}`);
        throw invalid(
          `group cycle: ${cycle.reverse().join(' -> ')} (each group contains the next)`,
          `identities.groups[${gi}].members[${mi}]`,
          `remove group:${top.node} from the members of group ${parent}, or another membership of the cycle`,
        );
      }
      if (c === undefined) enter(parent);
    }
  }

  // flatten: transitive closure of group containment, memoized per group (acyclic now); computing
  // in finishing order keeps the recursion one level deep
  const closure = new Map<string, ReadonlySet<string>>();
  const groupClosure = (g: string): ReadonlySet<string> => {
    const known = closure.get(g);
    if (known) return known;
    const out = new Set<string>([g]);
    for (const parent of direct.get(`group:${g}`) ?? []) for (const x of groupClosure(parent)) out.add(x);
    closure.set(g, out);
    return out;
  };
  for (const g of order) groupClosure(g);

  const memberOf = new Map<string, readonly string[]>();
  for (const [member, gs] of direct) {
    if (member.startsWith('group:')) continue;
    const all = new Set<string>();
    for (const g of gs) for (const x of groupClosure(g)) all.add(x);
    memberOf.set(member, [...all].sort());
  }
  return { users, services, groupRoles, memberOf };
}

const indexes = new WeakMap<Identities, Index>();

function indexOf(identities: Identities): Index {
  let ix = indexes.get(identities);
  if (!ix) {
    ix = buildIndex(identities);
    indexes.set(identities, ix);
  }
  return ix;
}

/**
 * Check what the schema cannot: duplicate names, members and user groups that are not declared, and
 * group cycles (the error names the cycle and the membership that closes it). Call it at load; it also
 * caches the flattened index `resolvePrincipal` uses.
 */
export function checkIdentities(identities: Identities): void {
  indexOf(identities);
}

/** The principal a name refers to, with every role and (flattened) group; undefined when not declared. */
export function resolvePrincipal(
  identities: Identities,
  ref: PrincipalRef,
  credential: string,
  extraRoles: readonly string[] = [],
  scopes: readonly string[] = [],
): ResolvedPrincipal | undefined {
  const ix = indexOf(identities);
  const entry = ref.kind === 'user' ? ix.users.get(ref.name) : ref.kind === 'service' ? ix.services.get(ref.name) : undefined;
  if (!entry) return undefined;
  const id = principalId(ref);
  const groups = ix.memberOf.get(id) ?? [];
  const held = new Set<string>(entry.roles);
  for (const g of groups) for (const r of ix.groupRoles.get(g) ?? []) held.add(r);
  for (const r of extraRoles) held.add(r);
  return { kind: ref.kind, name: ref.name, id, roles: [...held].sort(), groups, credential, scopes: [...scopes] };
}

/** Parse `user:alice` / `service:ci` / `workload:github:org/repo` into a reference; undefined if malformed. */
export function parsePrincipalId(text: string): PrincipalRef | undefined {
  if (text.length > 256) return undefined;
  const m = /^(user|service|workload):(.+)$/.exec(text);
  if (!m) return undefined;
  const kind = m[1] as PrincipalRef['kind'];
  const n = m[2]!;
  if (kind !== 'workload' && !IDENTITY_NAME_RE.test(n)) return undefined;
  if (kind === 'workload' && !/^[A-Za-z0-9._/@:-]{1,200}$/.test(n)) return undefined;
  return { kind, name: n };
}
