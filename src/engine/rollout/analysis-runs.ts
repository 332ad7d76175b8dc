/**
 * Analysis for rollouts: the named templates of an environment's policy, instantiated with the
 * rollout's arguments (canary, stable, service, environment, promotion), merged into one run, with the
 * target's proxy counters as the builtin provider's source. Background analyses live here too.
 */
import { DomainError } from '../../domain/errors.ts';
import { type AnalysisRunResult, compileAnalysis, instantiateAnalysis, runAnalysis, summarize } from '../../rollout/analysis/index.ts';
import type { TrafficControl } from '../../rollout/target.ts';
import type { RolloutRecord } from '../../store/rollout-records.ts';
import type { EngineDeps } from '../deps.ts';

export interface AnalysisSummary {
  label: string;
  phase: AnalysisRunResult['phase'];
  message: string;
  at: string;
}

/** the most analysis summaries a rollout record keeps (oldest dropped) */
export const MAX_KEPT_SUMMARIES = 20;

export function rolloutArgs(r: RolloutRecord): Record<string, string> {
  return {
    canary: r.canaryVersion,
    ...(r.stableVersion ? { stable: r.stableVersion } : {}),
    service: r.service,
    environment: r.environment,
    promotion: r.promotionId,
  };
}

/** run the named templates (metrics of all of them together) until they decide or the signal aborts */
export async function runTemplates(
  deps: Pick<EngineDeps, 'project' | 'clock'>,
  traffic: TrafficControl | undefined,
  r: RolloutRecord,
  templates: readonly string[],
  signal: AbortSignal,
): Promise<AnalysisRunResult> {
  const args = rolloutArgs(r);
  const metrics: unknown[] = [];
  for (const name of templates) {
    const t = deps.project.analysisTemplates[name];
    if (!t) throw new DomainError('invalid_input', `analysis template ${name} is not in the project file`, { field: 'analysis.templates', fix: 'define it under analysis.templates in stagegate.yaml' });
    const instantiated = instantiateAnalysis(t, args, `analysis.templates.${name}`) as { metrics: unknown[] };
    metrics.push(...instantiated.metrics);
  }
  const statsSource = traffic ? () => traffic.stats(r.environment, r.service) : undefined;
  const compiled = compileAnalysis({ metrics }, { where: `analysis(${templates.join('+')})`, deps: statsSource ? { statsSource } : {} });
  const result = await runAnalysis(compiled, { signal, clock: deps.clock });
  return { ...result, message: summarize(result) };
}

/** append a summary to the record's bounded list (JSON text) */
export function withSummary(analysisJson: string, s: AnalysisSummary): string {
  // a corrupt list is replaced: it is a record of what happened, the audit log holds the same
  return JSON.stringify([...summaries(analysisJson), { ...s, message: s.message.slice(0, 500) }].slice(-MAX_KEPT_SUMMARIES));
}

export function summaries(analysisJson: string): AnalysisSummary[] {
  try {
    const parsed: unknown = JSON.parse(analysisJson);
    return Array.isArray(parsed) ? (parsed as AnalysisSummary[]) : [];
  } catch {
    return [];
  }
}

/** background analyses by promotion: started once per process, their outcome read on each pass */
export function createBackgroundAnalyses(onDone: (promotionId: string, failed: boolean) => void) {
  const runs = new Map<string, { ctrl: AbortController; result?: AnalysisRunResult; error?: string }>();
  return {
    ensure(promotionId: string, start: (signal: AbortSignal) => Promise<AnalysisRunResult>): void {
      if (runs.has(promotionId)) return;
      const entry: { ctrl: AbortController; result?: AnalysisRunResult; error?: string } = { ctrl: new AbortController() };
      runs.set(promotionId, entry);
      start(entry.ctrl.signal)
        .then((r) => {
          entry.result = r;
        })
        .catch((e: unknown) => {
          entry.error = e instanceof Error ? e.message : String(e);
        })
        .finally(() => onDone(promotionId, entry.result?.phase !== 'Successful' && !entry.result?.aborted));
    },
    outcome(promotionId: string): { result?: AnalysisRunResult; error?: string } | undefined {
      const e = runs.get(promotionId);
      return e && (e.result || e.error) ? e : undefined;
    },
    stop(promotionId: string): void {
      runs.get(promotionId)?.ctrl.abort();
      runs.delete(promotionId);
    },
    stopAll(): void {
      for (const e of runs.values()) e.ctrl.abort();
      runs.clear();
    },
  };
}
export type BackgroundAnalyses = ReturnType<typeof createBackgroundAnalyses>;
