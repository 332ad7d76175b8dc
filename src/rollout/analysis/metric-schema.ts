/**
 * The analysis template: a list of metrics, each measured by a provider every `interval`, judged by
 * CEL conditions over `result`, and limited like Argo Rollouts' AnalysisTemplate (see docs/analysis.md).
 */
import { z } from 'zod';
import { FINE_DURATION_RE, MAX_FINE_DURATION_TEXT, parseFineDuration } from '../../domain/duration.ts';
import { providerSchema } from './provider-schema.ts';

/** the longest interval, delay or timeout we accept: one day */
export const MAX_ANALYSIS_DURATION_MS = 86_400_000;

export const durationSchema = z
  .string()
  .max(MAX_FINE_DURATION_TEXT)
  .regex(FINE_DURATION_RE, 'a duration like 500ms, 10s, 5m or 1h')
  .refine((s) => (parseFineDuration(s) ?? Number.POSITIVE_INFINITY) <= MAX_ANALYSIS_DURATION_MS, 'a duration like 500ms, 10s, 5m or 1h, at most 24h');

const conditionSchema = z.string().min(1).max(2048);
const limitSchema = (dflt: number) => z.number().int().min(0).max(10_000).default(dflt);

export const metricSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a name like error-rate: lower case letters, digits and -'),
    interval: durationSchema.optional(),
    count: z.number().int().min(1).max(10_000).optional(),
    initialDelay: durationSchema.optional(),
    successCondition: conditionSchema.optional(),
    failureCondition: conditionSchema.optional(),
    failureLimit: limitSchema(0),
    inconclusiveLimit: limitSchema(0),
    consecutiveErrorLimit: limitSchema(4),
    dryRun: z.boolean().default(false),
    provider: providerSchema,
  })
  .refine((m) => m.count === undefined || m.count <= 1 || m.interval !== undefined, {
    message: 'a metric with count > 1 needs an interval between measurements',
    path: ['interval'],
  });

export const analysisTemplateSchema = z.strictObject({
  metrics: z
    .array(metricSchema)
    .min(1)
    .max(20)
    .refine((ms) => new Set(ms.map((m) => m.name)).size === ms.length, 'metric names must be unique'),
});

export type MetricSpec = z.output<typeof metricSchema>;
export type MetricInput = z.input<typeof metricSchema>;
export type AnalysisTemplate = z.output<typeof analysisTemplateSchema>;
export type AnalysisTemplateInput = z.input<typeof analysisTemplateSchema>;
