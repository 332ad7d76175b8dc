/**
 * `stagegate promote --dry-run`: every check a promotion would face now — gates, freeze windows, gate
 * rules (with no approvals yet), the approvals it would wait for — with nothing changed but the
 * recorded authorization decision.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../domain/errors.ts';
import type { GateResult } from '../domain/promotion.ts';
import { evaluateGateRules } from '../policy/cel/gate-rules.ts';
import { activeFreezes, describeFreeze } from '../policy/freeze.ts';
import { describeEligible } from './approvals/evaluate.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { runGates } from './gates.ts';
import { gateFacts } from './gate-facts.ts';
import { promotionContext, promotionResource } from './guard.ts';
import { policyDigestFor } from './policy-digest.ts';
import { type PromotionRequest, pendingPromotion } from './request-promotion.ts';

export function createDryRun(deps: EngineDeps, audit: AuditWriter) {
  return async function dryRun(ctx: RequestContext, req: PromotionRequest) {
    await audit.guard(ctx, 'promotion.request', promotionResource(deps.project, req), promotionContext(deps.project, req.environment));
    const env = deps.project.environments.find((e) => e.name === req.environment);
    if (!env) throw new DomainError('not_found', `environment "${req.environment}" is not in the project`, { field: 'environment', fix: `use one of: ${deps.project.environments.map((e) => e.name).join(', ')}` });
    const release = await deps.store.read.releases.findByServiceVersion(req.service, req.version);
    if (!release) throw new DomainError('not_found', `release ${req.service}@${req.version} has not been pushed`, { fix: 'push it first: stagegate release push BUNDLE --artifact ...' });
    const now = deps.clock();
    const p = pendingPromotion('prm_0000000000000000', req, release.id, ctx.actor, now);
    await mkdir(deps.runsDir, { recursive: true });
    const dir = await mkdtemp(path.join(deps.runsDir, 'dry-run-'));
    let gates: GateResult[];
    try {
      gates = await runGates(deps, p, release, path.join(dir, 'artifacts'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const rules = evaluateGateRules(deps.project.gateRules[req.service]?.[req.environment] ?? [], await gateFacts(deps, p, release, [], false));
    const frozen = describeFreeze(activeFreezes(env.freezes, { service: req.service, at: now }), env.name);
    const ruleGates: GateResult[] = rules.results.map((r) => ({ gate: `rule:${r.id}`, passed: r.passed, message: r.message }));
    const all = [...gates, ...ruleGates, ...(frozen ? [{ gate: 'freeze', passed: false, message: frozen }] : [])];
    return {
      dryRun: true,
      wouldPass: all.every((g) => g.passed),
      gates: all,
      approvals: env.approvals ? env.approvals.rules.map((r) => ({ rule: r.name, count: r.count, eligible: describeEligible(r) })) : [],
      policyDigest: policyDigestFor(deps, req.service, req.environment),
    };
  };
}
