/**
 * Load an analysis template: substitute its `{{args.NAME}}` placeholders, validate it (zod), build
 * each metric's provider and compile its CEL conditions once. Every problem is a
 * DomainError('invalid_input') naming the field and what to do.
 */
import { parseFineDuration } from '../../domain/duration.ts';
import { DomainError } from '../../domain/errors.ts';
import { compileCondition, resultTypeOf } from './conditions.ts';
import { ANALYSIS_ARG_NAMES, type AnalysisArgs, instantiateAnalysis } from './instantiate-analysis.ts';
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
    intervalMs: m.interval === undefined ? undefined : parseFineDuration(m.interval),
    initialDelayMs: m.initialDelay === undefined ? undefined : parseFineDuration(m.initialDelay),
    count: m.count,
    failureLimit: m.failureLimit,
    inconclusiveLimit: m.inconclusiveLimit,
    consecutiveErrorLimit: m.consecutiveErrorLimit,
    success: successText === undefined ? undefined : compileCondition(successText, type, { metric: m.name, field: field('successCondition') }),
    failure: m.failureCondition === undefined ? undefined : compileCondition(m.failureCondition, type, { metric: m.name, field: field('failureCondition') }),
    provider,
  });
}

export interface CompileAnalysisOptions {
  /** the field path of the template in messages, e.g. `analysis.templates.error-rate`; default `analysis` */
  where?: string;
  deps?: ProviderDeps;
  /** the values of `{{args.NAME}}` placeholders; without them a template that has any is rejected */
  args?: AnalysisArgs;
}

export function compileAnalysis(template: unknown, opts: CompileAnalysisOptions = {}): CompiledAnalysis {
  const where = opts.where ?? 'analysis';
  const input = instantiateAnalysis(template, opts.args ?? {}, where);
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

/** stand-ins for the controller's arguments when a template is checked at project load */
const CHECK_ARGS: AnalysisArgs = Object.fromEntries(ANALYSIS_ARG_NAMES.map((n) => [n, `${n}-value`]));

/**
 * Check a template when the project file loads, before any rollout supplies arguments: every
 * placeholder must name an argument the controller supplies, and the template must compile with
 * stand-in values. Throws the same DomainError('invalid_input') compileAnalysis would.
 */
export function checkAnalysisTemplate(template: unknown, where: string): void {
  compileAnalysis(template, { where, args: CHECK_ARGS });
}
