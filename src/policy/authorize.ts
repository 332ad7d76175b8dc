/**
 * The one authorization hook every action passes through. This issue ships role-based rules; the
 * access-control issue replaces the body with Cedar while keeping this signature.
 */
export const roles = ['viewer', 'releaser', 'admin'] as const;
export type Role = (typeof roles)[number];

export const actions = [
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
] as const;
export type Action = (typeof actions)[number];

export interface Principal {
  /** e.g. `user:admin` */
  id: string;
  role: Role;
  /** the token that authenticated the request */
  tokenId: string;
  /** the actions the credential is limited to (`release.push`, `*.read`, `promotion.*`); empty = no limit */
  scopes?: readonly string[];
}

/** does a scope list allow the action? `*.read` and `promotion.*` are wildcards on one side of the dot */
export function scopeAllows(scopes: readonly string[] | undefined, action: string): boolean {
  if (!scopes || scopes.length === 0) return true;
  const [noun, verb] = action.split('.');
  return scopes.some((s) => s === action || s === '*' || s === `*.${verb}` || s === `${noun}.*`);
}

export type Decision = { allowed: true; reason: string } | { allowed: false; reason: string };

const grants: Record<Role, ReadonlySet<Action>> = {
  viewer: new Set(['release.read', 'promotion.read', 'status.read', 'audit.read']),
  releaser: new Set([
    'release.read',
    'promotion.read',
    'status.read',
    'audit.read',
    'release.push',
    'blob.upload',
    'promotion.request',
    'promotion.abort',
  ]),
  admin: new Set(actions),
};

/** deny by default: allowed only when the principal's role grants the action */
export function authorize(principal: Principal, action: Action, _resource: string): Decision {
  if (!scopeAllows(principal.scopes, action)) {
    return { allowed: false, reason: `the token's scopes [${principal.scopes?.join(', ')}] do not include ${action}; use a token with that scope` };
  }
  return grants[principal.role]?.has(action)
    ? { allowed: true, reason: `role ${principal.role} grants ${action}` }
    : {
        allowed: false,
        reason: `role ${principal.role} does not grant ${action}; ask an admin for a token with a role that does`,
      };
}
