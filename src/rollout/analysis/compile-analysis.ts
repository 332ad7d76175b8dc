/**
 * Load an analysis template: validate it (zod), build each metric's provider and compile its CEL
 * conditions once. Every problem is a DomainError('invalid_input') naming the field and what to do.
 */
import { DomainError } from '../../domain/errors.ts';
import { compileCondition, resultTypeOf } from './conditions.ts';
import { parseDuration } from './duration.ts';
import { analysisTemplateSchema, type MetricSpec } from './metric-schema.ts';
import { providerKind } from './provider-schema.ts';
import { createProvider, type ProviderDeps } from './providers/create-provider.ts';
import type { CompiledMetric } from './run-metric.ts';

export interface CompiledAnalysis {
  readonly metrics: readonly CompiledMetric[];
}

/** A job metric without conditions succeeds on exit code 0, as Argo's job provider does. */
const JOB_DEFAULT_SUCCESS = 'result == 0.0';

function compileMetric(m: MetricSpec, i: number, where: string, deps: ProviderDeps): CompiledMetric {
  const kind = providerKind(m.provider);
  const type = resultTypeOf(kind);
  const field = (f: string) => `${where}.metrics[${i}].${f}`;
  const successText = m.successCondition ?? (kind === 'job' && !m.failureCondition ? JOB_DEFAULT_SUCCESS : undefined);
  let provider: CompiledMetric['provider'];
  try {
    provider = createProvider(m.provider, deps);
  } catch (e) {
    throw new DomainError('invalid_input', `metric ${m.name}: provider: ${(e as Error).message}`, { field: field(`provider.${kind}`), fix: 'correct the provider settings; see docs/analysis.md' });
  }
  return Object.freeze({
    name: m.name,
    dryRun: m.dryRun,
    intervalMs: m.interval === undefined ? undefined : parseDuration(m.interval),
    initialDelayMs: m.initialDelay === undefined ? undefined : parseDuration(m.initialDelay),
    count: m.count,
    failureLimit: m.failureLimit,
    inconclusiveLimit: m.inconclusiveLimit,
    consecutiveErrorLimit: m.consecutiveErrorLimit,
    success: successText === undefined ? undefined : compileCondition(successText, type, { metric: m.name, field: field('successCondition') }),
    failure: m.failureCondition === undefined ? undefined : compileCondition(m.failureCondition, type, { metric: m.name, field: field('failureCondition') }),
    provider,
  });
}

export function compileAnalysis(input: unknown, opts: { where?: string; deps?: ProviderDeps } = {}): CompiledAnalysis {
  const where = opts.where ?? 'analysis';
  const parsed = analysisTemplateSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((x) => `${where}${x.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${x.message}`);
    const first = parsed.error.issues[0];
    throw new DomainError('invalid_input', `invalid analysis template:\n  ${issues.join('\n  ')}`, {
      field: `${where}${first ? first.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : ''}`,
      fix: 'each metric is {name, interval, count?, successCondition?, failureCondition?, failureLimit?, inconclusiveLimit?, consecutiveErrorLimit?, dryRun?, provider: {<one provider>: {...}}}; see docs/analysis.md',
    });
  }
  return Object.freeze({ metrics: Object.freeze(parsed.data.metrics.map((m, i) => compileMetric(m, i, where, opts.deps ?? {}))) });
}
