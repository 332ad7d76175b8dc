/**
 * `environments[].approvals` in stagegate.yaml: who must approve a promotion into an environment,
 * how long an approval lasts, how long a promotion waits, whether approvers must sign personally,
 * and separation of duties (which can only be made stricter than the built-in rules).
 */
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { DURATION_RE, parseDuration } from '../../domain/duration.ts';

const DAY_MS = 86_400_000;

export const approvalLimits = {
  rules: 10,
  count: 10,
  /** groups plus users named by one rule */
  principalsPerRule: 64,
  ruleNameChars: 64,
  minDurationMs: 60_000,
  maxDurationMs: 30 * DAY_MS,
} as const;

export const DEFAULT_EXPIRES_AFTER = '24h';
export const DEFAULT_TIMEOUT = '72h';

/** Group names as the identity module declares them. */
export const GROUP_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A principal in a rule: `alice` (a user) or `user:alice`, `service:ci`, `workload:github:org/repo`. */
export const RULE_PRINCIPAL_RE = /^(?:(?:user|service|workload):)?[A-Za-z0-9][A-Za-z0-9._@:/-]{0,127}$/;
export const RULE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

/** `alice` → `user:alice`; ids that already name their kind are kept. */
export const rulePrincipalId = (s: string): string => (/^(?:user|service|workload):/.test(s) ? s : `user:${s}`);

const SEPARATION_FIX = 'separation of duties can only be made stricter: remove the flag, or set it to false';

export const separationFlags = [
  'requesterMayApprove',
  'signerMayApprove',
  'pusherMayApprove',
  'approverMayDeployProd',
  'approverMayDeploy',
] as const;
export type SeparationFlag = (typeof separationFlags)[number];

const stricterOnly = (what: string) =>
  z
    .literal(false, { error: `${SEPARATION_FIX} (${what} is never allowed)` })
    .optional()
    .describe(`only \`false\` is accepted: ${what} is never allowed`);

export const separationSchema = z
  .strictObject({
    requesterMayApprove: stricterOnly('the person who requested the promotion approving it'),
    signerMayApprove: stricterOnly('the author (signer) of the release approving it'),
    pusherMayApprove: stricterOnly('whoever pushed the release approving it'),
    approverMayDeployProd: stricterOnly('an approver of a release deploying it in prod'),
    approverMayDeploy: z
      .literal(false, { error: SEPARATION_FIX })
      .optional()
      .describe('set to false to forbid approvers to deploy what they approved in every tier, not only prod'),
  })
  .describe('separation of duties; the built-in rules already forbid self-approval, and flags can only make them stricter');

const duration = (fallback: string, what: string) =>
  z
    .string()
    .max(32)
    .regex(DURATION_RE, 'must be a duration such as 30s, 10m, 2h, 1d or 1h30m')
    .default(fallback)
    .describe(`${what}: a duration such as 30s, 10m, 2h, 1d or 1h30m, from 1m to 30d (default ${fallback})`)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined || ms > approvalLimits.maxDurationMs) {
        ctx.addIssue({ code: 'custom', message: `duration "${s}" is longer than 30 days`, input: s });
        return z.NEVER;
      }
      if (ms < approvalLimits.minDurationMs) {
        ctx.addIssue({ code: 'custom', message: `duration "${s}" is shorter than 1 minute`, input: s });
        return z.NEVER;
      }
      return ms;
    });

export const approvalRuleSchema = z
  .strictObject({
    name: z.string().max(approvalLimits.ruleNameChars).regex(RULE_NAME_RE).optional().describe('a label for messages; default rule-N'),
    groups: z.array(z.string().max(64).regex(GROUP_RE)).max(approvalLimits.principalsPerRule).optional().describe('members of any of these groups may approve'),
    users: z.array(z.string().max(140).regex(RULE_PRINCIPAL_RE)).max(approvalLimits.principalsPerRule).optional().describe('these principals may approve (`alice` means user:alice)'),
    count: z.number().int().min(1).max(approvalLimits.count).describe('how many distinct people must approve under this rule'),
  })
  .describe('a rule: `count` distinct people from `groups` or `users`');

export const approvalPolicySchema = z
  .strictObject({
    rules: z.array(approvalRuleSchema).min(1).max(approvalLimits.rules).describe('all rules must be met; one person counts once across rules'),
    expiresAfter: duration(DEFAULT_EXPIRES_AFTER, 'an approval older than this no longer counts'),
    timeout: duration(DEFAULT_TIMEOUT, 'a promotion waiting longer than this for approvals fails'),
    requireSignatures: z.boolean().default(false).describe('each approver must add a personal signature (`stagegate approve --sign-key KEY`)'),
    separation: separationSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const names = new Set<string>();
    p.rules.forEach((r, i) => {
      const groups = r.groups ?? [];
      const users = new Set((r.users ?? []).map(rulePrincipalId));
      if (groups.length === 0 && users.size === 0) {
        ctx.addIssue({ code: 'custom', path: ['rules', i], message: 'a rule needs `groups` or `users` (who may approve)', input: r });
      }
      if (groups.length + users.size > approvalLimits.principalsPerRule) {
        ctx.addIssue({ code: 'custom', path: ['rules', i], message: `a rule names at most ${approvalLimits.principalsPerRule} groups and users together`, input: r });
      }
      if (groups.length === 0 && users.size > 0 && r.count > users.size) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'count'],
          message: `needs ${r.count} approvals but names only ${users.size} user${users.size === 1 ? '' : 's'}, so it can never be met`,
          input: r.count,
        });
      }
      const name = r.name ?? `rule-${i + 1}`;
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `two rules are named "${name}"`, input: r.name });
      names.add(name);
    });
  })
  .describe('who must approve a promotion into this environment (all rules must be met)');

