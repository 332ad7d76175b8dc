/**
 * Policy table tests: a YAML or JSON list of requests with the decision each must get. Parsed with
 * bounds (zod), problems located by line and column, then run against an authorizer.
 *
 * ```yaml
 * - name: a developer cannot promote to prod
 *   principal: { kind: user, name: dana, roles: [developer], groups: [team-a] }
 *   action: promotion.request
 *   resource: { type: Promotion, id: checkout-prod, attrs: { service: checkout, environment: prod, tier: prod } }
 *   context: { breakGlass: false }
 *   expect: deny
 *   policies: [forbid-prod-promote-without-releaser]   # optional: the policy ids that must decide
 * ```
 * A top-level `{cases: [...]}` works too.
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { principalId, principalKinds } from '../principal.ts';
import type { AuthzDecision, CedarAuthorizer } from './authorizer.ts';

const name = z.string().min(1).max(200);
const attrs = z
  .record(z.string().min(1).max(64), z.union([z.string().max(1024), z.boolean(), z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)]))
  .refine((o) => Object.keys(o).length <= 32, 'at most 32 attributes');

export const policyTestCaseSchema = z.strictObject({
  name: name.optional(),
  principal: z.strictObject({
    kind: z.enum(principalKinds).default('user'),
    name,
    roles: z.array(z.string().min(1).max(64)).max(32).default([]),
    groups: z.array(z.string().min(1).max(128)).max(64).default([]),
  }),
  action: z.string().min(1).max(64),
  resource: z.strictObject({ type: z.string().min(1).max(64), id: z.string().min(1).max(256), attrs: attrs.optional() }),
  context: attrs.optional(),
  expect: z.enum(['allow', 'deny']),
  policies: z.array(z.string().min(1).max(128)).max(32).optional(),
});
export type PolicyTestCase = z.infer<typeof policyTestCaseSchema>;

const maxCases = 10_000;
const fileSchema = z.union([
  z.array(policyTestCaseSchema).min(1).max(maxCases),
  z.strictObject({ cases: z.array(policyTestCaseSchema).min(1).max(maxCases) }),
]);

export const maxPolicyTestBytes = 4 * 1024 * 1024;

/** parse a table of cases; any problem is one DomainError('invalid_input') naming file:line:column */
export function parsePolicyTests(text: string, file: string): PolicyTestCase[] {
  if (Buffer.byteLength(text, 'utf8') > maxPolicyTestBytes) {
    throw new DomainError('invalid_input', `policy test file ${file} is over ${maxPolicyTestBytes} bytes`, { file, fix: 'split the cases into several files' });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new DomainError('invalid_input', `${file}:${pos.line}:${pos.col}: ${yamlError.message.split('\n')[0]}`, {
      file,
      line: pos.line,
      column: pos.col,
      fix: 'write the cases as a YAML or JSON list; see docs/security-model.md',
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new DomainError('invalid_input', `${file}: ${(e as Error).message}`, { file, fix: 'remove YAML aliases and anchors' });
  }
  const parsed = fileSchema.safeParse(data);
  if (parsed.success) return Array.isArray(parsed.data) ? parsed.data : parsed.data.cases;
  // report the issue of the branch that matches the file's shape
  const shaped = Array.isArray(data) ? z.array(policyTestCaseSchema).min(1).max(maxCases).safeParse(data) : z.strictObject({ cases: z.array(policyTestCaseSchema).min(1).max(maxCases) }).safeParse(data);
  const issue = shaped.success ? parsed.error.issues[0] : shaped.error.issues[0];
  const where = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
  const field = where.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  let line: number | undefined;
  let column: number | undefined;
  for (let n = where.length; n >= 0 && line === undefined; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(where.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      line = pos.line;
      column = pos.col;
    }
  }
  const at = line === undefined ? file : `${file}:${line}:${column}`;
  throw new DomainError('invalid_input', `${at}: ${field ? `${field}: ` : ''}${issue?.message ?? 'not a list of policy test cases'}`, {
    file,
    ...(line === undefined ? {} : { line, column }),
    ...(field ? { field } : {}),
    fix: 'each case needs principal {kind, name, roles, groups}, action, resource {type, id, attrs}, optional context, and expect: allow|deny',
  });
}

export interface PolicyTestResult {
  name: string;
  expect: 'allow' | 'deny';
  pass: boolean;
  decision: AuthzDecision;
  /** why it failed, in plain words */
  failure?: string;
}

export const caseName = (c: PolicyTestCase, index: number): string =>
  c.name ?? `#${index + 1} ${principalId(c.principal)} [${c.principal.roles.join(', ')}] ${c.action} ${c.resource.type}:${c.resource.id}`;

export function runPolicyTests(authorizer: CedarAuthorizer, cases: readonly PolicyTestCase[]): PolicyTestResult[] {
  return cases.map((c, i) => {
    const decision = authorizer.isAuthorized({
      principal: { ...c.principal, id: principalId(c.principal), credential: 'policy-test', scopes: [] },
      action: c.action,
      resource: { type: c.resource.type, id: c.resource.id, ...(c.resource.attrs ? { attrs: c.resource.attrs } : {}) },
      ...(c.context ? { context: c.context } : {}),
    });
    const got = decision.allowed ? 'allow' : 'deny';
    const failures: string[] = [];
    if (got !== c.expect) failures.push(`expected ${c.expect}, got ${got}`);
    if (c.policies && [...c.policies].sort().join(',') !== decision.policyIds.join(',')) {
      failures.push(`expected policies [${[...c.policies].sort().join(', ')}], got [${decision.policyIds.join(', ')}]`);
    }
    const result: PolicyTestResult = { name: caseName(c, i), expect: c.expect, pass: failures.length === 0, decision };
    if (failures.length > 0) result.failure = failures.join('; ');
    return result;
  });
}
