/**
 * The reconcile loop: moves every active promotion one durable state at a time. Each transition
 * commits with its audit entry; side-effecting steps (deploy, verify) are recorded in the steps table
 * and run by the exec runner at most once, so a restart picks every promotion up where it was.
 * One active promotion per (service, environment): the oldest goes first, the others wait.
 */
import path from 'node:path';
import { isTerminal, type PromotionState, promotionStates } from '../domain/promotion.ts';
import type { PromotionPatch, PromotionRecord } from '../store/store.ts';
import type { AuditWriter } from './audit-writer.ts';
import { type EngineDeps, systemContext } from './deps.ts';
import { runGates } from './gates.ts';
import type { GateResult } from '../domain/promotion.ts';
import type { Environment } from '../project/schema.ts';
import { evaluateGateRules } from '../policy/cel/gate-rules.ts';
import { activeFreezes, describeFreeze } from '../policy/freeze.ts';
import { type ApprovalDeps, approvalState } from './approval-flow.ts';
import { activeSkips } from './break-glass.ts';
import { formatDuration } from './duration.ts';
import { gateFacts } from './gate-facts.ts';
import { policyDigestFor } from './policy-digest.ts';

const failureMessage = (failed: readonly GateResult[]) =>
  `${failed.length} gate(s) failed: ${failed.map((g) => `[${g.gate}${g.subject ? ` ${g.subject}` : ''}] ${g.message}`).join('; ')}`;
import { runStep } from './run-step.ts';
import { createBackgroundAnalyses } from './rollout/analysis-runs.ts';
import { createRolloutController, type RolloutOutcome } from './rollout/controller.ts';
import { createRolloutVerifier } from './rollout/verify.ts';

const activeStates = promotionStates.filter((s) => !isTerminal(s));

