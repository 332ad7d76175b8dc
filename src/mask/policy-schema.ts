/**
 * The masking policy file (YAML): which method masks each CSV column or JSON Lines field, what
 * happens to fields it does not list, and the bounds of a record. See docs/data-masking.md.
 */
import { z } from 'zod';

export const methodNames = ['email', 'phone', 'id', 'name', 'text', 'keep', 'drop', 'null'] as const;
export type MethodName = (typeof methodNames)[number];
export const formats = ['csv', 'jsonl'] as const;
export type MaskFormat = (typeof formats)[number];

export const limits = {
  policyBytes: 256 * 1024,
  fields: 1000,
  fieldKeyChars: 1024,
  defaultRecordBytes: 1024 * 1024,
  maxRecordBytes: 64 * 1024 * 1024,
  maxDepth: 64,
} as const;

const DOMAIN_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const scope = z.string().min(1).max(128).optional();
const fixedValue = z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]);

export const fixedRuleSchema = z.strictObject({ fixed: fixedValue });

export const methodRuleSchemas = {
  email: z.strictObject({
    method: z.literal('email'),
    domain: z.union([z.literal('keep'), z.string().regex(DOMAIN_RE, 'must be `keep` or a lowercase domain name such as example.com')]).default('example.com'),
    length: z.int().min(6).max(64).default(12),
    scope,
  }),
  phone: z.strictObject({ method: z.literal('phone'), countryCodeDigits: z.int().min(0).max(4).default(0), scope }),
  id: z.strictObject({ method: z.literal('id'), prefixes: z.array(z.string().min(1).max(32)).max(32).default([]), scope }),
  name: z.strictObject({ method: z.literal('name'), length: z.int().min(4).max(128).default(16), scope }),
  text: z.strictObject({ method: z.literal('text'), length: z.int().min(4).max(128).default(16), scope }),
  keep: z.strictObject({ method: z.literal('keep') }),
  drop: z.strictObject({ method: z.literal('drop') }),
  null: z.strictObject({ method: z.literal('null') }),
} as const;

export type FixedRule = { method: 'fixed'; value: z.infer<typeof fixedValue> };
export type FieldRule = { [K in MethodName]: z.output<(typeof methodRuleSchemas)[K]> }[MethodName] | FixedRule;
export type MaskingRule = Extract<FieldRule, { method: 'email' | 'phone' | 'id' | 'name' | 'text' }>;

export const policyFileSchema = z.strictObject({
  format: z.enum(formats).optional(),
  default: z.enum(['error', 'keep', 'drop']).default('error'),
  csv: z.strictObject({ delimiter: z.string().length(1).regex(/^[^"\r\n]$/, 'must be one character other than a quote or newline').default(',') }).optional(),
  maxRecordBytes: z.int().min(1024).max(limits.maxRecordBytes).default(limits.defaultRecordBytes),
  fields: z.record(z.string().max(limits.fieldKeyChars), z.unknown()).refine((f) => Object.keys(f).length <= limits.fields, {
    message: `at most ${limits.fields} fields`,
  }),
});

export interface MaskPolicy {
  format?: MaskFormat;
  default: 'error' | 'keep' | 'drop';
  delimiter: string;
  maxRecordBytes: number;
  /** field key (CSV header name or JSON Pointer) -> rule, in file order */
  fields: Map<string, FieldRule>;
}
