/**
 * The rollout controller: runs a promotion's traffic strategy one durable step at a time while the
 * promotion is Deploying (docs/rollouts.md, docs/adr/0010-rollouts.md). Every step commits its index
 * with an audit entry after it took effect; each step is idempotent, so a restart repeats at most the
 * step it was in and never one that was done. A person's command (promote, abort, retry) is stored on
 * the record and consumed here; abort and analysis failures move all traffic back to the stable
 * version, which runs with its own release's configuration: code and config roll back together.
 */
import path from 'node:path';
import type { Environment } from '../../project/schema.ts';
import { describeStep, type PlanStep } from '../../rollout/strategy/plan.ts';
import type { Target, TrafficControl } from '../../rollout/target.ts';
import type { RolloutPatch, RolloutRecord } from '../../store/rollout-records.ts';
import type { PromotionRecord } from '../../store/store.ts';
import type { AuditWriter } from '../audit-writer.ts';
import { type EngineDeps, systemContext } from '../deps.ts';
import { type BackgroundAnalyses, runTemplates, withSummary } from './analysis-runs.ts';
import { ensureRollout, planOf } from './record.ts';

/** what the reconciler does next with the promotion */
export type RolloutOutcome =
  | { kind: 'done'; message: string }
  | { kind: 'wait'; message: string }
  | { kind: 'rolledBack'; message: string }
  | { kind: 'failed'; message: string };

/** rollout texts carry crash output and test failures: keep them within the record's 2000 characters */
export const bounded = (text: string, max = 1900): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

type Deps = Pick<EngineDeps, 'store' | 'clock' | 'project' | 'runsDir' | 'logger'>;

