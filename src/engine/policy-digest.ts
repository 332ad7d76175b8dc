/**
 * The policy a decision about one service in one environment was made under: the Cedar policy set,
 * the environment's approval rules, the effective gate rules and the freeze windows. Its digest goes
 * into every decision record and binds every approval: change any of them and approvals are void.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Digest } from '../domain/ids.ts';
import { approvalPolicyDigest } from './approvals/binding.ts';
import type { EngineDeps } from './deps.ts';

const cache = new Map<string, Digest>();

export function policyDigestFor(deps: Pick<EngineDeps, 'project' | 'authz'>, service: string, environment: string): Digest {
  const key = `${deps.project.digest}\u0000${deps.authz.policySet.digest}\u0000${service}\u0000${environment}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const env = deps.project.environments.find((e) => e.name === environment);
  const rules = (deps.project.gateRules[service]?.[environment] ?? []).map((r) => ({ id: r.id, expression: r.expression, message: r.message }));
  const text = canonicalize({
    cedar: deps.authz.policySet.digest,
    approvals: env?.approvals ? approvalPolicyDigest(env.approvals) : null,
    rules,
    freezes: env?.freezes ?? [],
  }) as string;
  const digest = `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}` as Digest;
  if (cache.size > 1000) cache.clear();
  cache.set(key, digest);
  return digest;
}
