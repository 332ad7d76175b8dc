/**
 * The rollout parts of stagegate.yaml: the `local` target, an environment's `rollout` strategy and
 * `verification`, and the project's analysis templates (docs/rollouts.md, docs/local-target.md).
 * Durations here may be fine-grained (`500ms`, `1.5s`) because probes and pauses need it.
 */
import { z } from 'zod';
import { NAME_RE } from '../domain/ids.ts';
import { durationSchema } from './duration-schema.ts';

const name = z.string().max(63).regex(NAME_RE).describe('lowercase letters, digits and dashes; starts with a letter');
const ENV_NAME_RE = /^(?!STAGEGATE_)[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const argv = z.array(z.string().min(1).max(4096)).min(1).max(64);
const envVars = z
  .record(z.string().regex(ENV_NAME_RE), z.string().max(4096))
  .refine((o) => Object.keys(o).length <= 64, 'at most 64 variables')
  .meta({ maxProperties: 64 });

/** a duration such as 500ms, 2s, 1m30s (at most a day), in milliseconds */
export const fineDuration = durationSchema({ fine: true, maxMs: 86_400_000, describe: 'a duration such as 500ms, 10s, 5m or 1h30m (at most 24h)' });

export const localTargetSchema = z
  .strictObject({
    type: z.literal('local'),
    command: argv.describe("argv of a service instance, run without a shell in the release's verified artifacts folder; it must listen on $PORT"),
    services: z
      .record(name, z.strictObject({ command: argv.optional(), env: envVars.optional(), port: z.number().int().min(0).max(65_535).optional() }))
      .optional()
      .describe('per service: another command, extra variables, and the port of its proxy (default: any free port)'),
    env: envVars.optional().describe('extra environment variables of every instance (names starting STAGEGATE_ are reserved)'),
    host: z.string().max(255).regex(/^[A-Za-z0-9.:-]+$/).optional().describe('the address the proxies listen on (default 127.0.0.1)'),
    replicas: z.number().int().min(1).max(8).optional().describe('instances per version (default 1)'),
    readiness: z
      .strictObject({
        path: z.string().max(512).regex(/^\/[\x21-\x7e]*$/, 'an absolute path such as /healthz').optional(),
        interval: fineDuration.optional(),
        timeout: fineDuration.optional(),
        failureThreshold: z.number().int().min(1).max(100).optional(),
        startTimeout: fineDuration.optional(),
      })
      .optional()
      .describe('the HTTP probe of each instance (defaults /healthz, 500ms, 1s, 3, 30s); see docs/local-target.md'),
    restart: z
      .strictObject({ maxRestarts: z.number().int().min(0).max(100).optional(), backoff: fineDuration.optional(), maxBackoff: fineDuration.optional() })
      .optional()
      .describe('restarts of a crashed instance with exponential backoff (defaults 5, 500ms, 10s)'),
    drainTimeout: fineDuration.optional().describe('how long a stopping version may finish its in-flight requests (default 10s)'),
    killGrace: fineDuration.optional().describe('time between SIGTERM and SIGKILL of a stopping instance (default 5s)'),
    timeoutSeconds: z.number().int().min(1).max(86_400).default(300).describe('limit of the verification command'),
  })
  .describe('runs each service as child processes behind a weighted proxy per environment and service; see docs/local-target.md');

const templateRefs = z.strictObject({ templates: z.array(name).min(1).max(8).describe('names under `analysis.templates`') });

const canaryStep = z.union([
  z.strictObject({ setWeight: z.number().int().min(0).max(100).describe('percent of requests the new version gets') }),
  z.strictObject({ pause: z.strictObject({ duration: fineDuration.optional() }).describe('timed, or until `stagegate rollout promote` without a duration') }),
  z.strictObject({ analysis: templateRefs }),
]);
export type CanaryStepInput = z.output<typeof canaryStep>;

export const rolloutSchema = z
  .strictObject({
    strategy: z.enum(['allAtOnce', 'canary', 'blueGreen']).describe('allAtOnce | canary | blueGreen (Argo Rollouts semantics; see docs/rollouts.md)'),
    steps: z.array(canaryStep).max(32).optional().describe('canary: setWeight, pause and analysis steps in order'),
    analysis: templateRefs
      .extend({ startingStep: z.number().int().min(0).max(32).optional() })
      .optional()
      .describe('canary: background analysis from step `startingStep` (default 0) until the rollout ends'),
    previewHeader: z
      .strictObject({ name: z.string().min(1).max(128).regex(/^[A-Za-z0-9-]+$/), value: z.string().min(1).max(256) })
      .optional()
      .describe('blueGreen: requests with this header reach the new version before the switch (default x-stagegate-preview: 1)'),
    prePromotionAnalysis: templateRefs.optional().describe('blueGreen: analysis of the preview before the switch'),
    postPromotionAnalysis: templateRefs.optional().describe('blueGreen: analysis after the switch; failure switches back'),
    autoPromotion: z.boolean().optional().describe('blueGreen: switch without waiting for `stagegate rollout promote` (default true)'),
    autoPromotionAfter: fineDuration.optional().describe('blueGreen: pause this long before switching'),
    scaleDownDelay: fineDuration.optional().describe('how long the previous version keeps running after it gets no traffic, for a fast rollback (default 30s)'),
  })
  .describe('how the target moves traffic to the new version');

export const verificationSchema = z
  .strictObject({
    command: argv.optional().describe('argv of the integration tests, run against $STAGEGATE_URL (the proxy) after the rollout'),
    inject: z
      .strictObject({ latency: fineDuration.optional(), errorRate: z.number().min(0).max(1).optional() })
      .optional()
      .describe('faults the proxy adds to the new version while the tests run, so they see realistic conditions'),
    analysis: templateRefs.optional().describe('analysis run while the tests run'),
    onFailure: z.enum(['rollback', 'fail']).optional().describe('rollback (default): restore the previous release, code and config; fail: leave it running and fail'),
  })
  .describe('checks after the rollout; see docs/rollouts.md');

/** analysis templates are checked when compiled with their arguments (sections.ts), so only their shape here */
export const analysisSectionSchema = z
  .strictObject({
    templates: z
      .record(name, z.looseObject({ metrics: z.array(z.unknown()).min(1).max(20) }))
      .refine((o) => Object.keys(o).length <= 64, 'at most 64 templates')
      .meta({ maxProperties: 64 }),
  })
  .describe('named analysis templates (metrics, providers, conditions); see docs/analysis.md');

export type LocalTargetFile = z.output<typeof localTargetSchema>;
export type RolloutFile = z.output<typeof rolloutSchema>;
export type VerificationFile = z.output<typeof verificationSchema>;

export const rolloutAllowedFields: Readonly<Record<string, readonly string[]>> = {
  'environments[].rollout': Object.keys(rolloutSchema.shape),
  'environments[].verification': Object.keys(verificationSchema.shape),
  analysis: ['templates'],
};
