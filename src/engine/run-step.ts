/** Run a side-effecting step of a promotion at most once, adopting it after a restart. */
import type { StepFacts, Target, TargetStep, TargetStepHandle } from '../rollout/target.ts';
import type { PromotionRecord } from '../store/store.ts';
import type { EngineDeps } from './deps.ts';
import { deployCredentialFor } from './sessions.ts';
import { openServerSecrets } from '../secrets/server-secrets.ts';

export interface StepOutcome {
  status: 'succeeded' | 'failed';
  message: string;
}

export async function runStep(
  deps: Pick<EngineDeps, 'store' | 'clock' | 'sessions' | 'apiAudience' | 'project' | 'ageIdentityDir'>,
  p: PromotionRecord,
  step: TargetStep,
  target: Target,
  artifactsDir: string,
  extra: Pick<StepFacts, 'verification'> = {},
): Promise<StepOutcome> {
  let rec = await deps.store.read.steps.get(p.id, step);
  if (rec && rec.status !== 'running') return { status: rec.status, message: rec.message ?? '' };
  let handle: TargetStepHandle | undefined;
  if (!rec) {
    let secrets: Record<string, unknown> | undefined;
    if (step === 'deploy') {
      // decrypted only now, handed to this step alone: a 0600 file in its run folder, deleted when it ends
      const s = await openServerSecrets({ projectDir: deps.project.baseDir, identityDir: deps.ageIdentityDir, env: p.environment, service: p.service });
      if (s.status === 'error') return { status: 'failed', message: `deploy not started: ${s.message}` };
      if (s.status === 'opened') secrets = s.opened.data;
    }
    const deployToken = (await deployCredentialFor(deps, p.id, p.environment)).token;
    const release = await deps.store.read.releases.get(p.releaseId);
    const subjects = (release?.subjects ?? []).map((s) => ({ name: s.name, kind: s.kind, digest: s.digest }));
    const approvers = (await deps.store.read.approvals.list(p.id)).filter((a) => a.decision === 'approve').map((a) => a.approver);
    const facts = { promotionId: p.id, service: p.service, version: p.version, releaseId: p.releaseId, environment: p.environment, artifactsDir, deployToken, subjects, approvers, ...extra, ...(secrets ? { secrets } : {}) };
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