export interface ApprovalRule {
  name: string;
  /** groups whose members may approve */
  groups: string[];
  /** principal ids (`user:alice`) who may approve */
  users: string[];
  count: number;
}

export interface SeparationOfDuties {
  requesterMayApprove: false;
  signerMayApprove: false;
  pusherMayApprove: false;
  approverMayDeployProd: false;
  /** false: an approver may not deploy what they approved in any tier (default true outside prod) */
  approverMayDeploy: boolean;
}

/** The validated, normalized policy. */
export interface ApprovalPolicy {
  rules: ApprovalRule[];
  expiresAfterMs: number;
  timeoutMs: number;
  requireSignatures: boolean;
  separation: SeparationOfDuties;
}

export type ApprovalPolicyFile = z.input<typeof approvalPolicySchema>;

/** Normalize the zod output: default names, principal ids, duplicates removed, every flag explicit. */
export function normalizeApprovalPolicy(p: z.output<typeof approvalPolicySchema>): ApprovalPolicy {
  return {
    rules: p.rules.map((r, i) => ({
      name: r.name ?? `rule-${i + 1}`,
      groups: [...new Set(r.groups ?? [])],
      users: [...new Set((r.users ?? []).map(rulePrincipalId))],
      count: r.count,
    })),
    expiresAfterMs: p.expiresAfter,
    timeoutMs: p.timeout,
    requireSignatures: p.requireSignatures,
    separation: {
      requesterMayApprove: false,
      signerMayApprove: false,
      pusherMayApprove: false,
      approverMayDeployProd: false,
      approverMayDeploy: p.separation?.approverMayDeploy ?? true,
    },
  };
}

/** Allowed fields per object, in the key style of `allowedFields` in src/project/schema.ts. */
export const approvalAllowedFields: Readonly<Record<string, readonly string[]>> = {
  'environments[].approvals': Object.keys(approvalPolicySchema.shape),
  'environments[].approvals.rules[]': Object.keys(approvalRuleSchema.shape),
  'environments[].approvals.separation': Object.keys(separationSchema.shape),
};

/** [field pattern, what the value should be, how to fix it], in the style of the hints in src/project/issues.ts. */
export const approvalFieldHints: readonly [RegExp, string, string][] = [
  [/approvals\.separation\.[A-Za-z]+$/, 'separation flag', SEPARATION_FIX],
  [/approvals\.(expiresAfter|timeout)$/, 'duration', 'write a duration such as 30s, 10m, 2h, 1d or 1h30m, from 1m to 30d'],
  [/approvals\.rules\[\]\.count$/, 'count', 'use a whole number from 1 to 10, at most the number of users the rule names'],
  [/approvals\.rules\[\]\.groups\[\]$/, 'group name', 'use letters, digits, ".", "_" and "-" (at most 64), e.g. sre'],
  [/approvals\.rules\[\]\.users\[\]$/, 'principal', 'name a user (alice) or a principal id (user:alice, service:ci)'],
  [/approvals\.rules\[\]\.name$/, 'rule name', 'use letters, digits, spaces, ".", "_" and "-" (at most 64), unique in the environment'],
  [/approvals\.rules(\[\])?$/, 'approval rule', 'give 1 to 10 rules, each with `groups` or `users` and a `count`, e.g. {groups: [sre], count: 1}'],
  [/approvals$/, 'approval policy', 'write approvals as a mapping with `rules` (see docs/approvals.md)'],
];

function fieldPath(path: readonly PropertyKey[]): { field: string; pattern: string } {
  let field = '';
  let pattern = '';
  for (const seg of path) {
    if (typeof seg === 'number') {
      field += `[${seg}]`;
      pattern += '[]';
    } else {
      field += field ? `.${String(seg)}` : String(seg);
      pattern += pattern ? `.${String(seg)}` : String(seg);
    }
  }
  return { field, pattern };
}

/**
 * Validate one `approvals` block (parsed YAML/JSON) on its own; `where` is its field path, e.g.
 * `environments[2].approvals`. Errors name the field and the fix.
 */
export function parseApprovalPolicy(value: unknown, where = 'approvals'): ApprovalPolicy {
  const r = approvalPolicySchema.safeParse(value);
  if (r.success) return normalizeApprovalPolicy(r.data);
  const issue = r.error.issues[0];
  const { field, pattern } = fieldPath(issue?.path ?? []);
  const full = field ? (field.startsWith('[') ? `${where}${field}` : `${where}.${field}`) : where;
  const fullPattern = `environments[].approvals${pattern ? (pattern.startsWith('[') ? pattern : `.${pattern}`) : ''}`;
  const hint = approvalFieldHints.find(([re]) => re.test(fullPattern));
  const unknownKeys = issue?.code === 'unrecognized_keys' ? issue.keys : undefined;
  const allowed = approvalAllowedFields[fullPattern];
  throw new DomainError('invalid_input', `${full}: ${unknownKeys ? `unknown field ${unknownKeys.map((k) => `\`${k.slice(0, 64)}\``).join(', ')}` : (issue?.message ?? 'invalid')}`, {
    field: full,
    fix: unknownKeys && allowed ? `remove it; allowed fields: ${allowed.join(', ')}` : (hint?.[2] ?? 'see docs/approvals.md'),
  });
}
