/**
 * Run every metric of a compiled analysis concurrently. The run's phase is the worst phase of the
 * metrics that are not dry-run (Failed > Error > Inconclusive > Successful). As in Argo Rollouts, a
 * metric that ends Failed, Error or Inconclusive terminates the others, which end Successful unless
 * they had already exceeded a limit. Aborting the signal ends the run the same way, `aborted: true`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { CompiledAnalysis } from './compile-analysis.ts';
import { type MetricPhase, type MetricResult, type RunDeps, runMetric } from './run-metric.ts';

export type AnalysisPhase = MetricPhase;

export interface AnalysisRunResult {
  phase: AnalysisPhase;
  /** the deciding metric's message, e.g. `error-rate: 2 failed measurements exceed failureLimit 1` */
  message: string;
  /** the caller's signal aborted the run before it finished */
  aborted: boolean;
  metrics: MetricResult[];
}

const RANK: Record<AnalysisPhase, number> = { Successful: 0, Inconclusive: 1, Error: 2, Failed: 3 };

export function worstPhase(phases: Iterable<AnalysisPhase>): AnalysisPhase {
  let worst: AnalysisPhase = 'Successful';
  for (const p of phases) if (RANK[p] > RANK[worst]) worst = p;
  return worst;
}

/** the real sleep: resolves after ms, or as soon as the signal aborts */
export async function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: resolve early
  }
}

export async function runAnalysis(
  analysis: CompiledAnalysis,
  deps: Partial<RunDeps> & { signal?: AbortSignal } = {},
): Promise<AnalysisRunResult> {
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  const runDeps: RunDeps = { sleep: deps.sleep ?? realSleep, clock: deps.clock ?? (() => new Date()), onMeasurement: deps.onMeasurement };
  const metrics = await Promise.all(
    analysis.metrics.map(async (m) => {
      const r = await runMetric(m, runDeps, signal);
      if (!m.dryRun && r.phase !== 'Successful') stop.abort();
      return r;
    }),
  );
  const counted = metrics.filter((m) => !m.dryRun);
  const phase = worstPhase(counted.map((m) => m.phase));
  const decider = counted.find((m) => m.phase === phase);
  const aborted = deps.signal?.aborted === true;
  const message =
    phase === 'Successful'
      ? `${aborted ? 'analysis aborted; ' : ''}${counted.length} metric${counted.length === 1 ? '' : 's'} successful${metrics.length > counted.length ? ` (${metrics.length - counted.length} dry-run not counted)` : ''}`
      : `${decider?.name}: ${decider?.message}`;
  return { phase, message, aborted, metrics };
}
