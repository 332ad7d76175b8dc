/** The options of a webhook delivery, checked with zod at the edge. Error messages never echo values. */
import { z } from 'zod';
import { DomainError } from '../../../domain/errors.ts';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'want sha256:<64 hex>');
const name = z.string().min(1).max(200);
const httpUrl = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/[^\s]+$/, 'want an http(s) URL');

export const webhookRequestSchema = z.strictObject({
  service: name,
  version: name,
  releaseId: digest,
  promotionId: name,
  environment: name,
  artifacts: z.array(z.strictObject({ name: z.string().min(1).max(500), digest, kind: z.enum(['artifact', 'config', 'image']).optional() })).max(1000),
  configDigest: digest.optional(),
  /** where the receiver POSTs the outcome (signed with the same secret); absent: no callback, poll */
  callbackUrl: httpUrl.optional(),
});
export type WebhookRequest = z.infer<typeof webhookRequestSchema>;

export const webhookOptionsSchema = z.strictObject({
  url: httpUrl,
  secret: z.string().min(16, 'the shared secret must be at least 16 characters').max(1024),
  request: webhookRequestSchema,
  /** per HTTP request */
  timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** extra attempts of the POST after the first, for 5xx, timeouts and connection errors */
  retries: z.number().int().min(0).max(10).default(3),
  /** first backoff; doubles per retry, capped at 60 s */
  backoffMs: z.number().int().min(0).max(60_000).default(1_000),
  poll: z
    .strictObject({
      /** used when the receiver returns no statusUrl; `{deliveryId}` and `{promotionId}` are filled in */
      statusUrl: httpUrl.optional(),
      intervalMs: z.number().int().min(1).max(600_000).default(5_000),
      deadlineMs: z.number().int().min(1).max(86_400_000).default(30 * 60_000),
    })
    .optional(),
});
export type WebhookOptionsInput = z.input<typeof webhookOptionsSchema>;
export type WebhookOptions = z.output<typeof webhookOptionsSchema>;

export function parseWebhookOptions(input: unknown): WebhookOptions {
  const r = webhookOptionsSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue ? issue.path.map(String).join('.') : '';
  throw new DomainError('invalid_input', `webhook target: ${field || 'options'}: ${issue?.message ?? 'invalid'}`, {
    field,
    fix: 'see docs/webhook-target.md for the options and their bounds',
  });
}

/** the status a receiver answers, to the POST or to a status read */
export const receiverStatusSchema = z.object({
  status: z.enum(['succeeded', 'failed', 'pending']),
  statusUrl: z.string().max(2048).optional(),
  message: z.string().max(2000).optional(),
});
export type ReceiverStatus = z.infer<typeof receiverStatusSchema>;
