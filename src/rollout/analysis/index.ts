/** The analysis library's public surface: load a template once, run it, read the measurements. */
export { type AnalysisPhase, type AnalysisRunResult, realSleep, runAnalysis, worstPhase } from './analysis-run.ts';
export { type CompiledAnalysis, compileAnalysis } from './compile-analysis.ts';
export type { Measurement, MeasurementPhase, Provider } from './measurement.ts';
export { type AnalysisTemplate, type AnalysisTemplateInput, analysisTemplateSchema, type MetricSpec, metricSchema } from './metric-schema.ts';
export { type ProviderSpec, providerSchema } from './provider-schema.ts';
export type { StatsSource } from './providers/builtin.ts';
export type { ProviderDeps } from './providers/create-provider.ts';
export type { CompiledMetric, MetricCounts, MetricResult, RunDeps } from './run-metric.ts';
