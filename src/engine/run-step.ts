/** Run a side-effecting step of a promotion at most once, adopting it after a restart. */
import type { Target, TargetStep, TargetStepHandle } from '../rollout/target.ts';
import type { PromotionRecord } from '../store/store.ts';
import type { EngineDeps } from './deps.ts';
import { deployCredentialFor } from './sessions.ts';

export interface StepOutcome {
  status: 'succeeded' | 'failed';
  message: string;
}

export async function runStep(
  deps: Pick<EngineDeps, 'store' | 'clock' | 'sessions' | 'apiAudience'>,
  p: PromotionRecord,
  step: TargetStep,
  target: Target,
  artifactsDir: string,
): Promise<StepOutcome> {
  let rec = await deps.store.read.steps.get(p.id, step);
  if (rec && rec.status !== 'running') return { status: rec.status, message: rec.message ?? '' };
  let handle: TargetStepHandle | undefined;
  if (!rec) {
    const deployToken = (await deployCredentialFor(deps, p.id, p.environment)).token;
    const facts = { promotionId: p.id, service: p.service, version: p.version, releaseId: p.releaseId, environment: p.environment, artifactsDir, deployToken };
    const data = await target.prepare(step, facts);
    const startedAt = deps.clock().toISOString();
    if (await deps.store.transaction((tx) => tx.steps.start({ promotionId: p.id, step, data, startedAt }))) {
      handle = await target.launch(data);
    }
    rec = await deps.store.read.steps.get(p.id, step);
    if (!rec) throw new Error(`step ${step} of ${p.id} vanished`);
    if (rec.status !== 'running') return { status: rec.status, message: rec.message ?? '' };
  }
  handle ??= await target.adopt(rec.data);
  const result = await handle.wait();
  const finishedAt = deps.clock().toISOString();
  await deps.store.transaction((tx) =>
    tx.steps.finish(p.id, step, {
      status: result.status,
      message: result.message,
      finishedAt,
      exitCode: result.exitCode,
      durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(rec.startedAt)),
      outputTail: result.outputTail,
    }),
  );
  return { status: result.status, message: result.message };
}
