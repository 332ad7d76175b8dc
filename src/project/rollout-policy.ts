/** The normalized rollout and verification policy of an environment (stagegate.yaml `rollout`, `verification`). */
import type { RolloutFile, VerificationFile } from './rollout-schema.ts';

export type CanaryStep = { setWeight: number } | { pause: { durationMs?: number } } | { analysis: { templates: string[] } };

export interface RolloutPolicy {
  strategy: 'allAtOnce' | 'canary' | 'blueGreen';
  steps: CanaryStep[];
  /** canary background analysis */
  analysis?: { templates: string[]; startingStep: number };
  previewHeader: { name: string; value: string };
  prePromotionAnalysis?: { templates: string[] };
  postPromotionAnalysis?: { templates: string[] };
  autoPromotion: boolean;
  autoPromotionAfterMs?: number;
  scaleDownDelayMs: number;
}

export interface VerificationPolicy {
  command?: string[];
  inject: { latencyMs: number; errorRate: number };
  analysis?: { templates: string[] };
  onFailure: 'rollback' | 'fail';
}

export const DEFAULT_SCALE_DOWN_DELAY_MS = 30_000;
export const DEFAULT_PREVIEW_HEADER = { name: 'x-stagegate-preview', value: '1' } as const;

export function normalizeRollout(f: RolloutFile | undefined): RolloutPolicy {
  return {
    strategy: f?.strategy ?? 'allAtOnce',
    steps: (f?.steps ?? []).map((s) => ('pause' in s ? { pause: s.pause.duration === undefined ? {} : { durationMs: s.pause.duration } } : s)),
    ...(f?.analysis ? { analysis: { templates: f.analysis.templates, startingStep: f.analysis.startingStep ?? 0 } } : {}),
    previewHeader: f?.previewHeader ?? { ...DEFAULT_PREVIEW_HEADER },
    ...(f?.prePromotionAnalysis ? { prePromotionAnalysis: f.prePromotionAnalysis } : {}),
    ...(f?.postPromotionAnalysis ? { postPromotionAnalysis: f.postPromotionAnalysis } : {}),
    autoPromotion: f?.autoPromotion ?? true,
    ...(f?.autoPromotionAfter !== undefined ? { autoPromotionAfterMs: f.autoPromotionAfter } : {}),
    scaleDownDelayMs: f?.scaleDownDelay ?? DEFAULT_SCALE_DOWN_DELAY_MS,
  };
}

export function normalizeVerification(f: VerificationFile | undefined): VerificationPolicy | undefined {
  if (!f) return undefined;
  return {
    ...(f.command ? { command: f.command } : {}),
    inject: { latencyMs: f.inject?.latency ?? 0, errorRate: f.inject?.errorRate ?? 0 },
    ...(f.analysis ? { analysis: f.analysis } : {}),
    onFailure: f.onFailure ?? 'rollback',
  };
}

/** every template name an environment's rollout and verification refer to, with the field that names it */
export function templateReferences(r: RolloutPolicy, v: VerificationPolicy | undefined): Array<{ name: string; field: (string | number)[] }> {
  const out: Array<{ name: string; field: (string | number)[] }> = [];
  const add = (names: readonly string[] | undefined, field: (string | number)[]) => {
    for (const [i, name] of (names ?? []).entries()) out.push({ name, field: [...field, 'templates', i] });
  };
  for (const [i, s] of r.steps.entries()) if ('analysis' in s) add(s.analysis.templates, ['rollout', 'steps', i, 'analysis']);
  add(r.analysis?.templates, ['rollout', 'analysis']);
  add(r.prePromotionAnalysis?.templates, ['rollout', 'prePromotionAnalysis']);
  add(r.postPromotionAnalysis?.templates, ['rollout', 'postPromotionAnalysis']);
  add(v?.analysis?.templates, ['verification', 'analysis']);
  return out;
}
