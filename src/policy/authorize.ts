/**
 * The actions every request is authorized for (one Cedar decision each, in the engine's guard; see
 * src/policy/cedar/ and policies/default/), and the scope check of a narrowed credential.
 */
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

/** does a scope list allow the action? `*.read` and `promotion.*` are wildcards on one side of the dot */
export function scopeAllows(scopes: readonly string[] | undefined, action: string): boolean {
  if (!scopes || scopes.length === 0) return true;
  const [noun, verb] = action.split('.');
  return scopes.some((s) => s === action || s === '*' || s === `*.${verb}` || s === `${noun}.*`);
}