export function createReconciler(deps: EngineDeps & ApprovalDeps, audit: AuditWriter, policy: { holdReason(environment: string): Promise<string | undefined> }) {
  const inflight = new Map<string, Promise<void>>();
  const failures = new Map<string, { n: number; until: number }>();
  let timer: NodeJS.Timeout | undefined;
  const wakers = new Set<NodeJS.Timeout>();
  /** run a pass after `ms` (timed pauses, scale-down delays) instead of waiting for the next interval */
  const wake = (ms: number) => {
    const t = setTimeout(() => {
      wakers.delete(t);
      void kick().catch(() => {});
    }, Math.min(ms + 5, 2_147_483_647));
    t.unref();
    wakers.add(t);
  };
  // a background analysis that ends interrupts the promotion's running step, so its verdict acts at once
  const background = createBackgroundAnalyses((promotionId, failed) => {
    if (failed) controller.interrupt(promotionId);
    void kick().catch(() => {});
  });
  const controller = createRolloutController(deps, audit, background, { wake });
  const rollouts = { controller, verifier: createRolloutVerifier(deps, controller, { wake }) };
  let ticking: Promise<void> | undefined;

  async function move(p: PromotionRecord, to: PromotionState, patch: PromotionPatch, details: Record<string, unknown> = {}) {
    const now = deps.clock().toISOString();
    return deps.store.transaction(async (tx) => {
      const ok = await tx.promotions.update(p.id, p.state, { ...patch, state: to, updatedAt: now, stateChangedAt: now });
      if (ok) {
        await audit.record(tx, systemContext, {
          action: 'promotion.transition',
          outcome: to === 'Failed' ? 'failed' : 'succeeded',
          subject: `promotion:${p.id}`,
          details: JSON.parse(JSON.stringify({ from: p.state, to, service: p.service, version: p.version, environment: p.environment, message: patch.message ?? null, ...details })),
        });
      }
      return ok;
    });
  }

  /** one step of the state machine; returns false when the promotion must wait or is done */
  async function step(p: PromotionRecord): Promise<boolean> {
    const env = deps.project.environments.find((e) => e.name === p.environment);
    if (!env) {
      return move(p, 'Failed', { message: `environment ${p.environment} is no longer in the project file; request the promotion again` });
    }
    const target = deps.targets.get(env.target)!;
    const artifactsDir = path.join(deps.runsDir, p.id, 'artifacts');
    switch (p.state) {
      case 'Pending': {
        const policyHold = await policy.holdReason(p.environment);
        if (policyHold) return hold(p, `held: ${policyHold}`);
        const skips = await activeSkips(deps, p.id);
        if (skips.pending) return hold(p, 'waiting for a second person to confirm the break-glass request');
        const frozen = skips.skip.has('freeze') ? undefined : describeFreeze(activeFreezes(env.freezes, { service: p.service, at: deps.clock() }), env.name);
        if (frozen) return hold(p, `held: ${frozen}`);
        return move(p, 'Gating', { message: 'running gates' });
      }
      case 'Gating': {
        const release = await deps.store.read.releases.get(p.releaseId);
        if (!release) return move(p, 'Failed', { message: `release ${p.releaseId} is missing from the store` });
        const skips = await activeSkips(deps, p.id);
        const gates = await runGates(deps, p, release, artifactsDir, skips);
        const failed = gates.filter((g) => !g.passed);
        const policyDigest = policyDigestFor(deps, p.service, p.environment);
        if (failed.length > 0) {
          await move(p, 'Failed', { gates, message: failureMessage(failed) }, { gates, policyDigest });
          return false;
        }
        const message = `all ${gates.length} gate checks passed`;
        if (env.approvals && !skips.skip.has('approvals')) {
          return move(p, 'AwaitingApproval', { gates, message: `${message}; waiting for approvals` }, { gates, policyDigest });
        }
        const frozen = skips.skip.has('freeze') ? undefined : describeFreeze(activeFreezes(env.freezes, { service: p.service, at: deps.clock() }), env.name);
        if (frozen) return move(p, 'AwaitingApproval', { gates, message: `${message}; held before deploy: ${frozen}` }, { gates, policyDigest });
        return beforeDeploy(p, env, gates);
      }
      case 'AwaitingApproval':
        return beforeDeploy(p, env);
      case 'Deploying': {
        if (target.traffic) return afterRollout(p, await rollouts.controller.advance(p, env, target), 'Verifying');
        const outcome = await runStep(deps, p, 'deploy', target, artifactsDir);
        if (outcome.status === 'failed') {
          await move(p, 'Failed', { message: outcome.message });
          return false;
        }
        return move(p, 'Verifying', { message: `deployed: ${outcome.message}` });
      }
      case 'Verifying': {
        if (target.traffic) return afterRollout(p, await rollouts.verifier.advance(p, env, target), 'Succeeded');
        if (!target.has('verify')) {
          await move(p, 'Succeeded', { message: `${p.message ?? 'deployed'}; the target has no verify command`, succeededAt: deps.clock().toISOString() });
          return false;
        }
        const outcome = await runStep(deps, p, 'verify', target, artifactsDir);
        if (outcome.status === 'failed') await move(p, 'Failed', { message: `verification failed: ${outcome.message}` });
        else await move(p, 'Succeeded', { message: `verified: ${outcome.message}`, succeededAt: deps.clock().toISOString() });
        return false;
      }
      default:
        return false;
    }
  }

  /** the promotion's next state after a pass of its rollout (Deploying) or verification (Verifying) */
  async function afterRollout(p: PromotionRecord, o: RolloutOutcome, next: 'Verifying' | 'Succeeded'): Promise<boolean> {
    switch (o.kind) {
      case 'wait':
        return hold(p, o.message);
      case 'done':
        return move(p, next, { message: o.message, ...(next === 'Succeeded' ? { succeededAt: deps.clock().toISOString() } : {}) });
      case 'rolledBack':
        await move(p, 'RolledBack', { message: o.message });
        return false;
      case 'failed':
        await move(p, 'Failed', { message: o.message });
        return false;
    }
  }

  /** stay in the current state, saying why (written only when the reason changes) */
  async function hold(p: PromotionRecord, message: string): Promise<false> {
    if (p.message !== message) await deps.store.transaction((tx) => tx.promotions.update(p.id, p.state, { message, updatedAt: deps.clock().toISOString() }));
    return false;
  }

  /** the last checks before Deploying: approvals, freeze windows, gate rules */
  async function beforeDeploy(p: PromotionRecord, env: Environment, gatesSoFar: readonly GateResult[] = p.gates ?? []): Promise<boolean> {
    const skips = await activeSkips(deps, p.id);
    const policyDigest = policyDigestFor(deps, p.service, p.environment);
    const state = env.approvals && !skips.skip.has('approvals') ? await approvalState(deps, p) : undefined;
    if (state) {
      const ev = state.evaluation;
      if (ev.rejected) {
        await move(p, 'Failed', { message: `rejected by ${ev.rejected.by}: ${ev.rejected.comment || '(no comment)'}` }, { policyDigest, binding: state.binding });
        return false;
      }
      if (!ev.satisfied) {
        const waited = deps.clock().getTime() - Date.parse(p.stateChangedAt);
        const missing = ev.missing.map((m) => `${m.rule}: ${m.have}/${m.needed} from ${m.eligible}`).join('; ');
        if (waited > env.approvals!.timeoutMs) {
          await move(p, 'Failed', { message: `approvals timed out after ${formatDuration(waited)}; still missing ${missing}` }, { policyDigest });
          return false;
        }
        return hold(p, `waiting for approvals: ${missing}${ev.ignored.length ? `; not counted: ${ev.ignored.map((i) => `${i.approver} (${i.why})`).join(', ')}` : ''}`);
      }
    }
    const frozen = skips.skip.has('freeze') ? undefined : describeFreeze(activeFreezes(env.freezes, { service: p.service, at: deps.clock() }), env.name);
    if (frozen) return hold(p, `held before deploy: ${frozen}`);
    const release = await deps.store.read.releases.get(p.releaseId);
    if (!release) return move(p, 'Failed', { message: `release ${p.releaseId} is missing from the store` });
    const rules = deps.project.gateRules[p.service]?.[p.environment] ?? [];
    const facts = await gateFacts(deps, p, release, state?.approvals ?? [], skips.ids.length > 0);
    const outcome = evaluateGateRules(rules, facts);
    const ruleGates: GateResult[] = outcome.results.map((r) => ({ gate: `rule:${r.id}`, passed: r.passed, message: r.message }));
    const gates = [...gatesSoFar, ...ruleGates];
    const details = { policyDigest, gates, ...(state ? { binding: state.binding, approvals: state.evaluation.counted } : {}), ...(skips.ids.length ? { breakGlass: skips.ids, skipped: [...skips.skip] } : {}) };
    if (outcome.failed > 0) {
      await move(p, 'Failed', { gates, message: failureMessage(ruleGates.filter((g) => !g.passed)) }, details);
      return false;
    }
    const target = deps.project.environments.find((e) => e.name === p.environment)!.target;
    return move(p, 'Deploying', { gates, message: `${state ? 'approved; ' : ''}all checks passed${skips.ids.length ? ` (break-glass ${skips.ids.join(', ')} skipped ${[...skips.skip].join(', ')})` : ''}; deploying with target ${target}` }, details);
  }

  async function advance(id: string): Promise<void> {
    for (let i = 0; i < 16; i++) {
      const p = await deps.store.read.promotions.get(id);
      if (!p || isTerminal(p.state)) return;
      if (!(await step(p))) return;
    }
  }

  async function tick(): Promise<void> {
    const active = await deps.store.read.promotions.list({ states: activeStates, limit: 10_000 });
    const heads = new Map<string, PromotionRecord>();
    for (const p of active) {
      const key = `${p.service}\u0000${p.environment}`;
      if (!heads.has(key)) heads.set(key, p);
    }
    for (const p of heads.values()) {
      if (inflight.has(p.id)) continue;
      const backoff = failures.get(p.id);
      if (backoff && backoff.until > Date.now()) continue;
      const run = advance(p.id)
        .then(() => {
          failures.delete(p.id);
        })
        .catch(async (e: unknown) => {
          // a target that cannot be reached (a local host that died, a full disk): retry with backoff, and say so on the promotion
          const n = (failures.get(p.id)?.n ?? 0) + 1;
          const waitMs = Math.min(500 * 2 ** (n - 1), 30_000);
          failures.set(p.id, { n, until: Date.now() + waitMs });
          deps.logger.error({ err: e, promotion: p.id, attempt: n }, 'reconcile step failed; will retry');
          const cur = await deps.store.read.promotions.get(p.id).catch(() => undefined);
          const why = e instanceof Error ? e.message : String(e);
          if (cur && !isTerminal(cur.state)) await hold(cur, `${cur.state}: attempt ${n} failed: ${why.slice(0, 500)}; retrying in ${Math.ceil(waitMs / 1000)} s`).catch(() => {});
        })
        .finally(() => inflight.delete(p.id));
      inflight.set(p.id, run);
    }
  }

  /** run one pass (no overlapping passes) */
  function kick(): Promise<void> {
    ticking ??= tick().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  return {
    kick,
    start(intervalMs: number) {
      timer = setInterval(() => void kick().catch((e: unknown) => deps.logger.error({ err: e }, 'reconcile pass failed')), intervalMs);
      void kick();
    },
    /** the rollout controller, for people's commands (engine.rollouts) */
    rolloutController: controller,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const t of wakers) clearTimeout(t);
      wakers.clear();
      background.stopAll();
      controller.interruptAll();
    },
    /** wait until nothing is in flight (tests and the CLI's --wait use the API instead) */
    async settle(): Promise<void> {
      await ticking;
      await Promise.all(inflight.values());
    },
  };
}
export type Reconciler = ReturnType<typeof createReconciler>;
