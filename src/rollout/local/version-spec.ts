/**
 * The `local` target's inputs, validated with zod at the host's control edge (and reused by
 * stagegate.yaml): one version's process spec with its readiness, restart and drain settings, the
 * traffic split, fault injection, and the host spec. Every string, array and record is bounded.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { headerRoutesSchema, versionSchema } from '../proxy/options.ts';

export { versionSchema };
const NO_NUL = /^[^\0]*$/;
const arg = z.string().max(8192).regex(NO_NUL, 'must not contain NUL');
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const readinessDefaults = { path: '/healthz', intervalMs: 500, timeoutMs: 1000, failureThreshold: 3, startTimeoutMs: 30_000 } as const;
export const restartDefaults = { maxRestarts: 5, backoffMs: 500, maxBackoffMs: 10_000 } as const;

export const readinessSchema = z.strictObject({
  /** the HTTP path probed on each instance; 2xx and 3xx are ready */
  path: z.string().min(1).max(1024).regex(/^\/[^\s\0]*$/, 'must be a path starting with /').default(readinessDefaults.path),
  intervalMs: ms(10, 600_000).default(readinessDefaults.intervalMs),
  /** per probe; a probe without an answer by then is a failure */
  timeoutMs: ms(10, 600_000).default(readinessDefaults.timeoutMs),
  /** consecutive failed probes that take a ready instance out of rotation */
  failureThreshold: z.number().int().min(1).max(1000).default(readinessDefaults.failureThreshold),
  /** no instance ready by then: the version fails */
  startTimeoutMs: ms(100, 3_600_000).default(readinessDefaults.startTimeoutMs),
});

export const restartSchema = z.strictObject({
  /** restarts in the version's life; the next crash fails the version */
  maxRestarts: z.number().int().min(0).max(1000).default(restartDefaults.maxRestarts),
  backoffMs: ms(0, 600_000).default(restartDefaults.backoffMs),
  maxBackoffMs: ms(0, 3_600_000).default(restartDefaults.maxBackoffMs),
});

export const versionSpecSchema = z.strictObject({
  releaseId: z.string().min(1).max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/, 'must be letters, digits and . _ : @ + -'),
  cwd: arg.min(1).refine(isAbsolute, 'must be an absolute path'),
  argv: z.array(arg).min(1).max(256).refine((a) => a[0] !== '', 'argv[0] must name the command'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name'), arg)
    .refine((e) => Object.keys(e).length <= 256, 'at most 256 variables')
    .default({}),
  replicas: z.number().int().min(1).max(8).default(1),
  readiness: readinessSchema.prefault({}),
  restart: restartSchema.prefault({}),
  /** how long a stop waits for in-flight requests before killing the instances */
  drainTimeoutMs: ms(0, 600_000).default(10_000),
  /** time between SIGTERM and SIGKILL of each instance's process group */
  killGraceMs: ms(0, 600_000).default(5_000),
});
export type VersionSpecInput = z.input<typeof versionSpecSchema>;
export type VersionSpec = z.output<typeof versionSpecSchema>;

/** weights: integer percents summing to 100 over ready versions; `{}` means no traffic (503) */
export const trafficSchema = z.strictObject({
  weights: z
    .record(versionSchema, z.number().int().min(0).max(100))
    .refine((w) => Object.keys(w).length <= 32, 'at most 32 versions')
    .refine((w) => Object.keys(w).length === 0 || Object.values(w).reduce((a, b) => a + b, 0) === 100, 'weights must sum to 100'),
  headerRoutes: headerRoutesSchema.optional(),
});
export type Traffic = z.output<typeof trafficSchema>;

export const injectSchema = z.strictObject({
  version: versionSchema,
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
});

const name = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits and . _ -');
export const hostSpecSchema = z.strictObject({
  environment: name,
  service: name,
  listen: z.strictObject({ host: z.string().min(1).max(255).default('127.0.0.1'), port: z.number().int().min(0).max(65_535).default(0) }).prefault({}),
  breaker: z
    .strictObject({ consecutiveFailures: z.number().int().min(1).max(10_000).optional(), halfOpenAfterMs: ms(10, 3_600_000).optional(), countInjected: z.boolean().optional() })
    .optional(),
  proxyTimeoutMs: ms(100, 600_000).optional(),
});
export type HostSpecInput = z.input<typeof hostSpecSchema>;
export type HostSpec = z.output<typeof hostSpecSchema>;
