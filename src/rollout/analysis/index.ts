/** The analysis library's public surface: load a template once (with the rollout's arguments), run it, read the measurements. */
export { type AnalysisPhase, type AnalysisRunResult, realSleep, runAnalysis, worstPhase } from './analysis-run.ts';
export { type CompileAnalysisOptions, type CompiledAnalysis, checkAnalysisTemplate, compileAnalysis } from './compile-analysis.ts';
export { ANALYSIS_ARG_NAMES, type AnalysisArgName, type AnalysisArgs, instantiateAnalysis } from './instantiate-analysis.ts';
export type { Measurement, MeasurementPhase, Provider } from './measurement.ts';
export { type AnalysisTemplate, type AnalysisTemplateInput, analysisTemplateSchema, type MetricSpec, metricSchema } from './metric-schema.ts';
export { MAX_ARG_VALUE } from './placeholders.ts';
export { type ProviderSpec, providerSchema } from './provider-schema.ts';
export type { StatsSnapshot, StatsSource } from './providers/builtin.ts';
export type { ProviderDeps } from './providers/create-provider.ts';
export type { CompiledMetric, MetricCounts, MetricResult, RunDeps } from './run-metric.ts';
export { describeMetric, MAX_SUMMARY, summarize } from './summarize.ts';
