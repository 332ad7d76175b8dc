/**
 * CEL gate rules: compiled (parsed and type-checked against the declared facts) once, when the
 * project loads, and evaluated for every promotion. A bad rule is an error at load, never at
 * promotion time; evaluation never throws: a rule that errors counts as failed, with the error.
 */
import { Environment } from '@marcbachmann/cel-js';
import { DomainError } from '../../domain/errors.ts';
import { lineColumn } from '../../domain/line-column.ts';
import { celErrorSummary, compileCelExpression, hasNestedQuantifier, positionText } from './compile-expression.ts';
import { type GateFacts, factMessages, factVariables, messageConstructors, toCelContext } from './facts.ts';
import { type GateRule, gateRulesSchema } from './schema.ts';

export { hasNestedQuantifier, lineColumn };

export interface CompiledGateRule {
  readonly id: string;
  readonly expression: string;
  readonly message: string;
  /** where the rule came from, e.g. `stagegate.yaml environments[2].rules[0]` */
  readonly where: string;
  /** the checked program; call it with toCelContext(facts) */
  readonly program: (context: Record<string, unknown>) => unknown;
}

export interface GateRuleResult {
  id: string;
  passed: boolean;
  /** the rule's message; for an evaluation error, with the error appended */
  message: string;
  /** set when the expression failed to evaluate (e.g. a missing map key) */
  error?: string;
}

export interface GateRulesOutcome {
  results: GateRuleResult[];
  failed: number;
}

export interface GateRuleProblem {
  /** `where[i]` */
  field: string;
  id: string;
  message: string;
  /** 1-based, within the expression; absent when the problem is not in the expression */
  line?: number;
  column?: number;
  fix?: string;
}

/** the most problems one error lists (a list holds at most 100 rules) */
const MAX_LISTED = 100;

let shared: Environment | undefined;

/** The one CEL environment for gate rules, built on first use and reused for every compile. */
export function gateEnvironment(): Environment {
  if (shared) return shared;
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: true,
    enableOptionalTypes: false,
    limits: { maxAstNodes: 2000, maxDepth: 32, maxListElements: 200, maxMapEntries: 200, maxCallArguments: 8 },
  });
  for (const [name, fields] of Object.entries(factMessages)) {
    const ctor = messageConstructors.get(name as keyof typeof factMessages);
    env.registerType(name, { ctor: ctor as () => void, fields: fields as Record<string, string> });
  }
  for (const [name, v] of Object.entries(factVariables)) env.registerVariable(name, v.type, { description: v.description });
  shared = env;
  return env;
}

const GENERIC_FIX = 'correct the expression; see docs/gate-rules.md for the facts, their types and examples';

const variableNames = Object.keys(factVariables).join(', ');

function fixFor(code: unknown, summary: string): string {
  if (code === 'unknown_variable') return `the facts are: ${variableNames} (see docs/gate-rules.md)`;
  if (code === 'no_such_key') {
    const fields = Object.entries(factMessages)
      .map(([t, f]) => `${t.replace('stagegate.', '')} {${Object.keys(f).join(', ')}}`)
      .join('; ');
    return `use a declared field: ${fields}`;
  }
  if ((code === 'no_such_overload' || code === 'no_matching_overload') && /double.*int|int.*double/.test(summary))
    return 'numeric facts are doubles: compare with a double literal (write 2.0, not 2) or convert with double(...)';
  return GENERIC_FIX;
}

const NOT_BOOL_FIX = 'write a condition that is true when the check passes, e.g. approvalCount >= 2.0';

function formatProblem(p: GateRuleProblem): string {
  return `${p.field} (${p.id}): ${p.message}${positionText(p)}`;
}

