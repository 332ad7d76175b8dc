/**
 * authz: latency of one Cedar authorization decision (createCedarAuthorizer(...).isAuthorized) with
 * the shipped default policies and a realistic entity set: principals in 5 groups with 2 roles,
 * service accounts and CI workloads; every action; resources across all four tiers. The mix holds
 * allows, forbid-rule denies and default denies (which also work out the roles that would permit).
 * Each decision is timed end to end: entities built, Cedar called, reason written.
 */
import { createCedarAuthorizer, type AuthzRequest } from '../src/policy/cedar/authorizer.ts';
import { cedarActions, promotionContextActions, tiers } from '../src/policy/cedar/actions.ts';
import { loadPolicySet } from '../src/policy/cedar/load.ts';
import type { ResolvedPrincipal } from '../src/policy/principal.ts';
import { type BenchOptions, type BenchResult, checkTarget, median, percentile, progress, round3 } from './util.ts';

const TARGET_MS = 2;

const groups = ['eng', 'eng-platform', 'team-checkout', 'oncall', 'release-captains'];
const person = (name: string, roles: string[]): ResolvedPrincipal => ({ kind: 'user', name, id: `user:${name}`, roles, groups, credential: `session:${name}`, scopes: [] });
const principals: ResolvedPrincipal[] = [
  person('dana', ['developer', 'approver']),
  person('rita', ['releaser', 'viewer']),
  person('sam', ['security', 'viewer']),
  person('val', ['viewer', 'approver']),
  person('ada', ['admin', 'security']),
  { kind: 'service', name: 'deployer', id: 'service:deployer', roles: ['releaser', 'viewer'], groups: groups.slice(0, 2), credential: 'token:tok_d', scopes: [] },
  { kind: 'workload', name: 'github:acme/checkout', id: 'workload:github:acme/checkout', roles: ['developer', 'viewer'], groups: groups.slice(0, 3), credential: 'oidc:https://token.actions.githubusercontent.com', scopes: [] },
];

const services = ['checkout', 'cart', 'search', 'payments'];

function resourceFor(action: string, i: number): Pick<AuthzRequest, 'resource' | 'context'> {
  const service = services[i % services.length] as string;
  const tier = tiers[i % tiers.length] as string;
  if ((promotionContextActions as readonly string[]).includes(action)) {
    return { resource: { type: 'Promotion', id: `prm_${i}`, attrs: { service, environment: tier, tier } }, context: { tier, breakGlass: i % 17 === 0 } };
  }
  switch (action) {
    case 'release.read':
    case 'release.push':
    case 'blob.upload':
      return { resource: { type: 'Release', id: `${service}@1.${i % 50}.0`, attrs: { service } } };
    case 'promotion.read':
    case 'approval.read':
    case 'rollout.read':
      return { resource: { type: 'Promotion', id: `prm_${i}`, attrs: { service, environment: tier, tier } } };
    case 'freeze.read':
    case 'policy.read':
    case 'status.read':
    case 'flag.read':
    case 'flag.change':
    case 'flag.approve':
    case 'flag.apply':
    case 'flag.evaluate':
    case 'parity.read':
    case 'drift.read':
    case 'attestation.read':
      return { resource: { type: 'Environment', id: tier, attrs: { name: tier, tier } } };
    case 'audit.read':
      return { resource: { type: 'AuditLog', id: 'main' } };
    case 'breakglass.review':
      return { resource: { type: 'Project', id: 'shop' } };
    case 'elevation.request':
    case 'elevation.approve':
      return { resource: { type: 'Role', id: 'releaser' } };
    case 'identity.read':
    case 'identity.manage':
      return { resource: { type: 'Group', id: 'oncall' } };
    default:
      return { resource: { type: 'Token', id: `tok_${i}` } };
  }
}

/** a fixed, varied request mix: every principal x every action x rotating resources and tiers */
function requests(n: number): AuthzRequest[] {
  const out: AuthzRequest[] = [];
  for (let i = 0; out.length < n; i++) {
    const principal = principals[i % principals.length] as ResolvedPrincipal;
    const action = cedarActions[(i * 7 + Math.floor(i / principals.length)) % cedarActions.length] as string;
    out.push({ principal, action, ...resourceFor(action, i) });
  }
  return out;
}

export async function runAuthz(opts: BenchOptions): Promise<BenchResult> {
  const rounds = 5;
  const perRound = opts.quick ? 1_000 : 5_000;
  let t = performance.now();
  const set = await loadPolicySet();
  const loadMs = performance.now() - t;
  const authz = createCedarAuthorizer(set);
  t = performance.now();
  authz.warmUp();
  const warmUpMs = performance.now() - t;
  const mix = requests(perRound);
  for (const r of mix.slice(0, 500)) authz.isAuthorized(r); // JIT warm-up, not measured
  const all: number[] = [];
  const byOutcome: Record<'allow' | 'forbid' | 'default-deny', number[]> = { allow: [], forbid: [], 'default-deny': [] };
  const roundP99: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const times: number[] = [];
    for (const req of mix) {
      const start = performance.now();
      const d = authz.isAuthorized(req);
      const ms = performance.now() - start;
      if (d.errors.length > 0) throw new Error(`${req.principal.id} ${req.action}: ${d.errors.join('; ')}`);
      times.push(ms);
      byOutcome[d.allowed ? 'allow' : d.policyIds.length > 0 ? 'forbid' : 'default-deny'].push(ms);
    }
    all.push(...times);
    roundP99.push(round3(percentile(times, 99)));
    progress(`authz round ${r + 1}: ${times.length} decisions, median ${median(times).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms`);
  }
  const value = percentile(all, 99);
  const share = (k: keyof typeof byOutcome) => `${((100 * byOutcome[k].length) / all.length).toFixed(1)}%`;
  const p99Of = (k: keyof typeof byOutcome) => (byOutcome[k].length > 0 ? round3(percentile(byOutcome[k], 99)) : 0);
  return {
    name: 'authz',
    value: round3(value),
    unit: 'ms (p99 per decision)',
    ...checkTarget(value, '<', TARGET_MS),
    rounds: roundP99,
    notes:
      `createCedarAuthorizer(shipped defaults: ${set.policies.length} policies).isAuthorized, timed end to end; ${rounds} rounds x ${perRound} decisions after warmUp() and 500 unmeasured ones; ` +
      `${principals.length} principals (users in ${groups.length} groups with 2 roles, a service account, a CI workload) x ${cedarActions.length} actions x resources across ${tiers.length} tiers. ` +
      `Mix: ${share('allow')} allow, ${share('forbid')} forbid, ${share('default-deny')} default deny (which asks Cedar again per known role for the reason). rounds = per-round p99.`,
    extra: {
      decisions: all.length,
      medianMs: round3(median(all)),
      p99Ms: round3(value),
      maxMs: round3(Math.max(...all)),
      allowP99Ms: p99Of('allow'),
      forbidP99Ms: p99Of('forbid'),
      defaultDenyP99Ms: p99Of('default-deny'),
      loadPolicySetMs: round3(loadMs),
      warmUpMs: round3(warmUpMs),
    },
  };
}
