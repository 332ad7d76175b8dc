/** Run a side-effecting step of a promotion at most once, adopting it after a restart. */
import type { PromotionRecord } from '../store/store.ts';
import type { EngineDeps } from './deps.ts';
import type { Project } from '../project/schema.ts';

type Target = Project['targets'][string];

export interface StepOutcome {
  status: 'succeeded' | 'failed';
  message: string;
}

export async function runStep(
  deps: Pick<EngineDeps, 'store' | 'runner' | 'clock' | 'targetStateDir' | 'projectDir'>,
  p: PromotionRecord,
  step: string,
  argv: readonly string[],
  target: Target,
  artifactsDir: string,
): Promise<StepOutcome> {
  let rec = await deps.store.read.steps.get(p.id, step);
  if (rec && rec.status !== 'running') return { status: rec.status, message: rec.message ?? '' };
  let handle: Awaited<ReturnType<EngineDeps['runner']['adopt']>>;
  if (!rec) {
    const data = await deps.runner.prepare({
      promotionId: p.id,
      step,
      argv: [...argv],
      cwd: deps.projectDir,
      timeoutMs: target.timeoutMs,
      env: {
        ...target.env,
        STAGEGATE_SERVICE: p.service,
        STAGEGATE_VERSION: p.version,
        STAGEGATE_ENVIRONMENT: p.environment,
        STAGEGATE_RELEASE_ID: p.releaseId,
        STAGEGATE_PROMOTION_ID: p.id,
        STAGEGATE_STEP: step,
        STAGEGATE_ARTIFACTS_DIR: artifactsDir,
        STAGEGATE_STATE_DIR: deps.targetStateDir,
      },
    });
    const inserted = await deps.store.transaction((tx) =>
      tx.steps.start({ promotionId: p.id, step, data, startedAt: deps.clock().toISOString() }),
    );
    if (inserted) handle = await deps.runner.launch(data);
    else {
      rec = await deps.store.read.steps.get(p.id, step);
      if (!rec) throw new Error(`step ${step} of ${p.id} vanished`);
      if (rec.status !== 'running') return { status: rec.status, message: rec.message ?? '' };
      handle = await deps.runner.adopt(rec.data);
    }
  } else {
    handle = await deps.runner.adopt(rec.data);
  }
  const result = await handle.wait();
  await deps.store.transaction((tx) =>
    tx.steps.finish(p.id, step, { status: result.status, message: result.message, finishedAt: deps.clock().toISOString() }),
  );
  return { status: result.status, message: result.message };
}
