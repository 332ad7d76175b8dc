/**
 * One line for people (promotion messages, audit entries): the metric(s) that decided the run's
 * phase, their counts and last measurement, e.g.
 * `error-rate Failed: 3 of 3 measurements failed (last 0.42: failureCondition result > 0.05 is true)`.
 */
import type { AnalysisRunResult } from './analysis-run.ts';
import { boundedText } from './measurement.ts';
import type { MetricResult } from './run-metric.ts';

export const MAX_SUMMARY = 500;

const oneLine = (s: string, max: number) => boundedText(s.replace(/\s+/g, ' ').trim(), max);

function countsText(m: MetricResult): string {
  const c = m.counts;
  switch (m.phase) {
    case 'Failed':
      return `${c.failed} of ${c.count} measurements failed`;
    case 'Inconclusive':
      return `${c.inconclusive} of ${c.count} measurements inconclusive`;
    case 'Error':
      return `${c.consecutiveErrors} consecutive measurement errors`;
    default:
      return `${c.successful} of ${c.count} measurements successful`;
  }
}

function lastText(m: MetricResult): string {
  const last = m.measurements.at(-1);
  if (!last) return 'no measurement';
  const value = last.value === '' ? '' : ` ${oneLine(last.value, 40)}`;
  return `last${value}: ${oneLine(last.message, 160)}`;
}

/** `NAME PHASE: counts (last VALUE: message)` for one metric */
export function describeMetric(m: MetricResult): string {
  return `${m.dryRun ? 'dry-run ' : ''}${m.name} ${m.phase}: ${countsText(m)} (${lastText(m)})`;
}

/** The run in one line of at most 500 characters, naming the metric(s) that decided its phase. */
export function summarize(result: AnalysisRunResult): string {
  const counted = result.metrics.filter((m) => !m.dryRun);
  const deciders = result.phase === 'Successful' ? counted : counted.filter((m) => m.phase === result.phase);
  const parts = deciders.map(describeMetric);
  if (counted.length === 0) parts.push(`Successful: no metric counted (${result.metrics.length} dry-run)`);
  const dryRunNotes = result.metrics.filter((m) => m.dryRun && m.phase !== 'Successful').map((m) => `dry-run ${m.name} ${m.phase} (not counted)`);
  const text = `${result.aborted ? 'analysis aborted; ' : ''}${[...parts, ...dryRunNotes].join('; ')}`;
  return oneLine(text, MAX_SUMMARY);
}
