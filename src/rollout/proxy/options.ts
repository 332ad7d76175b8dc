/**
 * The weighted proxy's inputs, validated with zod at the edge: backends, header routes, fault
 * injection and tuning. Every string and array is bounded; problems become a DomainError naming
 * the field and what to do.
 */
import { z } from 'zod';
import { zodProblem } from '../../crypto/dsse.ts';
import { DomainError } from '../../domain/errors.ts';

export const MAX_BACKENDS = 32;
export const MAX_HEADER_ROUTES = 32;

export const versionSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+@-]*$/, 'must start with a letter or digit and use only letters, digits and . _ + @ -');

const httpUrl = z
  .string()
  .max(2048)
  .refine((s) => URL.canParse(s) && new URL(s).protocol === 'http:', 'must be an http:// URL, e.g. http://127.0.0.1:8080');

export const backendSchema = z.strictObject({ version: versionSchema, url: httpUrl });
export type Backend = z.infer<typeof backendSchema>;

export const backendsSchema = z
  .array(backendSchema)
  .min(1, 'needs at least one backend')
  .max(MAX_BACKENDS, `at most ${MAX_BACKENDS} backends`)
  .refine((bs) => new Set(bs.map((b) => b.version)).size === bs.length, 'every backend needs a distinct version');

export const headerRouteSchema = z.strictObject({
  header: z.string().min(1).max(128).regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'),
  value: z.string().max(1024),
  version: versionSchema,
});
export type HeaderRoute = z.infer<typeof headerRouteSchema>;
export const headerRoutesSchema = z.array(headerRouteSchema).max(MAX_HEADER_ROUTES, `at most ${MAX_HEADER_ROUTES} header routes`);

export const injectionSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
});
export type Injection = { latencyMs: number; errorRate: number };

export const tuningSchema = z.strictObject({
  listen: z.strictObject({ host: z.string().min(1).max(255).default('127.0.0.1'), port: z.number().int().min(0).max(65_535).default(0) }),
  breaker: z
    .strictObject({
      /** consecutive failures (connection errors, 5xx responses) that open a version's breaker */
      consecutiveFailures: z.number().int().min(1).max(10_000).default(5),
      /** how long an open breaker stays open before one trial request (half-open) */
      halfOpenAfterMs: z.number().int().min(10).max(3_600_000).default(5_000),
      /** whether injected faults count as failures for the breaker (default: no, they are for analysis) */
      countInjected: z.boolean().default(false),
    })
    .prefault({}),
  /** the largest request head the proxy accepts (431 above it) */
  maxHeaderBytes: z.number().int().min(1024).max(65_536).default(16_384),
  /** a backend that sends no response within this time fails the request (502) */
  proxyTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** keep-alive sockets per backend */
  maxSocketsPerBackend: z.number().int().min(1).max(4096).default(256),
  /** how long close() waits for in-flight requests before cutting connections */
  closeTimeoutMs: z.number().int().min(0).max(600_000).default(5_000),
});

/** parse `value` with `schema` or throw invalid_input naming `where` and the field */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string, fix: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { field, message } = zodProblem(r.error, where);
  throw new DomainError('invalid_input', `weighted proxy: ${field}: ${message}`, { field, fix });
}
