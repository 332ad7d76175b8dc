/**
 * A target deploys releases. Every target exposes its side-effecting steps (deploy, verify) in two
 * phases so the engine can record a step before it starts and adopt it after a restart: `prepare`
 * returns durable data, `launch` starts the step from it, `adopt` resumes watching it.
 */
export const targetSteps = ['deploy', 'verify'] as const;
export type TargetStep = (typeof targetSteps)[number];

/** what a step knows about the promotion it serves */
export interface StepFacts {
  promotionId: string;
  service: string;
  version: string;
  releaseId: string;
  environment: string;
  /** verified copies of the release's artifact and config files */
  artifactsDir: string;
  /** a credential scoped to this promotion (dies when it ends), for the step to call back */
  deployToken?: string;
  /** decrypted secrets for the deploy step only (never persisted; the target hands them to that step alone) */
  secrets?: Record<string, unknown>;
}

export interface TargetStepOutcome {
  status: 'succeeded' | 'failed';
  message: string;
  exitCode: number | null;
  /** the last lines of output, stdout then stderr, bounded */
  outputTail: string;
}

export interface TargetStepHandle {
  wait(): Promise<TargetStepOutcome>;
}

/** what an observe command reported: its stdout (JSON, validated by the caller), or why it failed */
export type ObserveOutcome = { ok: true; output: string } | { ok: false; error: string };

export interface Target {
  readonly type: string;
  /** the target's view of what runs in an environment (drift); absent when it cannot observe */
  observe?(environment: string): Promise<ObserveOutcome>;
  /** false when the target has nothing to do for that step (e.g. no verify command) */
  has(step: TargetStep): boolean;
  prepare(step: TargetStep, facts: StepFacts): Promise<string>;
  launch(data: string): Promise<TargetStepHandle>;
  adopt(data: string): Promise<TargetStepHandle>;
}
