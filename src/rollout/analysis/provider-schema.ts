/** The providers a metric may name: exactly one key of `provider`. */
import { z } from 'zod';
import { FINE_DURATION_RE, MAX_FINE_DURATION_TEXT, parseFineDuration } from '../../domain/duration.ts';

const timeoutSchema = z
  .string()
  .max(MAX_FINE_DURATION_TEXT)
  .regex(FINE_DURATION_RE, 'a timeout like 5s')
  .refine((s) => {
    const ms = parseFineDuration(s);
    return ms !== undefined && ms >= 1 && ms <= 600_000;
  }, 'a timeout like 5s (at most 10m)')
  .default('10s');

const httpUrl = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL');

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/);
const headers = z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name'), z.string().max(4096)).refine((h) => Object.keys(h).length <= 32, 'at most 32 headers');

export const prometheusTextProviderSchema = z.strictObject({
  url: httpUrl,
  metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/, 'a Prometheus metric name'),
  labels: z.record(labelName, z.string().max(1024)).refine((l) => Object.keys(l).length <= 32, 'at most 32 labels').default({}),
  timeout: timeoutSchema,
});

export const prometheusProviderSchema = z.strictObject({
  address: httpUrl,
  query: z.string().min(1).max(8192),
  timeout: timeoutSchema,
});

export const webProviderSchema = z.strictObject({
  url: httpUrl,
  method: z.enum(['GET', 'POST']).default('GET'),
  headers: headers.default({}),
  body: z.unknown().optional(),
  jsonPath: z.string().max(256).default('$'),
  timeout: timeoutSchema,
});

export const jobProviderSchema = z.strictObject({
  command: z.array(z.string().min(1).max(4096)).min(1).max(64),
  cwd: z.string().max(1024).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/), z.string().max(4096)).optional(),
  timeout: timeoutSchema,
});

export const builtinMeasures = ['errorRate', 'p50', 'p90', 'p99', 'requests', 'errors'] as const;

export const builtinProviderSchema = z.strictObject({
  version: z.string().min(1).max(128),
  measure: z.enum(builtinMeasures),
  timeout: timeoutSchema,
});

export const providerSchema = z.union([
  z.strictObject({ 'prometheus-text': prometheusTextProviderSchema }),
  z.strictObject({ prometheus: prometheusProviderSchema }),
  z.strictObject({ web: webProviderSchema }),
  z.strictObject({ job: jobProviderSchema }),
  z.strictObject({ builtin: builtinProviderSchema }),
]);

export type ProviderSpec = z.output<typeof providerSchema>;
export type ProviderKind = 'prometheus-text' | 'prometheus' | 'web' | 'job' | 'builtin';

export function providerKind(p: ProviderSpec): ProviderKind {
  return Object.keys(p)[0] as ProviderKind;
}
