/**
 * Who acts. Every request resolves to one Principal: a user, a service account, or a workload
 * (an OIDC-authenticated CI job). Roles and groups are resolved before authorization (nested groups
 * flattened), so a decision needs nothing but the principal, the action, the resource and context.
 */
export const principalKinds = ['user', 'service', 'workload'] as const;
export type PrincipalKind = (typeof principalKinds)[number];

/** the least-privilege roles stagegate ships policies for */
export const defaultRoles = ['viewer', 'developer', 'releaser', 'approver', 'security', 'admin'] as const;
export type DefaultRole = (typeof defaultRoles)[number];

export interface PrincipalRef {
  kind: PrincipalKind;
  /** `alice`, `ci`, `github:org/repo` */
  name: string;
}

/** `user:alice`, `service:ci`, `workload:github:org/repo` */
export const principalId = (p: PrincipalRef): string => `${p.kind}:${p.name}`;

export interface ResolvedPrincipal extends PrincipalRef {
  id: string;
  /** every role held, directly, through a group, or by just-in-time elevation */
  roles: readonly string[];
  /** every group the principal is in, nested groups flattened */
  groups: readonly string[];
  /** how the request was authenticated: `token:<id>`, `session:<jti>`, `oidc:<issuer>` */
  credential: string;
  /** scopes the credential is limited to (empty = no limit beyond roles) */
  scopes: readonly string[];
}
