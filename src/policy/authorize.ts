/**
 * The actions every request is authorized for (one Cedar decision each, in the engine's guard; see
 * src/policy/cedar/ and policies/default/), and the scope check of a narrowed credential.
 */
export { cedarActions as actions, type CedarAction as Action } from './cedar/actions.ts';

/** does a scope list allow the action? `*.read` and `promotion.*` are wildcards on one side of the dot */
export function scopeAllows(scopes: readonly string[] | undefined, action: string): boolean {
  if (!scopes || scopes.length === 0) return true;
  const [noun, verb] = action.split('.');
  return scopes.some((s) => s === action || s === '*' || s === `*.${verb}` || s === `${noun}.*`);
}
