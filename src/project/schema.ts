/**
 * The project file `stagegate.yaml`: zod schemas (the edge parser) and the validated, normalized
 * `Project` shape the rest of stagegate uses. Durations become milliseconds; keys become PEM text.
 */
import { z } from 'zod';
import { identitiesSchema, type Identities } from '../auth/identity-schema.ts';
import { NAME_RE } from '../domain/ids.ts';
import type { Digest } from '../domain/ids.ts';
import { approvalAllowedFields, approvalPolicySchema, type ApprovalPolicy } from '../engine/approvals/approval-schema.ts';
import type { CompiledGateRule } from '../policy/cel/gate-rules.ts';
import { type GateRule, gateRulesSchema, serviceGateRulesSchema } from '../policy/cel/schema.ts';
import { type FreezeWindow, freezeWindowFields, freezeWindowsSchema } from '../policy/freeze-schema.ts';
import { durationSchema } from './duration-schema.ts';
import { analysisSectionSchema, type LocalTargetFile, localTargetSchema, rolloutAllowedFields, rolloutSchema, verificationSchema } from './rollout-schema.ts';
import type { RolloutPolicy, VerificationPolicy } from './rollout-policy.ts';
import { type GitopsTargetConfig, gitopsTargetSchema } from '../rollout/targets/gitops/config.ts';
import { type WebhookTargetConfig, webhookTargetSchema } from '../rollout/targets/webhook/config.ts';
import { type ScanPolicy, scanAllowFields, scanSectionFields, scanSectionSchema } from '../secrets/scan/allowlist.ts';

export const API_VERSION = 'stagegate.dev/v1';
export const tiers = ['dev', 'test', 'staging', 'prod'] as const;
export type Tier = (typeof tiers)[number];

export const limits = {
  fileBytes: 1024 * 1024,
  keyFileBytes: 64 * 1024,
  keys: 64,
  services: 256,
  targets: 64,
  environments: 64,
  refs: 64,
  argv: 64,
  argBytes: 4096,
  envVars: 64,
  envValueBytes: 4096,
  descriptionBytes: 1024,
  pemBytes: 16 * 1024,
  maxTimeoutSeconds: 86_400,
  maxDurationMs: 365 * 86_400_000,
} as const;

/** A duration: one or more `<number><unit>` parts, unit s, m, h or d; e.g. `0s`, `90s`, `1h30m`, `2d`. */
export { DURATION_RE, parseDuration } from '../domain/duration.ts';

