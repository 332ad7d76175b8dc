/** One measurement and how it is judged, as Argo Rollouts' EvaluateResult does. */
import type { CompiledCondition } from './conditions.ts';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface Measurement {
  /** ISO time the measurement finished */
  at: string;
  /** the measured value as JSON text, at most 256 characters */
  value: string;
  phase: MeasurementPhase;
  message: string;
}

/** What a provider measures; throws (with a clear message) when it cannot. */
export interface Provider {
  measure(signal: AbortSignal): Promise<unknown>;
}

export const MAX_VALUE_TEXT = 256;
export const MAX_MESSAGE = 1000;

export function boundedText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function valueText(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return boundedText(s, MAX_VALUE_TEXT);
}

export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return boundedText(msg.split('\n')[0] ?? 'error', MAX_MESSAGE);
}

/**
 * Argo's rules: no conditions -> Successful; only a success condition -> Failed when it is false;
 * only a failure condition -> Successful when it is false; both -> Failed when the failure condition
 * holds, Inconclusive when neither holds. A condition that cannot be evaluated -> Error.
 */
export function judge(result: unknown, success: CompiledCondition | undefined, failure: CompiledCondition | undefined): { phase: MeasurementPhase; message: string } {
  let ok = false;
  let bad = false;
  try {
    if (success) ok = success.evaluate(result);
    if (failure) bad = failure.evaluate(result);
  } catch (e) {
    return { phase: 'Error', message: `condition could not be evaluated: ${errorText(e)}` };
  }
  if (!success && !failure) return { phase: 'Successful', message: 'no condition: any value passes' };
  if (success && !failure) bad = !ok;
  if (!success && failure) ok = !bad;
  if (bad) return { phase: 'Failed', message: failure ? `failureCondition ${failure.expression} is true` : `successCondition ${success?.expression} is false` };
  if (!ok) return { phase: 'Inconclusive', message: 'neither successCondition nor failureCondition is true' };
  return { phase: 'Successful', message: success ? `successCondition ${success.expression} is true` : `failureCondition ${failure?.expression} is false` };
}
