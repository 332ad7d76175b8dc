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
  /** the release's signed subjects: files (artifact, config) and container images (repository + digest) */
  subjects?: readonly { name: string; kind: 'artifact' | 'config' | 'image'; digest: string }[];
  /** who approved the promotion (names), for targets that record them (gitops commit trailers) */
  approvers?: readonly string[];
  /** the environment's verification command and the URL it tests (targets with traffic control) */
  verification?: { command: string[]; url: string };
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
  /** present when the target can split traffic between versions (canary, blue-green) */
  traffic?: TrafficControl;
  /** false when the target has nothing to do for that step (e.g. no verify command) */
  has(step: TargetStep): boolean;
  prepare(step: TargetStep, facts: StepFacts): Promise<string>;
  launch(data: string): Promise<TargetStepHandle>;
  adopt(data: string): Promise<TargetStepHandle>;
}

/** one version of a service in an environment, started from a promotion's verified artifacts */
export interface VersionLaunch {
  environment: string;
  service: string;
  version: string;
  releaseId: string;
  promotionId: string;
  /** the verified artifacts (and effective-config.json) of that promotion: code and config together */
  artifactsDir: string;
}

export interface VersionStatus {
  version: string;
  phase: string;
  message: string;
}

export interface TrafficState {
  url: string;
  weights: Record<string, number>;
  versions: VersionStatus[];
}

/** per-version counters of the target's proxy, as the builtin analysis provider reads them */
export interface TrafficStats {
  versions: Record<string, { requests: number; errors: number; latencyMs: { p50: number; p90: number; p99: number; max: number }; health?: string }>;
}

/**
 * What a target that moves traffic between versions (the `local` target) can do. Every method is
 * idempotent, so a controller resuming after a restart may repeat the step it was in.
 */
export interface TrafficControl {
  /** start the version's instances (again: a no-op) and wait until they are ready */
  startVersion(v: VersionLaunch): Promise<{ ready: true } | { ready: false; message: string }>;
  /** weights in percent summing to 100; header routes send matching requests to one version */
  setTraffic(environment: string, service: string, t: { weights: Record<string, number>; headerRoutes?: { header: string; value: string; version: string }[] }): Promise<void>;
  /** drain and stop a version that gets no traffic (unknown or stopped: a no-op) */
  stopVersion(environment: string, service: string, version: string): Promise<void>;
  stats(environment: string, service: string): Promise<TrafficStats>;
  inject(environment: string, service: string, version: string, fault: { latencyMs?: number; errorRate?: number }): Promise<void>;
  /** undefined when nothing runs there yet */
  state(environment: string, service: string): Promise<TrafficState | undefined>;
}
