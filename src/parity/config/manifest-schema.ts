/**
 * The manifest document of one service (base, or the effective result of the layering): known
 * top-level sections, each an object; every string, array, key and the nesting depth bounded.
 */
import semver from 'semver';
import { z } from 'zod';
import { NAME_RE } from '../../domain/ids.ts';

export const manifestSections = ['config', 'runtime', 'routing', 'network', 'dependencies', 'flags', 'secrets', 'observability'] as const;
export type ManifestSection = (typeof manifestSections)[number];

export const manifestLimits = { depth: 16, keyChars: 256, stringChars: 64 * 1024, arrayItems: 1000, objectKeys: 1000, leaves: 20_000, patchOps: 1000 } as const;

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** any JSON value with finite numbers and bounded strings, arrays and objects */
export const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number().refine(Number.isFinite, 'must be a finite number (no .inf or .nan)'),
    z.string().max(manifestLimits.stringChars),
    z.array(jsonValue).max(manifestLimits.arrayItems),
    jsonObject,
  ], { error: 'must be a string, a finite number (no .inf or .nan), a boolean, null, a list or a map' }),
);
const jsonObject: z.ZodType<Record<string, unknown>> = z.lazy(() =>
  z
    .record(
      z
        .string()
        .max(manifestLimits.keyChars)
        .refine((k) => !RESERVED_KEYS.has(k), 'the keys __proto__, constructor and prototype are not allowed (they are dropped by merge patches)'),
      jsonValue,
    )
    .refine((o) => Object.keys(o).length <= manifestLimits.objectKeys, `at most ${manifestLimits.objectKeys} keys per object`),
);

export const PLATFORM_NAME_RE = /^[a-z][a-z0-9._-]{0,62}$/;
const semverRange = z
  .string()
  .min(1)
  .max(256)
  .refine((r) => semver.validRange(r) !== null, 'must be a semver version or range such as ^2.1.0, >=20 <23 or 1.29.x');

export const dependenciesSchema = z.strictObject({
  services: z.record(z.string().regex(NAME_RE, 'a service name'), semverRange).optional().describe('service name -> semver range it must run'),
  platform: z.record(z.string().regex(PLATFORM_NAME_RE, 'a platform name such as node or postgres'), semverRange).optional().describe('platform -> version or range'),
});

export const SECRET_REF_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
export const secretsSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'a variable-like name such as DB_PASSWORD'), z.string().regex(SECRET_REF_RE, 'a key of the SOPS file such as db_password'))
  .describe('name the service sees -> key in secrets/<env>/<service>.sops.yaml');

export const manifestSchema = z.strictObject({
  config: jsonObject.optional().describe('application configuration keys'),
  runtime: jsonObject.optional().describe('replicas, resources, probes'),
  routing: jsonObject.optional().describe('service discovery and routes'),
  network: jsonObject.optional().describe('mesh and network policy'),
  dependencies: dependenciesSchema.optional(),
  flags: jsonObject.optional().describe('feature-flag keys the service reads'),
  secrets: secretsSchema.optional(),
  observability: jsonObject.optional().describe('metric and trace names, sampling, log and metric retention'),
});
export type ManifestDocument = z.output<typeof manifestSchema>;

/** an overlay (RFC 7396 merge patch): known sections, each an object or null (removes the section) */
export const overlaySchema = z.strictObject(Object.fromEntries(manifestSections.map((s) => [s, z.union([z.null(), jsonObject]).optional()])));

export const patchOpSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add'), path: z.string().max(4096), value: jsonValue }),
  z.strictObject({ op: z.literal('replace'), path: z.string().max(4096), value: jsonValue }),
  z.strictObject({ op: z.literal('test'), path: z.string().max(4096), value: jsonValue }),
  z.strictObject({ op: z.literal('remove'), path: z.string().max(4096) }),
  z.strictObject({ op: z.literal('move'), path: z.string().max(4096), from: z.string().max(4096) }),
  z.strictObject({ op: z.literal('copy'), path: z.string().max(4096), from: z.string().max(4096) }),
]);
export type PatchOp = z.output<typeof patchOpSchema>;
export const patchSchema = z.array(patchOpSchema).max(manifestLimits.patchOps);
