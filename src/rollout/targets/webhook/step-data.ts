/**
 * The durable data of a webhook deploy step: the delivery id (derived from the promotion and the
 * step, so a restart re-attaches to the same delivery), when the step was prepared (the deadline
 * counts from there) and the request body fields. No secret: the HMAC secret is read from the
 * server's environment at launch and adopt, and decrypted promotion secrets are never sent.
 * A problem found while preparing is recorded as `problem`, so the step fails with that message.
 */
import { z } from 'zod';
import { parseStepData } from '../step-data.ts';
import { DomainError, isDomainError } from '../../../domain/errors.ts';
import { readEffectiveConfig } from '../gitops/read-effective-config.ts';
import type { StepFacts, TargetStep } from '../../target.ts';
import { DELIVERY_ID_RE } from './callbacks.ts';
import { webhookRequestSchema } from './input.ts';

export const webhookStepDataSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('webhook'),
  target: z.string().max(63),
  deliveryId: z.string().regex(DELIVERY_ID_RE),
  preparedAt: z.iso.datetime(),
  request: webhookRequestSchema.optional(),
  problem: z.string().max(4000).optional(),
});
export type WebhookStepData = z.infer<typeof webhookStepDataSchema>;

const errorText = (e: unknown) => (isDomainError(e) ? `${e.message}${e.details.fix ? `; ${e.details.fix}` : ''}` : e instanceof Error ? e.message : String(e));

/** one delivery per promotion and step: `<promotionId>-<step>` */
export function deliveryIdOf(promotionId: string, step: TargetStep): string {
  const id = `${promotionId}-${step}`;
  if (!DELIVERY_ID_RE.test(id)) {
    throw new DomainError('invalid_input', `promotion id "${promotionId.slice(0, 100)}" cannot form a webhook delivery id`, { field: 'promotionId', fix: 'promotion ids are letters, digits, _ and -' });
  }
  return id;
}

export async function prepareWebhookData(target: string, step: TargetStep, f: StepFacts, clock: () => Date): Promise<string> {
  const deliveryId = deliveryIdOf(f.promotionId, step);
  const base = { v: 1 as const, type: 'webhook' as const, target, deliveryId, preparedAt: clock().toISOString() };
  try {
    const eff = await readEffectiveConfig(f.artifactsDir);
    const request = {
      service: f.service,
      version: f.version,
      releaseId: f.releaseId,
      promotionId: f.promotionId,
      environment: f.environment,
      artifacts: (f.subjects ?? []).map((s) => ({ name: s.name, digest: s.digest, kind: s.kind })),
      ...(eff ? { configDigest: eff.digest } : {}),
    };
    const r = webhookRequestSchema.safeParse(request);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new DomainError('invalid_input', `webhook target ${target}: request.${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`, { field: `request.${i?.path.join('.') ?? ''}` });
    }
    return JSON.stringify({ ...base, request: r.data });
  } catch (e) {
    return JSON.stringify({ ...base, problem: `deploy not started: ${errorText(e)}`.slice(0, 4000) });
  }
}

export const parseWebhookData = (data: string): WebhookStepData => parseStepData(webhookStepDataSchema, data, 'webhook');
