/**
 * A person's view of and hand on a rollout: `stagegate rollout status|promote|abort|retry`. Commands are
 * authorized (`rollout.control`, like promoting: developers below prod, releasers everywhere), stored
 * on the rollout record with an audit entry in one transaction, and consumed by the controller on its
 * next pass, which an abort starts at once (interrupting a running analysis).
 */
import { DomainError } from '../../domain/errors.ts';
import { describeStep } from '../../rollout/strategy/plan.ts';
import type { TrafficState } from '../../rollout/target.ts';
import type { RolloutCommand, RolloutRecord } from '../../store/rollout-records.ts';
import type { PromotionRecord } from '../../store/store.ts';
import type { AuditWriter } from '../audit-writer.ts';
import type { EngineDeps, RequestContext } from '../deps.ts';
import { promotionContext, promotionResource } from '../guard.ts';
import { type AnalysisSummary, summaries } from './analysis-runs.ts';
import type { RolloutController } from './controller.ts';

export interface RolloutView {
  promotion: { id: string; state: string; message: string | null };
  rollout: Omit<RolloutRecord, 'analysis'>;
  steps: Array<{ index: number; step: string; state: 'done' | 'current' | 'pending' }>;
  analysis: AnalysisSummary[];
  /** what the target's proxy does now (null when it cannot be reached: `trafficError` says why) */
  traffic: TrafficState | null;
  trafficError?: string;
}

const live: readonly string[] = ['Deploying', 'Verifying'];

export function createRolloutUseCases(deps: Pick<EngineDeps, 'store' | 'clock' | 'project' | 'targets'>, audit: AuditWriter, controller: RolloutController, kick: () => void) {
  function environment(name: string) {
    const env = deps.project.environments.find((e) => e.name === name);
    if (!env) throw new DomainError('not_found', `environment "${name.slice(0, 64)}" is not in the project`, { field: 'environment', fix: `use one of: ${deps.project.environments.map((e) => e.name).join(', ')}` });
    return env;
  }

  /** the names are checked against the project (not secret), then the caller is authorized, then the rollout is looked up */
  async function latest(ctx: RequestContext, action: 'rollout.read' | 'rollout.control', service: string, envName: string): Promise<{ r: RolloutRecord; p: PromotionRecord }> {
    environment(envName);
    if (!deps.project.services.some((s) => s.name === service)) {
      throw new DomainError('not_found', `service "${service.slice(0, 64)}" is not in the project`, { field: 'service', fix: `use one of: ${deps.project.services.map((s) => s.name).join(', ')}` });
    }
    const resource = promotionResource(deps.project, { service, environment: envName });
    await (action === 'rollout.read' ? audit.guard(ctx, action, resource) : audit.guard(ctx, action, resource, promotionContext(deps.project, envName)));
    const [r] = await deps.store.read.rollouts.list({ service, environment: envName, limit: 1 });
    const p = r && (await deps.store.read.promotions.get(r.promotionId));
    if (!r || !p) throw new DomainError('not_found', `${service} has had no rollout in ${envName}`, { fix: 'rollouts happen on environments whose target is local; see docs/rollouts.md' });
    return { r, p };
  }

  async function status(ctx: RequestContext, service: string, envName: string): Promise<RolloutView> {
    const { r, p } = await latest(ctx, 'rollout.read', service, envName);
    return view(r, p, envName, service);
  }

  async function view(r: RolloutRecord, p: PromotionRecord, envName: string, service: string): Promise<RolloutView> {
    const env = environment(envName);
    const plan = controller.planOf(env, r);
    const traffic = deps.targets.get(env.target)?.traffic;
    let state: TrafficState | null = null;
    let trafficError: string | undefined;
    try {
      state = (await traffic?.state(envName, service)) ?? null;
    } catch (e) {
      trafficError = e instanceof Error ? e.message : String(e);
    }
    const { analysis, ...rollout } = r;
    return {
      promotion: { id: p.id, state: p.state, message: p.message },
      rollout,
      steps: plan.map((s, index) => ({ index, step: describeStep(s), state: index < r.stepIndex ? 'done' : index === r.stepIndex && p.state === 'Deploying' ? 'current' : 'pending' })),
      analysis: summaries(analysis),
      traffic: state,
      ...(trafficError ? { trafficError } : {}),
    };
  }

  /** why `cmd` cannot apply now, or undefined when it can */
  function refusal(cmd: RolloutCommand, r: RolloutRecord, p: PromotionRecord): { message: string; fix: string } | undefined {
    const plan = controller.planOf(environment(r.environment), r);
    if (!live.includes(p.state)) {
      return {
        message: `the rollout of ${r.service} ${r.canaryVersion} in ${r.environment} has ended (promotion ${p.id} is ${p.state})`,
        fix: cmd === 'retry' ? `request it again: stagegate promote ${r.service}@${r.canaryVersion} --to ${r.environment}` : 'nothing to do',
      };
    }
    if (r.command) return { message: `a ${r.command} by ${r.commandBy} is still being applied`, fix: 'wait a moment and look at `stagegate rollout status`' };
    if (cmd === 'abort') return undefined;
    if (p.state !== 'Deploying') return { message: `${r.canaryVersion} already has all traffic and is being verified`, fix: 'only abort applies now (it rolls back at once)' };
    if (cmd === 'retry' && r.phase !== 'Paused') return { message: `the rollout is ${r.phase}, not paused`, fix: 'retry re-runs a paused step (an inconclusive analysis)' };
    const step = plan[r.stepIndex];
    if (cmd === 'promote' && r.phase !== 'Paused' && step?.kind !== 'pause') {
      return { message: `nothing to promote: the rollout is at step ${r.stepIndex} (${step ? describeStep(step) : 'done'}), not at a pause`, fix: 'promote --full skips every step left, analyses included' };
    }
    return undefined;
  }

  async function command(ctx: RequestContext, service: string, envName: string, cmd: RolloutCommand, reason: string): Promise<RolloutView> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { r, p } = await latest(ctx, 'rollout.control', service, envName);
      const subject = `promotion:${p.id}`;
      const no = refusal(cmd, r, p);
      if (no) {
        await audit.denied(ctx, { action: `rollout.${cmd}`, subject, details: { reason: no.message } });
        throw new DomainError('conflict', no.message, { fix: no.fix });
      }
      const ok = await deps.store.transaction(async (tx) => {
        const done = await tx.rollouts.update(r.promotionId, { updatedAt: r.updatedAt }, { command: cmd, commandBy: ctx.actor, updatedAt: deps.clock().toISOString() });
        if (done) {
          await audit.record(tx, ctx, {
            action: `rollout.${cmd}`,
            outcome: 'succeeded',
            subject,
            details: { service, environment: envName, version: r.canaryVersion, step: r.stepIndex, phase: r.phase, reason },
          });
        }
        return done;
      });
      if (!ok) continue;
      controller.interrupt(r.promotionId);
      kick();
      const fresh = (await deps.store.read.rollouts.get(r.promotionId)) ?? r;
      return view(fresh, (await deps.store.read.promotions.get(p.id)) ?? p, envName, service);
    }
    throw new DomainError('conflict', `the rollout of ${service} in ${envName} kept changing`, { fix: 'look at `stagegate rollout status` and try again' });
  }

  return { status, command };
}
export type RolloutUseCases = ReturnType<typeof createRolloutUseCases>;