/** Env var names a target may set; STAGEGATE_* is reserved for the variables stagegate passes. */
export const ENV_NAME_RE = /^(?!STAGEGATE_)[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Inline PEM public key, or a relative/absolute path to a file holding one. */
export const PEM_PREFIX = '-----BEGIN PUBLIC KEY-----';

const name = z.string().max(63).regex(NAME_RE).describe('lowercase letters, digits and dashes; starts with a letter');
const nameList = z.array(name).max(limits.refs);
const duration = durationSchema({ maxMs: limits.maxDurationMs, describe: 'a duration such as 0s, 30s, 10m, 2h, 1d or 1h30m (at most 365d)' });
const argv = z.array(z.string().min(1).max(limits.argBytes)).min(1).max(limits.argv);

export const keySchema = z
  .strictObject({
    name,
    publicKey: z
      .string()
      .min(1)
      .max(limits.pemBytes)
      .describe(`path to a P-256 public key PEM file, relative to the project file, or the PEM text (${PEM_PREFIX} ...)`),
    owner: z
      .string()
      .regex(/^(user|service):[a-z][a-z0-9._-]{0,62}$/, 'a principal id such as user:alice')
      .optional()
      .describe('the person whose personal key this is: their approvals can carry its signature (`stagegate approve --sign-key`)'),
  })
  .describe('a public key (ECDSA P-256): trusted for releases where an environment lists it in trustedKeys, and an approver\'s personal key when it has an owner');

export const serviceSchema = z
  .strictObject({
    name,
    description: z.string().max(limits.descriptionBytes).optional(),
    rules: serviceGateRulesSchema.optional().describe('gate rules per environment name, added to (or replacing by id) the environment\'s rules'),
  })
  .describe('a deployable unit');

export const execTargetSchema = z
  .strictObject({
    type: z.literal('exec'),
    deploy: argv.describe('argv of the deploy command, run without a shell, cwd = the project directory'),
    verify: argv.optional().describe('argv of the verify command; a non-zero exit fails the promotion'),
    observe: argv
      .optional()
      .describe('argv of the observe command: prints what runs in $STAGEGATE_ENVIRONMENT as JSON {services: {...}} for drift checks; see docs/parity-and-drift.md'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(limits.maxTimeoutSeconds)
      .default(300)
      .describe('limit for each command; the command is killed when it runs longer'),
    env: z
      .record(z.string().regex(ENV_NAME_RE), z.string().max(limits.envValueBytes))
      .refine((o) => Object.keys(o).length <= limits.envVars, `at most ${limits.envVars} variables`)
      .meta({ maxProperties: limits.envVars })
      .optional()
      .describe('extra environment variables for both commands (names starting STAGEGATE_ are reserved)'),
  })
  .describe('runs a deploy (and optional verify) command');

export const targetSchema = z.discriminatedUnion('type', [execTargetSchema, localTargetSchema, gitopsTargetSchema, webhookTargetSchema]);

export const environmentSchema = z
  .strictObject({
    name,
    tier: z.enum(tiers).describe('dev | test | staging | prod; policies and approvals key on it'),
    target: name.describe('the name of a target under `targets`'),
    trustedKeys: nameList.min(1).describe('names from `keys` whose release signatures this environment accepts'),
    requires: nameList.optional().describe('environments the release must have Succeeded in first (earlier in the list)'),
    minSoak: duration.optional().describe('how long the release must have run in every required environment'),
    rules: gateRulesSchema.optional().describe('CEL gate rules {id, expression, message}; see docs/gate-rules.md'),
    approvals: approvalPolicySchema.optional().describe('approvals a promotion needs; see docs/approvals.md'),
    freezes: freezeWindowsSchema.optional().describe('freeze windows; see docs/freeze-windows.md'),
    parity: z
      .strictObject({
        maxFindings: z.number().int().min(0).max(1_000_000).optional(),
        minScore: z.number().min(0).max(1).optional(),
      })
      .optional()
      .describe('parity gate thresholds against the next environment (default: maxFindings 0 for staging and prod tiers, report only otherwise); see docs/parity-and-drift.md'),
    drift: z
      .strictObject({ maxFindings: z.number().int().min(0).max(1_000_000).optional() })
      .optional()
      .describe('drift gate threshold (default: maxFindings 0 for staging and prod tiers, report only otherwise); see docs/parity-and-drift.md'),
    platform: z
      .record(z.string().regex(/^[a-z][a-z0-9._-]{0,62}$/), z.string().min(1).max(64).regex(/^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]{1,64})?$/, 'a version such as 20.19.0 or 1.29'))
      .refine((o) => Object.keys(o).length <= 64, 'at most 64 platform entries')
      .meta({ maxProperties: 64 })
      .optional()
      .describe('platform versions this environment provides (node, postgres, kubernetes...), checked against release needs; see docs/configuration.md'),
    rollout: rolloutSchema.optional().describe('how the new version gets traffic (targets with traffic control: local); default allAtOnce; see docs/rollouts.md'),
    verification: verificationSchema.optional(),
  })
  .describe('a stage of the pipeline');

export const projectFileSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    project: name,
    keys: z.array(keySchema).min(1).max(limits.keys),
    services: z.array(serviceSchema).min(1).max(limits.services),
    targets: z
      .record(name, targetSchema)
      .refine((o) => Object.keys(o).length >= 1, 'define at least one target')
      .refine((o) => Object.keys(o).length <= limits.targets, `at most ${limits.targets} targets`)
      .meta({ minProperties: 1, maxProperties: limits.targets })
      .describe('named targets; environments refer to them by name'),
    environments: z.array(environmentSchema).min(1).max(limits.environments).describe('in promotion order'),
    identities: identitiesSchema.optional().describe('users, groups, service accounts, OIDC issuers; see docs/identities.md'),
    policies: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('folder of Cedar policies (*.cedar) and schema.cedarschema, relative to the project file; default: the shipped policies'),
    attestation: z
      .strictObject({ interval: duration.refine((ms) => ms >= 1000, 'at least 1s').describe('how often drift and integrity are checked in every environment (default 5m)') })
      .optional()
      .describe('continuous attestation; see docs/parity-and-drift.md'),
    scan: scanSectionSchema.optional().describe('secret scanning: allowlisted findings, each with a reason; see docs/secret-scanning.md'),
    analysis: analysisSectionSchema.optional(),
    manifest: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('folder of per-service manifests (<service>/base.yaml, <env>.yaml), relative to the project file; default: manifest; see docs/configuration.md'),
  })
  .describe('stagegate project file (stagegate.yaml)');

