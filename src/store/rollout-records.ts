/** The Store's record and repository of rollouts: the durable progress of a promotion's traffic strategy (docs/rollouts.md). */
import type { Timestamp } from './store.ts';

export const rolloutPhases = ['Progressing', 'Paused', 'Completed', 'Aborted', 'RolledBack'] as const;
export type RolloutPhase = (typeof rolloutPhases)[number];
export const rolloutStrategies = ['allAtOnce', 'canary', 'blueGreen'] as const;
export type RolloutStrategy = (typeof rolloutStrategies)[number];
/** a person's pending instruction, consumed by the controller on its next pass */
export const rolloutCommands = ['promote', 'promote-full', 'abort', 'retry'] as const;
export type RolloutCommand = (typeof rolloutCommands)[number];

/** One rollout per promotion (the promotion id is the key). */
export interface RolloutRecord {
  promotionId: string;
  service: string;
  environment: string;
  strategy: RolloutStrategy;
  /** the version being rolled out and its release */
  canaryVersion: string;
  canaryReleaseId: string;
  /** what ran before (null for the first deploy of the service to the environment) */
  stableVersion: string | null;
  stableReleaseId: string | null;
  /** the promotion that deployed the stable version, whose run folder holds its artifacts and config */
  stablePromotionId: string | null;
  phase: RolloutPhase;
  /** index of the step being run (steps before it are done); equals the step count when all are done */
  stepIndex: number;
  stepStartedAt: Timestamp;
  /** the canary's traffic share now, 0..100 */
  weight: number;
  message: string;
  /** why it is paused (null when not paused) */
  pauseReason: string | null;
  command: RolloutCommand | null;
  /** who issued `command` */
  commandBy: string | null;
  /** JSON text: a bounded list of finished analysis runs (name, phase, message, at) */
  analysis: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

export type RolloutPatch = Partial<Pick<RolloutRecord, 'phase' | 'stepIndex' | 'stepStartedAt' | 'weight' | 'message' | 'pauseReason' | 'command' | 'commandBy' | 'analysis' | 'updatedAt'>>;

export interface RolloutRepo {
  /** insert; throws DomainError('conflict') when the promotion already has a rollout */
  insert(r: RolloutRecord): Promise<void>;
  get(promotionId: string): Promise<RolloutRecord | undefined>;
  /**
   * apply `patch` only when the stored record still has `expect.updatedAt` (optimistic concurrency:
   * the controller and a person's command never overwrite each other); returns whether it did
   */
  update(promotionId: string, expect: { updatedAt: Timestamp }, patch: RolloutPatch): Promise<boolean>;
  /** newest first (by createdAt, then promotionId), optionally for one service and/or environment */
  list(q: { service?: string; environment?: string; phases?: readonly RolloutPhase[]; limit: number }): Promise<RolloutRecord[]>;
}
