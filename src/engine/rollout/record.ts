/** The rollout record of a promotion: created on its first pass with the stable version it replaces, and the plan it follows. */
import type { Environment } from '../../project/schema.ts';
import { describeStep, planSteps } from '../../rollout/strategy/plan.ts';
import type { TrafficControl } from '../../rollout/target.ts';
import type { RolloutRecord } from '../../store/rollout-records.ts';
import type { PromotionRecord } from '../../store/store.ts';
import type { AuditWriter } from '../audit-writer.ts';
import { type EngineDeps, systemContext } from '../deps.ts';

type Deps = Pick<EngineDeps, 'store' | 'clock'>;

/** the steps a rollout follows: its recorded strategy (a fast-tracked one is allAtOnce) and whether a stable version serves */
export const planOf = (env: Environment, r: RolloutRecord) => planSteps({ ...env.rollout, strategy: r.strategy }, r.stableVersion !== null);

/**
 * the stable version is the one serving traffic on this target now, deployed by the latest promotion
 * that succeeded with it; nothing serving (a first deploy here, a target just switched from exec) is a first deploy
 */
async function currentStable(deps: Deps, p: PromotionRecord, traffic: TrafficControl): Promise<PromotionRecord | undefined> {
  const state = await traffic.state(p.environment, p.service);
  const serving = Object.entries(state?.weights ?? {})
    .filter(([v, w]) => w > 0 && v !== p.version)
    .sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!serving) return undefined;
  const succeeded = await deps.store.read.promotions.list({ service: p.service, environment: p.environment, states: ['Succeeded'], newestFirst: true, limit: 100 });
  return succeeded.find((s) => s.version === serving);
}

/** the promotion's rollout record, created (with its `rollout.started` audit entry) on the first pass */
export async function ensureRollout(deps: Deps, audit: AuditWriter, p: PromotionRecord, env: Environment, traffic: TrafficControl): Promise<RolloutRecord> {
  const existing = await deps.store.read.rollouts.get(p.id);
  if (existing) return existing;
  const stable = await currentStable(deps, p, traffic);
  const now = deps.clock().toISOString();
  const hasStable = stable !== undefined;
  // a release that already succeeded here is a way back: fast-track, no steps and no analysis (Argo's rollbackWindow)
  const [before] = await deps.store.read.promotions.list({ service: p.service, environment: p.environment, releaseId: p.releaseId, states: ['Succeeded'], limit: 1 });
  const r: RolloutRecord = {
    promotionId: p.id,
    service: p.service,
    environment: p.environment,
    strategy: before ? 'allAtOnce' : env.rollout.strategy,
    canaryVersion: p.version,
    canaryReleaseId: p.releaseId,
    stableVersion: hasStable ? stable.version : null,
    stableReleaseId: hasStable ? stable.releaseId : null,
    stablePromotionId: hasStable ? stable.id : null,
    phase: 'Progressing',
    stepIndex: 0,
    stepStartedAt: now,
    weight: 0,
    message: 'starting',
    pauseReason: null,
    command: null,
    commandBy: null,
    analysis: '[]',
    createdAt: now,
    updatedAt: now,
  };
  const plan = planOf(env, r);
  await deps.store.transaction(async (tx) => {
    await tx.rollouts.insert(r);
    await audit.record(tx, systemContext, {
      action: 'rollout.started',
      outcome: 'succeeded',
      subject: `promotion:${p.id}`,
      details: { service: p.service, environment: p.environment, version: p.version, strategy: r.strategy, stable: r.stableVersion, steps: plan.map(describeStep), ...(before ? { fastTrack: `release succeeded here before (${before.id})` } : {}) },
    });
  });
  return r;
}
