/**
 * The `webhook` target: the deploy step POSTs a signed deployment request (deployViaWebhook) and ends
 * with whichever comes first: a verified callback, a final status (in the answer or polled), or the
 * deadline. The delivery id is derived from the promotion and step, so after a restart `adopt`
 * re-attaches to the same delivery: it waits for the callback again and re-sends the POST with the
 * SAME delivery id, which receivers must de-duplicate (answering with the deployment's current status).
 */
import type { Logger } from 'pino';
import { isDomainError } from '../../../domain/errors.ts';
import { formatDuration } from '../../../engine/duration.ts';
import type { StepFacts, Target, TargetStep, TargetStepHandle, TargetStepOutcome } from '../../target.ts';
import type { CallbackHub, CallbackResult } from './callbacks.ts';
import { MAX_SECRET_LENGTH, MIN_SECRET_LENGTH, type WebhookTargetConfig } from './config.ts';
import { deployViaWebhook, type WebhookOutcome } from './deliver.ts';
import { parseWebhookData, prepareWebhookData, type WebhookStepData } from './step-data.ts';

export interface WebhookTargetDeps {
  config: WebhookTargetConfig;
  /** reads an environment variable of the server process (process.env in production) */
  secretFromEnv: (name: string) => string | undefined;
  callbacks: CallbackHub;
  /** the server's public base URL (https://stagegate.example.com); without it there are no callbacks */
  publicUrl?: string;
  clock: () => Date;
  logger: Pick<Logger, 'info' | 'warn'>;
}

const outcome = (status: 'succeeded' | 'failed', message: string, outputTail = ''): TargetStepOutcome => ({ status, message, exitCode: null, outputTail });
const errorText = (e: unknown) => (isDomainError(e) ? `${e.message}${e.details.fix ? `; ${e.details.fix}` : ''}` : e instanceof Error ? e.message : String(e));

export function createWebhookTarget(deps: WebhookTargetDeps): Target {
  const { config, callbacks, clock, logger } = deps;
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '');
  if (config.callback && !publicUrl) {
    logger.warn({ target: config.name }, 'webhook target has callback enabled but the server has no public URL: no callbackUrl is sent, the deployment is followed by polling only');
  }

  /** the secret, or why it cannot be used (naming the variable, never the value) */
  function secret(): { ok: true; value: string } | { ok: false; message: string } {
    const value = deps.secretFromEnv(config.secretEnv);
    const fix = `set ${config.secretEnv} in the environment of the stagegate server to the secret shared with the receiver at ${config.url} (${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters), restart it, and promote again`;
    if (value === undefined || value === '') return { ok: false, message: `deploy not started: webhook target ${config.name}: environment variable ${config.secretEnv} is not set; ${fix}` };
    if (value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
      return { ok: false, message: `deploy not started: webhook target ${config.name}: environment variable ${config.secretEnv} holds ${value.length} characters, not ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH}; ${fix}` };
    }
    return { ok: true, value };
  }

  const fromDelivery = (o: WebhookOutcome): TargetStepOutcome => {
    const tail = `deliveryId=${o.deliveryId} attempts=${o.attempts} polls=${o.polls}`;
    return outcome(o.status === 'succeeded' ? 'succeeded' : 'failed', o.status === 'timed-out' ? `timed out: ${o.message}` : o.message, tail);
  };
  const fromCallback = (d: WebhookStepData, r: CallbackResult): TargetStepOutcome =>
    outcome(r.status, `webhook receiver at ${config.url} called back: ${r.status}${r.message ? `: ${r.message}` : ''}`, `deliveryId=${d.deliveryId} via callback`);

  async function run(d: WebhookStepData, how: 'launch' | 'adopt'): Promise<TargetStepOutcome> {
    const request = d.request;
    if (d.problem || !request) return outcome('failed', d.problem ?? 'webhook step data has no request');
    const s = secret();
    if (!s.ok) return outcome('failed', s.message);
    const callbackUrl = config.callback && publicUrl ? `${publicUrl}/v1/callbacks/webhook/${d.deliveryId}` : undefined;
    const { intervalMs, deadlineMs } = config.poll;
    // the deadline counts from the start of the step; an adopted step still gets one poll interval
    const left = Date.parse(d.preparedAt) + deadlineMs - clock().getTime();
    const windowMs = Math.max(Math.min(left, deadlineMs), Math.min(intervalMs, deadlineMs));
    logger.info({ target: config.name, deliveryId: d.deliveryId, callback: Boolean(callbackUrl), windowMs }, how === 'launch' ? 'webhook deploy sent' : 'webhook deploy adopted: re-sending with the same delivery id');
    if (callbackUrl) callbacks.expect(d.deliveryId, s.value);
    const ac = new AbortController();
    try {
      return await new Promise<TargetStepOutcome>((resolve) => {
        const timer = setTimeout(() => {
          const what = callbackUrl ? 'no callback or final status' : 'no final status';
          resolve(outcome('failed', `timed out: ${what} within ${formatDuration(deadlineMs)}; check the receiver at ${config.url} (delivery ${d.deliveryId})`, `deliveryId=${d.deliveryId}`));
        }, windowMs);
        ac.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
        deployViaWebhook(
          {
            url: config.url,
            secret: s.value,
            request: { ...request, ...(callbackUrl ? { callbackUrl } : {}) },
            timeoutMs: config.timeoutMs,
            retries: config.retries,
            poll: { ...(config.poll.statusUrl ? { statusUrl: config.poll.statusUrl } : {}), intervalMs, deadlineMs: windowMs },
          },
          { signal: ac.signal, clock, deliveryId: d.deliveryId, awaitCallback: Boolean(callbackUrl) },
        ).then(
          (o) => {
            if (o.status !== 'accepted' && o.status !== 'aborted') resolve(fromDelivery(o));
          },
          (e: unknown) => resolve(outcome('failed', `webhook deploy to ${config.url} failed: ${errorText(e)}`)),
        );
        if (callbackUrl) {
          callbacks.wait(d.deliveryId, ac.signal).then(
            (r) => r && resolve(fromCallback(d, r)),
            (e: unknown) => resolve(outcome('failed', errorText(e))),
          );
        }
      });
    } finally {
      ac.abort();
      if (callbackUrl) callbacks.forget(d.deliveryId);
    }
  }

  function start(data: string, how: 'launch' | 'adopt'): TargetStepHandle {
    let result: Promise<TargetStepOutcome>;
    try {
      result = run(parseWebhookData(data), how).catch((e: unknown) => outcome('failed', `webhook deploy to ${config.url} failed: ${errorText(e)}`));
    } catch (e) {
      result = Promise.resolve(outcome('failed', errorText(e)));
    }
    return { wait: () => result };
  }

  return {
    type: 'webhook',
    has: (step: TargetStep) => step === 'deploy',
    async prepare(step: TargetStep, f: StepFacts) {
      if (step !== 'deploy') throw new Error(`webhook target ${config.name} has no ${step} step`);
      return prepareWebhookData(config.name, step, f, clock);
    },
    launch: async (data) => start(data, 'launch'),
    adopt: async (data) => start(data, 'adopt'),
  };
}
