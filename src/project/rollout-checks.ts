/**
 * Whole-file checks of the rollout sections: a strategy's fields fit the strategy, strategies that move
 * traffic run on a target that can (local), and every analysis template referred to exists and compiles.
 */
import { DomainError } from '../domain/errors.ts';
import { checkAnalysisTemplate } from '../rollout/analysis/index.ts';
import { normalizeRollout, normalizeVerification, templateReferences } from './rollout-policy.ts';
import type { ProjectFile } from './schema.ts';
import type { SectionProblem } from './sections.ts';

const canaryOnly = ['steps', 'analysis'] as const;
const blueGreenOnly = ['previewHeader', 'prePromotionAnalysis', 'postPromotionAnalysis', 'autoPromotion', 'autoPromotionAfter'] as const;

export function checkRollouts(f: ProjectFile): SectionProblem[] {
  const problems: SectionProblem[] = [];
  const templates = f.analysis?.templates ?? {};
  for (const [name, t] of Object.entries(templates)) {
    try {
      checkAnalysisTemplate(t, `analysis.templates.${name}`);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      problems.push({ path: ['analysis', 'templates', name], message: e.message, fix: e.details.fix ?? 'see docs/analysis.md' });
    }
  }
  f.environments.forEach((e, i) => {
    const at = (...rest: (string | number)[]) => ['environments', i, ...rest];
    const r = e.rollout;
    if (r) {
      const wrong = r.strategy === 'canary' ? blueGreenOnly : r.strategy === 'blueGreen' ? canaryOnly : [...canaryOnly, ...blueGreenOnly];
      for (const k of wrong) {
        if (r[k] !== undefined) problems.push({ path: at('rollout', k), message: `${k} does not apply to strategy ${r.strategy}`, fix: 'remove it, or choose the strategy it belongs to (see docs/rollouts.md)' });
      }
      const target = f.targets[e.target];
      if (r.strategy !== 'allAtOnce' && target && target.type !== 'local') {
        problems.push({ path: at('rollout', 'strategy'), message: `strategy ${r.strategy} moves traffic, and target ${e.target} (${target.type}) cannot`, fix: 'use a local target, or allAtOnce and let the platform (e.g. Argo Rollouts) do the canary; see docs/rollouts.md' });
      }
    }
    if (e.verification && f.targets[e.target]?.type !== 'local') {
      problems.push({ path: at('verification'), message: `verification runs through the local target's proxy; target ${e.target} is not local`, fix: "use the target's own verify command instead" });
    }
    for (const ref of templateReferences(normalizeRollout(e.rollout), normalizeVerification(e.verification))) {
      if (!(ref.name in templates)) {
        const known = Object.keys(templates);
        problems.push({ path: at(...ref.field), message: `unknown analysis template "${ref.name}"`, fix: known.length ? `use one of: ${known.join(', ')}` : 'define it under analysis.templates' });
        continue;
      }
      // a step (or a verification without tests) waits for its analysis to end: every metric must stop by itself
      const background = ref.field[0] === 'rollout' && ref.field[1] === 'analysis';
      const waited = !background && !(ref.field[0] === 'verification' && e.verification?.command);
      const endless = (templates[ref.name]!.metrics as Array<{ name?: unknown; count?: unknown; interval?: unknown }>).find((m) => m && m.interval !== undefined && m.count === undefined);
      if (waited && endless) {
        problems.push({
          path: at(...ref.field),
          message: `template "${ref.name}" has metric ${String(endless.name)} with an interval and no count: this analysis would never end`,
          fix: 'give the metric a count, or use the template as background analysis (rollout.analysis) or beside a verification command',
        });
      }
    }
  });
  return problems;
}
