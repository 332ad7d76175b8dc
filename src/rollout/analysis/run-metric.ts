/**
 * Run one metric: measure every interval until `count` measurements, a limit is exceeded, or the
 * signal aborts. Phase rules follow Argo Rollouts' assessMetricStatus (see docs/analysis.md).
 */
import type { CompiledCondition } from './conditions.ts';
import { errorText, judge, type Measurement, type MeasurementPhase, type Provider, valueText } from './measurement.ts';

export type MetricPhase = MeasurementPhase;

export interface CompiledMetric {
  name: string;
  dryRun: boolean;
  intervalMs?: number;
  initialDelayMs?: number;
  /** undefined with an interval: measure until aborted or a limit is exceeded */
  count?: number;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  success?: CompiledCondition;
  failure?: CompiledCondition;
  provider: Provider;
}

export interface MetricCounts {
  /** measurements that were not errors (Argo's `count`) */
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveErrors: number;
}

export interface MetricResult {
  name: string;
  phase: MetricPhase;
  dryRun: boolean;
  message: string;
  counts: MetricCounts;
  measurements: Measurement[];
}

export interface RunDeps {
  /** wait ms, resolving early (never rejecting) when the signal aborts */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  clock(): Date;
  onMeasurement?(metric: string, m: Measurement): void;
}

/** the most measurements kept per metric (oldest dropped first); counts keep counting */
export const MAX_KEPT_MEASUREMENTS = 100;

export function assess(m: CompiledMetric, c: MetricCounts): { phase: MetricPhase; message: string } | undefined {
  if (c.failed > m.failureLimit) return { phase: 'Failed', message: `${c.failed} failed measurements exceed failureLimit ${m.failureLimit}` };
  if (c.inconclusive > m.inconclusiveLimit)
    return { phase: 'Inconclusive', message: `${c.inconclusive} inconclusive measurements exceed inconclusiveLimit ${m.inconclusiveLimit}` };
  if (c.consecutiveErrors > m.consecutiveErrorLimit)
    return { phase: 'Error', message: `${c.consecutiveErrors} consecutive errors exceed consecutiveErrorLimit ${m.consecutiveErrorLimit}` };
  const count = m.count ?? (m.intervalMs === undefined ? 1 : undefined);
  if (count !== undefined && c.count >= count) return { phase: 'Successful', message: `${c.count} measurements within the limits` };
  return undefined;
}

export async function runMetric(m: CompiledMetric, deps: RunDeps, signal: AbortSignal): Promise<MetricResult> {
  const counts: MetricCounts = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0, consecutiveErrors: 0 };
  const measurements: Measurement[] = [];
  const done = (phase: MetricPhase, message: string): MetricResult => ({ name: m.name, phase, dryRun: m.dryRun, message, counts, measurements });
  const stopped = () => done('Successful', `stopped after ${counts.count} measurements within the limits (analysis terminated)`);
  if (m.initialDelayMs) await deps.sleep(m.initialDelayMs, signal);
  for (;;) {
    if (signal.aborted) return stopped();
    let value: unknown;
    let judged: { phase: MeasurementPhase; message: string };
    try {
      value = await m.provider.measure(signal);
      judged = judge(value, m.success, m.failure);
    } catch (e) {
      if (signal.aborted) return stopped();
      judged = { phase: 'Error', message: errorText(e) };
    }
    const measurement: Measurement = { at: deps.clock().toISOString(), value: judged.phase === 'Error' && value === undefined ? '' : valueText(value), ...judged };
    measurements.push(measurement);
    if (measurements.length > MAX_KEPT_MEASUREMENTS) measurements.shift();
    if (judged.phase === 'Error') {
      counts.error++;
      counts.consecutiveErrors++;
    } else {
      counts.count++;
      counts.consecutiveErrors = 0;
      if (judged.phase === 'Successful') counts.successful++;
      else if (judged.phase === 'Failed') counts.failed++;
      else counts.inconclusive++;
    }
    deps.onMeasurement?.(m.name, measurement);
    const verdict = assess(m, counts);
    if (verdict) return done(verdict.phase, verdict.message);
    await deps.sleep(m.intervalMs ?? 0, signal);
  }
}