function compileOne(env: Environment, rule: GateRule, field: string): { ok: true; rule: CompiledGateRule } | { ok: false; problems: GateRuleProblem[] } {
  const { id, expression } = rule;
  const r = compileCelExpression(env, expression);
  if (!r.ok) {
    const problems = r.problems.map(
      (p): GateRuleProblem => ({
        field,
        id,
        message: p.message,
        ...(p.line === undefined ? {} : { line: p.line, column: p.column }),
        fix: p.fix ?? (p.kind === 'result' ? NOT_BOOL_FIX : fixFor(p.code, p.summary ?? '')),
      }),
    );
    return { ok: false, problems };
  }
  return { ok: true, rule: Object.freeze({ id, expression, message: rule.message, where: field, program: r.program }) };
}

function fail(where: string, problems: GateRuleProblem[]): never {
  const n = problems.length;
  const listed = problems.slice(0, MAX_LISTED).map((p) => `  ${formatProblem(p)}${p.fix && p.fix !== GENERIC_FIX ? `\n    fix: ${p.fix}` : ''}`);
  if (n > MAX_LISTED) listed.push(`  … and ${n - MAX_LISTED} more`);
  const first = problems[0];
  throw new DomainError('invalid_input', `${where}: ${n} invalid gate rule${n === 1 ? '' : 's'}:\n${listed.join('\n')}`, {
    field: first?.field ?? where,
    problems: problems.slice(0, MAX_LISTED),
    fix:
      n === 1 && first?.fix
        ? first.fix
        : 'correct each rule listed; every expression must be CEL over the gate facts that returns bool (see docs/gate-rules.md)',
  });
}

/**
 * Parse and type-check every rule against the declared facts; each must return bool.
 * Throws ONE DomainError('invalid_input') listing every bad rule as `where[i] (id): message at column C`.
 */
export function compileGateRules(rules: readonly GateRule[], opts: { where: string }): CompiledGateRule[] {
  const { where } = opts;
  const parsed = gateRulesSchema.safeParse(rules);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue): GateRuleProblem => {
      const [index, ...rest] = issue.path;
      const rule = typeof index === 'number' ? (rules[index] as Partial<GateRule> | undefined) : undefined;
      const field = typeof index === 'number' ? `${where}[${index}]${rest.map((p) => `.${String(p)}`).join('')}` : where;
      return {
        field,
        id: typeof rule?.id === 'string' ? rule.id.slice(0, 63) : '?',
        message: issue.message,
        fix: 'each rule is {id, expression, message}: id like require-approvals (unique), expression up to 4096 characters, message up to 1000; at most 100 rules',
      };
    });
    fail(where, problems);
  }
  const env = gateEnvironment();
  const compiled: CompiledGateRule[] = [];
  const problems: GateRuleProblem[] = [];
  parsed.data.forEach((rule, i) => {
    const r = compileOne(env, rule, `${where}[${i}]`);
    if (r.ok) compiled.push(r.rule);
    else problems.push(...r.problems);
  });
  if (problems.length > 0) fail(where, problems);
  return compiled;
}

/**
 * Evaluate every rule against the facts. Never throws: a rule whose evaluation errors (e.g. a map
 * key that is absent) counts as failed, with the error appended to its message.
 */
export function evaluateGateRules(compiled: readonly CompiledGateRule[], facts: GateFacts): GateRulesOutcome {
  const results: GateRuleResult[] = [];
  let failed = 0;
  let context: Record<string, unknown> | undefined;
  let contextError: string | undefined;
  try {
    context = toCelContext(facts);
  } catch (e) {
    contextError = `the facts could not be prepared: ${celErrorSummary(e)}`;
  }
  for (const rule of compiled) {
    let error: string | undefined = contextError;
    let passed = false;
    if (context !== undefined) {
      try {
        const value = rule.program(context);
        if (typeof value === 'boolean') passed = value;
        else error = `the expression returned ${typeof value}, not bool`;
      } catch (e) {
        error = celErrorSummary(e);
      }
    }
    if (!passed) failed++;
    results.push(error === undefined ? { id: rule.id, passed, message: rule.message } : { id: rule.id, passed, message: `${rule.message} (evaluation error: ${error})`, error });
  }
  return { results, failed };
}