export function createRolloutController(deps: Deps, audit: AuditWriter, background: BackgroundAnalyses, opts: { wake(afterMs: number): void }) {
  /** in-flight foreground analyses by promotion, aborted by a person's command */
  const foreground = new Map<string, AbortController>();

  async function save(r: RolloutRecord, patch: RolloutPatch, event?: { action: string; details: Record<string, unknown> }): Promise<RolloutRecord | undefined> {
    const updatedAt = deps.clock().toISOString();
    const next = {
      ...patch,
      ...(patch.message !== undefined ? { message: bounded(patch.message) } : {}),
      ...(patch.pauseReason ? { pauseReason: bounded(patch.pauseReason) } : {}),
      updatedAt,
    };
    const ok = await deps.store.transaction(async (tx) => {
      const done = await tx.rollouts.update(r.promotionId, { updatedAt: r.updatedAt }, next);
      if (done && event) {
        await audit.record(tx, systemContext, {
          action: event.action,
          outcome: 'succeeded',
          subject: `promotion:${r.promotionId}`,
          details: { service: r.service, environment: r.environment, version: r.canaryVersion, ...event.details },
        });
      }
      return done;
    });
    return ok ? { ...r, ...next } : undefined;
  }

  const launchOf = (r: RolloutRecord, which: 'canary' | 'stable') => {
    const promotionId = which === 'canary' ? r.promotionId : r.stablePromotionId!;
    return {
      environment: r.environment,
      service: r.service,
      version: which === 'canary' ? r.canaryVersion : r.stableVersion!,
      releaseId: which === 'canary' ? r.canaryReleaseId : r.stableReleaseId!,
      promotionId,
      artifactsDir: path.join(deps.runsDir, promotionId, 'artifacts'),
    };
  };

  /** all traffic back to the stable version, the new one stopped: the fast-track rollback (no analysis) */
  async function rollBack(traffic: TrafficControl, r: RolloutRecord, reason: string): Promise<RolloutOutcome> {
    background.stop(r.promotionId);
    let moved = r.stableVersion !== null;
    let note = '';
    if (r.stableVersion) {
      try {
        await traffic.setTraffic(r.environment, r.service, { weights: { [r.stableVersion]: 100, [r.canaryVersion]: 0 } });
      } catch (e) {
        // the stable version is not ready (it died, or never started): leave traffic where it is
        moved = false;
        note = `; traffic could not move back to ${r.stableVersion} (${e instanceof Error ? e.message : String(e)}), so it stays as it was`;
      }
    }
    if (moved || r.weight === 0) await traffic.stopVersion(r.environment, r.service, r.canaryVersion);
    const message = bounded(
      moved
        ? `rolled back to ${r.stableVersion} (code and config of release ${r.stableReleaseId}): ${reason}`
        : `${r.canaryVersion} ${r.weight === 0 ? 'stopped' : 'left running'}; ${r.stableVersion ? 'no rollback' : 'there is no previous version to roll back to'}: ${reason}${note}`,
    );
    await save(r, { phase: moved ? 'RolledBack' : 'Aborted', weight: moved ? 0 : r.weight, message, command: null, pauseReason: null }, { action: 'rollout.rolled-back', details: { reason: bounded(reason, 500), stable: r.stableVersion, trafficMoved: moved } });
    return moved ? { kind: 'rolledBack', message } : { kind: 'failed', message };
  }

  /** after a rollout: stop every version but the new one (the old stable, and any left by a failed rollout) */
  async function scaleDownOthers(traffic: TrafficControl, r: RolloutRecord): Promise<string[]> {
    const state = await traffic.state(r.environment, r.service);
    const others = (state?.versions ?? []).filter((v) => v.version !== r.canaryVersion && v.phase !== 'stopped').map((v) => v.version);
    for (const v of others) await traffic.stopVersion(r.environment, r.service, v);
    return others;
  }

  /** run one step; 'next' when it is done */
  async function runStep(traffic: TrafficControl, r: RolloutRecord, s: PlanStep): Promise<'next' | { wait: string } | { abort: string } | { pause: string }> {
    switch (s.kind) {
      case 'start': {
        if (r.stableVersion) {
          const st = await traffic.startVersion(launchOf(r, 'stable'));
          if (!st.ready) return { abort: `the stable version ${r.stableVersion} is not running and did not start: ${st.message}` };
        }
        const c = await traffic.startVersion(launchOf(r, 'canary'));
        return c.ready ? 'next' : { abort: `${r.canaryVersion} did not become ready: ${c.message}` };
      }
      case 'setWeight': {
        const weights = r.stableVersion ? { [r.stableVersion]: 100 - s.weight, [r.canaryVersion]: s.weight } : { [r.canaryVersion]: 100 };
        await traffic.setTraffic(r.environment, r.service, { weights });
        return 'next';
      }
      case 'preview':
        await traffic.setTraffic(r.environment, r.service, { weights: { [r.stableVersion!]: 100, [r.canaryVersion]: 0 }, headerRoutes: [previewRoute(r)] });
        return 'next';
      case 'switch':
        await traffic.setTraffic(r.environment, r.service, { weights: { [r.stableVersion!]: 0, [r.canaryVersion]: 100 } });
        return 'next';
      case 'pause': {
        if (s.durationMs === undefined) return { pause: s.reason };
        const left = Date.parse(r.stepStartedAt) + s.durationMs - deps.clock().getTime();
        if (left <= 0) return 'next';
        opts.wake(left);
        return { wait: `${s.reason}: ${Math.ceil(left / 1000)} s left` };
      }
      case 'analysis': {
        const ctrl = new AbortController();
        foreground.set(r.promotionId, ctrl);
        try {
          let result: Awaited<ReturnType<typeof runTemplates>>;
          try {
            result = await runTemplates(deps, traffic, r, s.templates, ctrl.signal);
          } catch (e) {
            return { abort: `${s.label} could not run: ${e instanceof Error ? e.message : String(e)}` };
          }
          if (result.aborted) return { wait: `${s.label} interrupted` };
          await save(r, { analysis: withSummary(r.analysis, { label: s.label, phase: result.phase, message: result.message, at: deps.clock().toISOString() }) }, { action: 'rollout.analysis', details: { step: s.label, phase: result.phase, message: result.message } });
          if (result.phase === 'Successful') return 'next';
          if (result.phase === 'Inconclusive') return { pause: `${s.label} inconclusive: ${result.message}; \`stagegate rollout promote\` to go on, \`retry\` to measure again, \`abort\` to roll back` };
          if (s.switchBack) await traffic.setTraffic(r.environment, r.service, { weights: { [r.stableVersion!]: 100, [r.canaryVersion]: 0 } });
          return { abort: `${s.label} ${result.phase}: ${result.message}` };
        } finally {
          foreground.delete(r.promotionId);
        }
      }
    }
  }

  /** promote: past the current pause (or the paused step); promote-full: to the final traffic shift, skipping analyses; retry: the same step again */
  function afterCommand(cmd: RolloutRecord['command'], r: RolloutRecord, plan: PlanStep[]): number {
    if (cmd === 'promote-full') {
      const last = plan.findLastIndex((s) => (s.kind === 'setWeight' && s.weight === 100) || s.kind === 'switch');
      return Math.max(r.stepIndex, last);
    }
    if (cmd === 'promote' && (r.phase === 'Paused' || plan[r.stepIndex]?.kind === 'pause')) return r.stepIndex + 1;
    return r.stepIndex;
  }

  const previewRoute = (r: RolloutRecord) => {
    const h = deps.project.environments.find((e) => e.name === r.environment)!.rollout.previewHeader;
    return { header: h.name, value: h.value, version: r.canaryVersion };
  };

  /** one pass over a Deploying promotion on a target with traffic control */
  async function advance(p: PromotionRecord, env: Environment, target: Target): Promise<RolloutOutcome> {
    const traffic = target.traffic!;
    let r: RolloutRecord | undefined = await ensureRollout(deps, audit, p, env, traffic);
    const plan = planOf(env, r);
    if (r.phase === 'RolledBack' || r.phase === 'Aborted') return r.stableVersion ? { kind: 'rolledBack', message: r.message } : { kind: 'failed', message: r.message };
    if (r.command === 'abort') return rollBack(traffic, r, `aborted by ${r.commandBy}`);
    if (r.command) {
      const cmd = r.command;
      const r0: RolloutRecord = r;
      const r1 = await save(r0, { command: null, phase: 'Progressing', pauseReason: null, stepIndex: afterCommand(cmd, r0, plan), stepStartedAt: deps.clock().toISOString() }, { action: 'rollout.command-applied', details: { command: cmd, by: r0.commandBy, step: r0.stepIndex } });
      if (!r1) return { kind: 'wait', message: 'rollout changed meanwhile; next pass' };
      r = r1;
    }
    // the background analysis watches paused rollouts too: a failing canary is rolled back while it waits for a person
    const bg = background.outcome(p.id);
    if (bg?.error || (bg?.result && bg.result.phase !== 'Successful' && !bg.result.aborted)) {
      const why = bg.error ?? `${bg.result!.phase}: ${bg.result!.message}`;
      return rollBack(traffic, r, `background analysis ${why}`);
    }
    const watch = (at: RolloutRecord) => {
      // policy step k is plan step k + 1 (plan step 0 starts the new version)
      if (!env.rollout.analysis || at.strategy !== 'canary' || !at.stableVersion || at.stepIndex < env.rollout.analysis.startingStep + 1) return;
      background.ensure(p.id, (signal) => runTemplates(deps, traffic, at, env.rollout.analysis!.templates, signal));
    };
    watch(r);
    if (r.phase === 'Paused') return { kind: 'wait', message: r.pauseReason ?? 'paused' };
    while (r.stepIndex < plan.length) {
      const s = plan[r.stepIndex]!;
      watch(r);
      const out = await runStep(traffic, r, s);
      const fresh = await deps.store.read.rollouts.get(p.id);
      if (fresh?.command === 'abort') return rollBack(traffic, fresh, `aborted by ${fresh.commandBy}`);
      if (out === 'next') {
        const weight = s.kind === 'setWeight' ? s.weight : s.kind === 'switch' ? 100 : (fresh ?? r).weight;
        const saved: RolloutRecord | undefined = await save(fresh ?? r, { stepIndex: r.stepIndex + 1, stepStartedAt: deps.clock().toISOString(), weight, message: `done: ${describeStep(s)}` }, { action: 'rollout.step', details: { step: r.stepIndex, did: describeStep(s), weight } });
        if (!saved) return { kind: 'wait', message: 'rollout changed meanwhile; next pass' };
        r = saved;
        continue;
      }
      if ('abort' in out) return rollBack(traffic, fresh ?? r, out.abort);
      if ('pause' in out) {
        await save(fresh ?? r, { phase: 'Paused', pauseReason: out.pause, message: out.pause }, { action: 'rollout.paused', details: { step: r.stepIndex, reason: out.pause } });
        return { kind: 'wait', message: out.pause };
      }
      if ((fresh ?? r).message !== out.wait) await save(fresh ?? r, { message: out.wait });
      return { kind: 'wait', message: out.wait };
    }
    background.stop(p.id);
    if (r.phase !== 'Completed') await save(r, { phase: 'Completed', message: `${r.canaryVersion} has all traffic` }, { action: 'rollout.completed', details: { weight: 100 } });
    return { kind: 'done', message: `rolled out with ${r.strategy}: ${r.canaryVersion} has all traffic` };
  }

  return {
    advance,
    planOf,
    rollBack,
    save,
    /** a person's command arrived: stop a running analysis so the next pass sees it at once */
    interrupt(promotionId: string) {
      foreground.get(promotionId)?.abort();
    },
    interruptAll() {
      for (const c of foreground.values()) c.abort();
    },
    /** let a person's command interrupt work outside the controller (verification) */
    track(promotionId: string, ctrl: AbortController) {
      foreground.set(promotionId, ctrl);
      return () => {
        if (foreground.get(promotionId) === ctrl) foreground.delete(promotionId);
      };
    },
    scaleDownOthers,
  };
}
export type RolloutController = ReturnType<typeof createRolloutController>;