/** The file as validated by zod (durations already in ms, keys not yet resolved). */
export type ProjectFile = z.output<typeof projectFileSchema>;

/** Allowed fields per object kind, for "unknown field" messages. Keys use `[]` for list items, `*` for map values. */
export const allowedFields: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(projectFileSchema.shape),
  'keys[]': Object.keys(keySchema.shape),
  'services[]': Object.keys(serviceSchema.shape),
  'targets.*': [...new Set([execTargetSchema, localTargetSchema, gitopsTargetSchema, webhookTargetSchema].flatMap((t) => Object.keys(t.shape)))],
  'environments[]': Object.keys(environmentSchema.shape),
  'environments[].freezes[]': freezeWindowFields,
  scan: scanSectionFields,
  'scan.allow[]': scanAllowFields,
  ...approvalAllowedFields,
  ...rolloutAllowedFields,
};

export interface ProjectKey {
  name: string;
  /** SPKI PEM of an ECDSA P-256 public key */
  publicKeyPem: string;
  /** absolute path of the key file, or `inline` */
  source: string;
  /** the principal whose personal approval key this is */
  owner?: string;
}
export interface Service {
  name: string;
  description?: string;
  /** gate rules per environment name, merged over the environment's */
  rules: Record<string, GateRule[]>;
}
export interface ExecTarget {
  name: string;
  type: 'exec';
  deploy: string[];
  verify?: string[];
  /** prints the observed state as JSON (drift) */
  observe?: string[];
  timeoutMs: number;
  env: Record<string, string>;
}
export interface LocalTarget extends Omit<LocalTargetFile, 'timeoutSeconds'> {
  name: string;
  timeoutMs: number;
}
export type Target = ExecTarget | LocalTarget | GitopsTargetConfig | WebhookTargetConfig;
export interface Environment {
  name: string;
  tier: Tier;
  target: string;
  trustedKeys: string[];
  requires: string[];
  /** 0 when not set */
  minSoakMs: number;
  rules: GateRule[];
  /** absent: no approvals needed */
  approvals?: ApprovalPolicy;
  freezes: FreezeWindow[];
  /** platform name -> version this environment provides ({} when not set) */
  platform: Record<string, string>;
  /** parity gate thresholds; absent: the tier default (docs/parity-and-drift.md) */
  parity?: { maxFindings?: number; minScore?: number };
  /** drift gate threshold; absent: the tier default */
  drift?: { maxFindings?: number };
  /** how the target moves traffic (all-at-once when absent) */
  rollout: RolloutPolicy;
  /** checks after the rollout (absent: only the target's own verify command) */
  verification?: VerificationPolicy;
}
export interface Project {
  apiVersion: typeof API_VERSION;
  project: string;
  /** absolute path of the project file */
  file: string;
  /** absolute directory of the project file: base of relative paths and cwd of exec targets */
  baseDir: string;
  /** `sha256:` of the project file bytes */
  digest: Digest;
  keys: ProjectKey[];
  services: Service[];
  targets: Record<string, Target>;
  /** in promotion order */
  environments: Environment[];
  identities?: Identities;
  /** absolute folder of the project's Cedar policies; absent: the shipped defaults */
  policiesDir?: string;
  /** continuous attestation interval in ms (default 5 minutes) */
  attestationIntervalMs?: number;
  /** absolute folder of the per-service manifests (`manifest` field; default `<baseDir>/manifest`) */
  manifestDir: string;
  /** the `scan` section: secret-scan allowlist entries (absent: none) */
  scan?: ScanPolicy;
  /** analysis templates by name, as written (checked at load by compiling them with sample arguments) */
  analysisTemplates: Record<string, unknown>;
  /** the effective gate rules of each service in each environment, compiled at load */
  gateRules: Record<string, Record<string, CompiledGateRule[]>>;
}
