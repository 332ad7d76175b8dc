/**
 * Resolve who a credential speaks for: the declared identity (roles and nested groups) when the
 * project declares it, plus the credential's own role and any active just-in-time elevation.
 */
import { resolvePrincipal } from '../auth/identity-schema.ts';
import type { PrincipalKind, ResolvedPrincipal } from '../policy/principal.ts';
import type { EngineDeps } from './deps.ts';

const KINDS: readonly PrincipalKind[] = ['user', 'service', 'workload'];

export function parseActor(actor: string): { kind: PrincipalKind; name: string } | undefined {
  const i = actor.indexOf(':');
  const kind = actor.slice(0, i) as PrincipalKind;
  return i > 0 && KINDS.includes(kind) ? { kind, name: actor.slice(i + 1) } : undefined;
}

export async function resolveActor(
  deps: Pick<EngineDeps, 'identities' | 'store' | 'clock'>,
  actor: string,
  roles: readonly string[],
  credential: string,
  scopes: readonly string[],
): Promise<ResolvedPrincipal | undefined> {
  const ref = parseActor(actor);
  if (!ref) return undefined;
  const elevated = (await deps.store.read.elevations.activeFor(actor, deps.clock().toISOString())).map((e) => e.role);
  const extra = [...new Set([...roles, ...elevated])];
  const identities = deps.identities.current();
  const declared = identities ? resolvePrincipal(identities, ref, credential, extra, [...scopes]) : undefined;
  return declared ?? { ...ref, id: actor, roles: extra, groups: [], credential, scopes: [...scopes] };
}
