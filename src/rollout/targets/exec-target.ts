/** The `exec` target: a deploy and an optional verify command, run at most once by the exec runner. */
import type { ExecTarget } from '../../project/schema.ts';
import type { StepFacts, Target, TargetStep, TargetStepHandle } from '../target.ts';
import type { ExecRunner, StepHandle } from './exec.ts';
import { runObserve } from './exec-observe.ts';

const TAIL = 4096;
/** observing is a read, run by gates and by attestation: it never waits longer than this */
export const OBSERVE_TIMEOUT_MAX_MS = 60_000;

export function wrapExecHandle(h: StepHandle): TargetStepHandle {
  return {
    async wait() {
      const o = await h.wait();
      const tail = [o.stdoutTail.trimEnd(), o.stderrTail.trimEnd()].filter(Boolean).join('\n--- stderr ---\n');
      return { status: o.status, message: o.message, exitCode: o.exitCode, outputTail: tail.slice(-TAIL) };
    },
  };
}

/** the variables every step command gets: what it serves */
export const stepEnv = (f: StepFacts, step: TargetStep): Record<string, string> => ({
  STAGEGATE_SERVICE: f.service,
  STAGEGATE_VERSION: f.version,
  STAGEGATE_ENVIRONMENT: f.environment,
  STAGEGATE_RELEASE_ID: f.releaseId,
  STAGEGATE_PROMOTION_ID: f.promotionId,
  STAGEGATE_STEP: step,
  STAGEGATE_ARTIFACTS_DIR: f.artifactsDir,
});

export function createExecTarget(deps: { config: ExecTarget; runner: ExecRunner; cwd: string; stateDir: string }): Target {
  const { config, runner } = deps;
  return {
    type: 'exec',
    has: (step: TargetStep) => (step === 'deploy' ? true : config.verify !== undefined),
    prepare(step: TargetStep, f: StepFacts) {
      const argv = step === 'deploy' ? config.deploy : config.verify;
      if (!argv) throw new Error(`exec target ${config.name} has no ${step} command`);
      return runner.prepare({
        promotionId: f.promotionId,
        step,
        argv: [...argv],
        cwd: deps.cwd,
        timeoutMs: config.timeoutMs,
        env: {
          ...config.env,
          ...stepEnv(f, step),
          STAGEGATE_STATE_DIR: deps.stateDir,
          ...(f.deployToken ? { STAGEGATE_DEPLOY_TOKEN: f.deployToken } : {}),
        },
      }, step === 'deploy' && f.secrets ? { secrets: f.secrets } : {});
    },
    ...(config.observe
      ? {
          observe: (environment: string) =>
            runObserve({
              argv: config.observe!,
              cwd: deps.cwd,
              timeoutMs: Math.min(config.timeoutMs, OBSERVE_TIMEOUT_MAX_MS),
              env: { ...config.env, STAGEGATE_ENVIRONMENT: environment, STAGEGATE_STATE_DIR: deps.stateDir, STAGEGATE_STEP: 'observe' },
            }),
        }
      : {}),
    launch: async (data) => wrapExecHandle(await runner.launch(data)),
    adopt: async (data) => wrapExecHandle(await runner.adopt(data)),
  };
}
