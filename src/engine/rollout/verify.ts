/**
 * Verification after a rollout on a target with traffic control: the environment's integration test
 * command runs against the proxy (with faults injected into the new version so the tests see
 * realistic conditions) while its analysis runs; a failure rolls back code and config together when
 * the policy says so. Once verified, the previous version keeps running for `scaleDownDelay` (a fast
 * rollback is only a weight change meanwhile), then it is drained and stopped, and the promotion succeeds.
 */
import path from 'node:path';
import type { Environment } from '../../project/schema.ts';
import type { Target } from '../../rollout/target.ts';
import type { PromotionRecord } from '../../store/store.ts';
import type { EngineDeps } from '../deps.ts';
import { runStep } from '../run-step.ts';
import { runTemplates, summaries, withSummary } from './analysis-runs.ts';
import { bounded, type RolloutController, type RolloutOutcome } from './controller.ts';

const VERIFIED = 'verification';
const SCALED_DOWN = 'scaled down the previous version';

type Deps = Pick<EngineDeps, 'store' | 'clock' | 'project' | 'runsDir' | 'sessions' | 'apiAudience' | 'ageIdentityDir'>;

export function createRolloutVerifier(deps: Deps, controller: RolloutController, opts: { wake(afterMs: number): void }) {
  /** run the command and the analysis together (the analysis ends with the tests); both must pass. A person's abort ends the wait at once. */
  async function check(p: PromotionRecord, env: Environment, target: Target): Promise<{ passed: boolean; message: string; aborted?: boolean }> {
    const v = env.verification;
    const traffic = target.traffic!;
    const r = (await deps.store.read.rollouts.get(p.id))!;
    const state = await traffic.state(p.environment, p.service);
    const inject = v?.inject ?? { latencyMs: 0, errorRate: 0 };
    const injecting = inject.latencyMs > 0 || inject.errorRate > 0;
    if (injecting) await traffic.inject(p.environment, p.service, p.version, inject);
    const ctrl = new AbortController();
    const person = new AbortController();
    const untrack = controller.track(p.id, person);
    const aborted = new Promise<{ passed: false; message: string; aborted: true }>((resolve) =>
      person.signal.addEventListener('abort', () => {
        ctrl.abort();
        resolve({ passed: false, message: 'aborted by a person', aborted: true });
      }),
    );
    try {
      const command = v?.command
        ? runStep(deps, p, 'verify', target, path.join(deps.runsDir, p.id, 'artifacts'), { verification: { command: v.command, url: state?.url ?? '' } }).then((o) => {
            ctrl.abort(); // the analysis watches while the tests run, and ends with them
            return { passed: o.status === 'succeeded', message: `tests ${o.status}: ${o.message}` };
          })
        : undefined;
      const analysis = v?.analysis
        ? runTemplates(deps, traffic, r, v.analysis.templates, ctrl.signal).then(
            (a) => ({ passed: a.phase === 'Successful', message: `analysis ${a.phase}: ${a.message}` }),
            (e: unknown) => ({ passed: false, message: `analysis could not run: ${e instanceof Error ? e.message : String(e)}` }),
          )
        : undefined;
      const both = Promise.all([command, analysis]);
      both.catch(() => {}); // after an abort nobody waits for the tests: their end must not be an unhandled rejection
      const first = await Promise.race([both, aborted]);
      if (!Array.isArray(first)) return first;
      const [c, a] = first;
      const parts = [c, a].filter((x) => x !== undefined);
      if (parts.length === 0) return { passed: true, message: 'no verification configured' };
      const failed = parts.filter((x) => !x.passed);
      return { passed: failed.length === 0, message: (failed.length ? failed : parts).map((x) => x.message).join('; ') };
    } finally {
      untrack();
      if (injecting) await traffic.inject(p.environment, p.service, p.version, { latencyMs: 0, errorRate: 0 });
    }
  }

  /** one pass over a Verifying promotion on a target with traffic control */
  async function advance(p: PromotionRecord, env: Environment, target: Target): Promise<RolloutOutcome> {
    let r = await deps.store.read.rollouts.get(p.id);
    if (!r) return { kind: 'failed', message: 'the rollout record is missing; request the promotion again' };
    if (r.command === 'abort') return controller.rollBack(target.traffic!, r, `aborted by ${r.commandBy} during verification`);
    let verified = summaries(r.analysis).find((s) => s.label === VERIFIED);
    if (!verified) {
      const result = await check(p, env, target);
      if (result.aborted) {
        // a person's abort, or the server stopping (then the next start verifies again; the tests' step is adopted)
        const fresh = (await deps.store.read.rollouts.get(p.id)) ?? r;
        if (fresh.command === 'abort') return controller.rollBack(target.traffic!, fresh, `aborted by ${fresh.commandBy} during verification`);
        return { kind: 'wait', message: 'verification interrupted; it starts again on the next pass' };
      }
      const at = deps.clock().toISOString();
      r = await controller.save(r, { analysis: withSummary(r.analysis, { label: VERIFIED, phase: result.passed ? 'Successful' : 'Failed', message: result.message, at }), message: `verification ${result.passed ? 'passed' : 'failed'}` }, { action: 'rollout.verified', details: { passed: result.passed, message: result.message } });
      if (!r) return { kind: 'wait', message: 'rollout changed meanwhile; next pass' };
      verified = { label: VERIFIED, phase: result.passed ? 'Successful' : 'Failed', message: result.message, at };
    }
    if (verified.phase !== 'Successful') {
      if ((env.verification?.onFailure ?? 'rollback') === 'rollback') return controller.rollBack(target.traffic!, r, `verification failed: ${verified.message}`);
      return { kind: 'failed', message: bounded(`verification failed: ${verified.message} (onFailure: fail, so ${p.version} keeps all traffic; \`stagegate rollback\` returns to ${r.stableVersion ?? 'nothing: there is no previous version'})`) };
    }
    if (r.message !== SCALED_DOWN) {
      const left = r.stableVersion ? Date.parse(verified.at) + env.rollout.scaleDownDelayMs - deps.clock().getTime() : 0;
      if (left > 0) {
        opts.wake(left);
        return { kind: 'wait', message: `verified (${verified.message}); ${r.stableVersion} scales down in ${Math.ceil(left / 1000)} s (until then \`stagegate rollout abort\` rolls back at once)` };
      }
      const stopped = await controller.scaleDownOthers(target.traffic!, r);
      await controller.save(r, { message: SCALED_DOWN }, { action: 'rollout.scaled-down', details: { stopped } });
    }
    return { kind: 'done', message: `verified: ${verified.message}` };
  }

  return { advance };
}
