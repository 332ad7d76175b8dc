/**
 * The `webhook` target as stagegate.yaml declares it (zod, the edge parser) and its normalized shape.
 * The HMAC secret is never in the file: `secretEnv` names an environment variable of the server.
 */
import { z } from 'zod';
import { durationSchema } from '../../../project/duration-schema.ts';

/** the name of an environment variable (STAGEGATE_* allowed: it is the server's own environment) */
export const SECRET_ENV_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 1024;
export const DEFAULT_POLL_INTERVAL_MS = 5_000;
export const DEFAULT_DEADLINE_MS = 30 * 60_000;
const MAX_DEADLINE_MS = 86_400_000;

const httpUrl = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/[^\s/?#@]+(?:[/?#][^\s]*)?$/, 'an http(s) URL without user-info');

/** a duration in the project file's format, at least 1s and at most 1d, in milliseconds */
const duration = durationSchema({ minMs: 1000, maxMs: MAX_DEADLINE_MS, describe: 'a duration such as 30s, 10m, 2h or 1d (from 1s to 1d)' });

export const webhookTargetSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: httpUrl.describe('where stagegate POSTs the signed deployment request (JSON, type stagegate.deploy/v1)'),
    secretEnv: z
      .string()
      .regex(SECRET_ENV_RE, 'an environment variable name such as DEPLOY_HOOK_SECRET')
      .describe(`NAME of an environment variable of the stagegate server holding the HMAC-SHA256 secret shared with the receiver (at least ${MIN_SECRET_LENGTH} characters); the secret itself never goes in stagegate.yaml`),
    timeoutSeconds: z.number().int().min(1).max(600).default(10).describe('limit for each HTTP request (the POST and each status read)'),
    retries: z.number().int().min(0).max(10).default(3).describe('POST attempts after the first, for 5xx answers, timeouts and connection errors (4xx is never retried)'),
    poll: z
      .strictObject({
        statusUrl: httpUrl
          .optional()
          .describe('status URL to read when the receiver answers pending without one; {deliveryId} and {promotionId} are filled in'),
        interval: duration.optional().describe('time between status reads (default 5s)'),
        deadline: duration.optional().describe('how long the deployment may take, from the start of the step until a callback or a final status (default 30m)'),
      })
      .optional()
      .describe('how the deployment is followed when the receiver answers pending'),
    callback: z
      .boolean()
      .default(true)
      .describe("send callbackUrl (the server's public URL + /v1/callbacks/webhook/<deliveryId>) so the receiver can report the outcome; needs the server's public URL"),
  })
  .describe('POSTs a signed deployment request to a system you run and follows it by callback or polling; see docs/webhook-target.md');

export type WebhookTargetInput = z.output<typeof webhookTargetSchema>;

export interface WebhookTargetConfig {
  /** the target's name under `targets` */
  name: string;
  type: 'webhook';
  url: string;
  secretEnv: string;
  timeoutMs: number;
  retries: number;
  poll: { statusUrl?: string; intervalMs: number; deadlineMs: number };
  callback: boolean;
}

export function normalizeWebhookTarget(name: string, t: WebhookTargetInput): WebhookTargetConfig {
  return {
    name,
    type: 'webhook',
    url: t.url,
    secretEnv: t.secretEnv,
    timeoutMs: t.timeoutSeconds * 1000,
    retries: t.retries,
    poll: {
      ...(t.poll?.statusUrl ? { statusUrl: t.poll.statusUrl } : {}),
      intervalMs: t.poll?.interval ?? DEFAULT_POLL_INTERVAL_MS,
      deadlineMs: t.poll?.deadline ?? DEFAULT_DEADLINE_MS,
    },
    callback: t.callback,
  };
}
