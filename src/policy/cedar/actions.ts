/**
 * The vocabulary the Cedar authorizer speaks: every action a request can ask for, the entity types
 * of principals and resources, and which actions carry the promotion context. The shipped schema
 * (policies/default/schema.cedarschema) declares exactly these; a project schema must declare them too.
 */
import type { PrincipalKind } from '../principal.ts';

export const cedarNamespace = 'Stagegate';

export const cedarActions = [
  // the core issue's actions
  'release.read',
  'release.push',
  'blob.upload',
  'promotion.read',
  'promotion.request',
  'promotion.abort',
  'status.read',
  'audit.read',
  'token.create',
  'token.read',
  'token.revoke',
  // access control
  'approval.decide',
  'approval.read',
  'freeze.read',
  'policy.read',
  'breakglass.request',
  'breakglass.confirm',
  'breakglass.review',
  'elevation.request',
  'elevation.approve',
  'identity.read',
  'identity.manage',
  'session.create',
  // feature flags (docs/feature-flags.md)
  'flag.read',
  'flag.change',
  'flag.approve',
  'flag.apply',
  'flag.evaluate',
  // parity, drift and continuous attestation (docs/parity-and-drift.md)
  'parity.read',
  'drift.read',
  'attestation.read',
  // rollouts (docs/rollouts.md)
  'rollout.read',
  'rollout.control',
] as const;
export type CedarAction = (typeof cedarActions)[number];

export const isCedarAction = (a: string): a is CedarAction => (cedarActions as readonly string[]).includes(a);

/** actions whose context is `{ tier: String, breakGlass: Bool }` */
export const promotionContextActions: readonly CedarAction[] = [
  'promotion.request',
  'promotion.abort',
  'approval.decide',
  'breakglass.request',
  'breakglass.confirm',
  'rollout.control',
];

export const principalEntityTypes = { user: 'User', service: 'ServiceAccount', workload: 'Workload' } as const satisfies Record<PrincipalKind, string>;

export const resourceTypes = [
  'Environment',
  'Service',
  'Release',
  'Promotion',
  'Token',
  'AuditLog',
  'Project',
  'Role',
  'Group',
  'User',
  'ServiceAccount',
  'Workload',
] as const;
export type ResourceType = (typeof resourceTypes)[number];

export const isResourceType = (t: string): t is ResourceType => (resourceTypes as readonly string[]).includes(t);

/** the entity types the authorizer builds; a schema must declare each */
export const requiredEntityTypes: readonly string[] = resourceTypes;

export const tiers = ['dev', 'test', 'staging', 'prod'] as const;

/** `Stagegate::Promotion` */
export const qualified = (type: string): string => `${cedarNamespace}::${type}`;
