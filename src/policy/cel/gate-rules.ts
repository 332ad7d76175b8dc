/**
 * CEL gate rules: compiled (parsed and type-checked against the declared facts) once, when the
 * project loads, and evaluated for every promotion. A bad rule is an error at load, never at
 * promotion time; evaluation never throws: a rule that errors counts as failed, with the error.
 */
import { Environment } from '@marcbachmann/cel-js';
import { DomainError } from '../../domain/errors.ts';
import { type GateFacts, factMessages, factVariables, messageConstructors, toCelContext } from './facts.ts';
import { type GateRule, gateRulesSchema } from './schema.ts';
import { lineColumn } from '../../domain/line-column.ts';

export { lineColumn };

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

interface CelErrorLike {
  code?: unknown;
  summary?: unknown;
  message?: unknown;
  range?: { start?: unknown };
}

function summaryOf(e: unknown): string {
  const err = e as CelErrorLike | undefined;
  if (err && typeof err.summary === 'string' && err.summary.length > 0) return err.summary;
  if (err && typeof err.message === 'string') return err.message.split('\n')[0] ?? 'error';
  return String(e);
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

type AstLike = { op: string; args: unknown; start?: number };

function isAst(x: unknown): x is AstLike {
  return typeof x === 'object' && x !== null && 'op' in x && 'args' in x && typeof (x as { op: unknown }).op === 'string';
}

/**
 * Whether a regular expression may backtrack catastrophically: a group that holds an unbounded
 * quantifier (`+`, `*`, `{n,}`) and is itself repeated without bound, like `(a+)+` or `(\w*x)*`.
 */
export function hasNestedQuantifier(pattern: string): boolean {
  const stack: boolean[] = [];
  let lastGroupUnbounded = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    let closedGroup = false;
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(') {
      stack.push(false);
    } else if (c === ')') {
      lastGroupUnbounded = stack.pop() ?? false;
      closedGroup = true;
    } else if (c === '+' || c === '*' || (c === '{' && /^\{\d*,\}/.test(pattern.slice(i)))) {
      if (stack.length > 0) stack[stack.length - 1] = true;
    }
    if (closedGroup) {
      const next = pattern[i + 1];
      const unboundedNext = next === '+' || next === '*' || (next === '{' && /^\{\d*,\}/.test(pattern.slice(i + 1)));
      if (unboundedNext && lastGroupUnbounded) return true;
      // a repeated group counts as unbounded for its enclosing group
      if (lastGroupUnbounded && stack.length > 0) stack[stack.length - 1] = true;
    }
  }
  return false;
}

/** `matches()` runs JavaScript's backtracking RegExp: the pattern must be a literal that is valid and safe */
function regexProblems(root: unknown): Array<{ offset: number; message: string; fix: string }> {
  const out: Array<{ offset: number; message: string; fix: string }> = [];
  const visit = (node: unknown, depth: number): void => {
    if (depth > 64) return;
    if (Array.isArray(node)) {
      for (const x of node) visit(x, depth + 1);
      return;
    }
    if (!isAst(node)) return;
    let pattern: unknown;
    if (node.op === 'rcall' && Array.isArray(node.args) && node.args[0] === 'matches') pattern = (node.args[2] as unknown[] | undefined)?.[0];
    if (pattern !== undefined && isAst(pattern)) {
      const offset = pattern.start ?? node.start ?? 0;
      if (pattern.op !== 'value' || typeof pattern.args !== 'string') {
        out.push({ offset, message: 'matches() needs a string literal pattern', fix: 'write the regular expression as a literal, e.g. matches("^v[0-9]+")' });
      } else {
        try {
          new RegExp(pattern.args);
          if (hasNestedQuantifier(pattern.args))
            out.push({
              offset,
              message: `regular expression ${JSON.stringify(pattern.args)} repeats a repeated group, which can take exponential time`,
              fix: 'remove the nested repetition, e.g. (a+)+ -> a+',
            });
        } catch (e) {
          out.push({ offset, message: summaryOf(e).replace(/^invalid regular expression: /i, 'invalid regular expression: '), fix: 'correct the regular expression (JavaScript syntax)' });
        }
      }
    }
    if (node.op !== 'value' && node.op !== 'id') visit(node.args, depth + 1);
  };
  visit(root, 0);
  return out;
}

function problemAt(field: string, id: string, expression: string, offset: number | undefined, message: string, fix: string): GateRuleProblem {
  if (offset === undefined) return { field, id, message, fix };
  const { line, column } = lineColumn(expression, offset);
  return { field, id, message, line, column, fix };
}

function formatProblem(p: GateRuleProblem): string {
  const at = p.column === undefined ? '' : p.line !== undefined && p.line > 1 ? ` at line ${p.line}, column ${p.column}` : ` at column ${p.column}`;
  return `${p.field} (${p.id}): ${p.message}${at}`;
}

function compileOne(env: Environment, rule: GateRule, field: string): { ok: true; rule: CompiledGateRule } | { ok: false; problems: GateRuleProblem[] } {
  const { id, expression } = rule;
  let program: ReturnType<Environment['parse']>;
  try {
    program = env.parse(expression);
  } catch (e) {
    const err = e as CelErrorLike;
    const start = typeof err?.range?.start === 'number' ? err.range.start : undefined;
    const summary = summaryOf(e);
    return { ok: false, problems: [problemAt(field, id, expression, start, `syntax error: ${summary}`, fixFor(err?.code, summary))] };
  }
  let checked: ReturnType<Environment['check']>;
  try {
    checked = program.check();
  } catch (e) {
    checked = { valid: false, error: e as never };
  }
  if (!checked.valid) {
    const err = checked.error as CelErrorLike | undefined;
    const start = typeof err?.range?.start === 'number' ? err.range.start : undefined;
    const summary = summaryOf(err);
    return { ok: false, problems: [problemAt(field, id, expression, start, `type error: ${summary}`, fixFor(err?.code, summary))] };
  }
  if (checked.type !== 'bool') {
    return {
      ok: false,
      problems: [
        problemAt(
          field,
          id,
          expression,
          0,
          `the expression returns ${checked.type ?? 'an unknown type'}, not bool`,
          'write a condition that is true when the check passes, e.g. approvalCount >= 2.0',
        ),
      ],
    };
  }
  const regex = regexProblems(program.ast);
  if (regex.length > 0) return { ok: false, problems: regex.map((r) => problemAt(field, id, expression, r.offset, r.message, r.fix)) };
  return { ok: true, rule: Object.freeze({ id, expression, message: rule.message, where: field, program }) };
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
    contextError = `the facts could not be prepared: ${summaryOf(e)}`;
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
        error = summaryOf(e);
      }
    }
    if (!passed) failed++;
    results.push(error === undefined ? { id: rule.id, passed, message: rule.message } : { id: rule.id, passed, message: `${rule.message} (evaluation error: ${error})`, error });
  }
  return { results, failed };
}
