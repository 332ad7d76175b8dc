/**
 * A rollout strategy expanded into the flat list of steps the controller runs one at a time
 * (docs/rollouts.md). The list is a pure function of the policy and whether a stable version runs,
 * so after a restart the controller recomputes it and continues at the stored step index.
 */
import type { RolloutPolicy } from '../../project/rollout-policy.ts';

export type PlanStep =
  /** start the new version's instances and wait until they are ready (no traffic yet) */
  | { kind: 'start' }
  | { kind: 'setWeight'; weight: number }
  /** timed, or until a person promotes when durationMs is absent */
  | { kind: 'pause'; durationMs?: number; reason: string }
  /** `switchBack`: the blue-green post-promotion analysis, whose failure switches traffic back */
  | { kind: 'analysis'; templates: string[]; label: string; switchBack?: boolean }
  /** blue-green: the preview header reaches the new version */
  | { kind: 'preview' }
  /** blue-green: all traffic to the new version at once */
  | { kind: 'switch' };

export function planSteps(policy: RolloutPolicy, hasStable: boolean): PlanStep[] {
  const start: PlanStep = { kind: 'start' };
  // the first version of a service has nothing to shift traffic from: it goes all at once, as in Argo Rollouts
  if (!hasStable || policy.strategy === 'allAtOnce') return [start, { kind: 'setWeight', weight: 100 }];
  if (policy.strategy === 'canary') {
    const steps: PlanStep[] = [start];
    policy.steps.forEach((s, i) => {
      if ('setWeight' in s) steps.push({ kind: 'setWeight', weight: s.setWeight });
      else if ('pause' in s) {
        const d = s.pause.durationMs;
        steps.push(d === undefined ? { kind: 'pause', reason: `step ${i + 1}: paused until \`stagegate rollout promote\`` } : { kind: 'pause', durationMs: d, reason: `step ${i + 1}: timed pause` });
      } else steps.push({ kind: 'analysis', templates: s.analysis.templates, label: `step ${i + 1} analysis` });
    });
    const last = steps.at(-1);
    if (!(last?.kind === 'setWeight' && last.weight === 100)) steps.push({ kind: 'setWeight', weight: 100 });
    return steps;
  }
  const steps: PlanStep[] = [start, { kind: 'preview' }];
  if (policy.prePromotionAnalysis) steps.push({ kind: 'analysis', templates: policy.prePromotionAnalysis.templates, label: 'pre-promotion analysis' });
  if (!policy.autoPromotion) steps.push({ kind: 'pause', reason: 'blue-green: preview ready; waiting for `stagegate rollout promote` to switch' });
  else if (policy.autoPromotionAfterMs) steps.push({ kind: 'pause', durationMs: policy.autoPromotionAfterMs, reason: 'blue-green: timed pause before the switch' });
  steps.push({ kind: 'switch' });
  if (policy.postPromotionAnalysis) steps.push({ kind: 'analysis', templates: policy.postPromotionAnalysis.templates, label: 'post-promotion analysis', switchBack: true });
  return steps;
}

export const describeStep = (s: PlanStep): string => {
  switch (s.kind) {
    case 'start':
      return 'start the new version';
    case 'setWeight':
      return `setWeight ${s.weight}`;
    case 'pause':
      return s.durationMs === undefined ? 'pause until promoted' : `pause ${s.durationMs} ms`;
    case 'analysis':
      return `${s.label} (${s.templates.join(', ')})`;
    case 'preview':
      return 'route the preview header to the new version';
    case 'switch':
      return 'switch all traffic to the new version';
  }
};
