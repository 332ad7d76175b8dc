/** Server configuration: flags over environment over defaults, validated once, frozen. */
import path from 'node:path';
import { z } from 'zod';
import { DomainError } from './domain/errors.ts';

const configSchema = z
  .object({
    host: z.string().max(255).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(7480),
    dataDir: z.string().min(1).max(4096).default('.stagegate'),
    projectFile: z.string().min(1).max(4096).default('stagegate.yaml'),
    /** JSON request bodies */
    maxBodyBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    /** one uploaded artifact */
    maxBlobBytes: z.coerce.number().int().min(1).max(64 * 1024 ** 3).default(4 * 1024 ** 3),
    reconcileIntervalMs: z.coerce.number().int().min(10).max(60_000).default(500),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** origin line of audit checkpoints */
    logOrigin: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9./_-]{0,254}$/)
      .optional(),
    /** failed authentications of one address or token id within a minute before it is locked out */
    authMaxFailures: z.coerce.number().int().min(1).max(1_000_000).default(10),
    /** how long a locked-out address or token id is refused (429) */
    authLockoutSeconds: z.coerce.number().int().min(1).max(86_400).default(300),
    bootstrapToken: z
      .string()
      .regex(/^sgt_[A-Za-z0-9]{8,40}_[A-Za-z0-9]{20,100}$/, 'must look like sgt_<id>_<secret>')
      .optional(),
    /** the URL webhook receivers call back (`<publicUrl>/v1/callbacks/webhook/<delivery>`); without it webhook targets poll */
    publicUrl: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'an http(s) URL without query, e.g. https://stagegate.example.com')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** folder of per-environment age identities `<env>.key` that open secrets/<env>/*.sops.yaml at deploy time */
    ageIdentityDir: z.string().min(1).max(4096).optional(),
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

/** Build the config from explicit options (flags) over STAGEGATE_* environment variables. */
export function loadConfig(flags: Partial<ConfigInput>, env: Readonly<Record<string, string | undefined>>): Config {
  const fromEnv: Partial<ConfigInput> = {};
  const map: Array<[keyof ConfigInput, string]> = [
    ['host', 'STAGEGATE_HOST'],
    ['port', 'STAGEGATE_PORT'],
    ['dataDir', 'STAGEGATE_DATA'],
    ['projectFile', 'STAGEGATE_PROJECT'],
    ['logLevel', 'STAGEGATE_LOG_LEVEL'],
    ['bootstrapToken', 'STAGEGATE_BOOTSTRAP_TOKEN'],
    ['ageIdentityDir', 'STAGEGATE_AGE_IDENTITY_DIR'],
    ['publicUrl', 'STAGEGATE_PUBLIC_URL'],
    ['reconcileIntervalMs', 'STAGEGATE_RECONCILE_MS'],
    ['authMaxFailures', 'STAGEGATE_AUTH_MAX_FAILURES'],
    ['authLockoutSeconds', 'STAGEGATE_AUTH_LOCKOUT_SECONDS'],
  ];
  for (const [key, name] of map) {
    const v = env[name];
    if (v !== undefined && v !== '') (fromEnv as Record<string, unknown>)[key] = v;
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const parsed = configSchema.safeParse({ ...fromEnv, ...defined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new DomainError('invalid_input', `configuration ${field}: ${issue?.message ?? 'invalid'}`, {
      field,
      fix: `check the --${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} flag or its STAGEGATE_* variable`,
    });
  }
  const c = parsed.data;
  return Object.freeze({ ...c, dataDir: path.resolve(c.dataDir), projectFile: path.resolve(c.projectFile), ...(c.ageIdentityDir ? { ageIdentityDir: path.resolve(c.ageIdentityDir) } : {}) });
}
