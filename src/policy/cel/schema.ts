/**
 * Gate rules as they appear in the project file: per environment `environments[].rules`, and per
 * service `services[].rules: {<environment>: [...]}`. A service's rules are ADDED to the
 * environment's; a service rule with the same id as an environment rule REPLACES it (in place).
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { NAME_RE } from '../../domain/ids.ts';
import type { Digest } from '../../domain/ids.ts';

export const GATE_RULE_ID_RE = /^[a-z][a-z0-9-]{0,62}$/;

export const gateRuleLimits = {
  idBytes: 63,
  expressionBytes: 4096,
  messageBytes: 1000,
  rulesPerList: 100,
  environmentsPerService: 64,
} as const;

export const gateRuleSchema = z
  .strictObject({
    id: z
      .string()
      .max(gateRuleLimits.idBytes)
      .regex(GATE_RULE_ID_RE)
      .describe('unique in its list; lowercase letters, digits and dashes; starts with a letter'),
    expression: z
      .string()
      .min(1)
      .max(gateRuleLimits.expressionBytes)
      .describe('a CEL expression over the gate facts that returns bool; true = the check passes'),
    message: z.string().min(1).max(gateRuleLimits.messageBytes).describe('shown when the check fails: what is wrong and what to do'),
  })
  .describe('a gate check, like a Kubernetes ValidatingAdmissionPolicy validation');

export type GateRule = z.infer<typeof gateRuleSchema>;

export const gateRulesSchema = z
  .array(gateRuleSchema)
  .max(gateRuleLimits.rulesPerList)
  .superRefine((rules, ctx) => {
    const seen = new Map<string, number>();
    rules.forEach((r, i) => {
      const first = seen.get(r.id);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'id'],
          message: `duplicate gate rule id "${r.id}" (also at index ${first}); ids must be unique in a list`,
          input: r.id,
        });
      else seen.set(r.id, i);
    });
  })
  .describe('gate checks; every one must pass (all failures are reported together)');

/** `services[].rules`: environment name -> rules added to (or replacing, by id) that environment's */
export const serviceGateRulesSchema = z
  .record(z.string().max(63).regex(NAME_RE), gateRulesSchema)
  .refine(
    (o) => Object.keys(o).length <= gateRuleLimits.environmentsPerService,
    `at most ${gateRuleLimits.environmentsPerService} environments`,
  )
  .meta({ maxProperties: gateRuleLimits.environmentsPerService })
  .describe('per environment name: rules added to that environment\'s; a rule with the same id replaces the environment\'s rule');

/**
 * The effective list for one service in one environment: the environment's rules in order, each one
 * replaced by the service rule with the same id if there is one, then the other service rules in order.
 */
export function mergeGateRules<T extends { readonly id: string }>(environmentRules: readonly T[], serviceRules: readonly T[]): T[] {
  const byId = new Map(serviceRules.map((r) => [r.id, r]));
  const merged = environmentRules.map((r) => byId.get(r.id) ?? r);
  const envIds = new Set(environmentRules.map((r) => r.id));
  for (const r of serviceRules) if (!envIds.has(r.id)) merged.push(r);
  return merged;
}

/** sha256 over the canonical JSON (RFC 8785) of the rules' {id, expression, message}, in order */
export function gateRulesDigest(rules: readonly GateRule[]): Digest {
  const text = canonicalize(rules.map((r) => ({ id: r.id, expression: r.expression, message: r.message })));
  if (text === undefined) throw new DomainError('internal', 'gate rules could not be canonicalized', { fix: 'report this bug' });
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}
