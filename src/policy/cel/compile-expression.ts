/**
 * The one CEL compile path: parse, type-check against an environment, check the result type and the
 * `matches()` patterns, and describe each problem with its position in the expression. Callers (gate
 * rules, analysis conditions) keep their own environments, wording around the problem and fixes.
 */
import type { Environment } from '@marcbachmann/cel-js';
import { lineColumn } from '../../domain/line-column.ts';
import { hasNestedQuantifier } from './regex-safety.ts';

export { hasNestedQuantifier };

export type CelProgram = ReturnType<Environment['parse']>;

export interface CelProblem {
  kind: 'syntax' | 'type' | 'result' | 'regex';
  /** e.g. `syntax error: Unexpected token: EOF`, `the expression returns double, not bool` */
  message: string;
  /** the CEL library's error code when it gave one (unknown_variable, no_such_key, no_such_overload, …) */
  code?: string;
  /** the library's one-line summary (syntax and type problems) */
  summary?: string;
  /** 1-based, within the expression; absent when the library gave no position */
  line?: number;
  column?: number;
  /** set for regex problems, whose fix does not depend on the caller */
  fix?: string;
}

export type CelCompileResult = { ok: true; program: CelProgram; type: string } | { ok: false; problems: CelProblem[] };

interface CelErrorLike {
  code?: unknown;
  summary?: unknown;
  message?: unknown;
  range?: { start?: unknown };
}

/** A CEL error's one-line summary (at most 500 characters). */
export function celErrorSummary(e: unknown): string {
  const err = e as CelErrorLike | undefined;
  if (err && typeof err.summary === 'string' && err.summary.length > 0) return err.summary.slice(0, 500);
  if (err && typeof err.message === 'string') return (err.message.split('\n')[0] ?? 'error').slice(0, 500);
  return String(e).slice(0, 500);
}

/** ` at column C`, or ` at line L, column C` past the first line; empty without a position */
export function positionText(p: { line?: number; column?: number }): string {
  if (p.column === undefined) return '';
  return p.line !== undefined && p.line > 1 ? ` at line ${p.line}, column ${p.column}` : ` at column ${p.column}`;
}

/** the problem's message with its position, e.g. `type error: Unknown variable: x at column 1` */
export function describeCelProblem(p: CelProblem): string {
  return `${p.message}${positionText(p)}`;
}

function at(expression: string, offset: number | undefined): { line?: number; column?: number } {
  return offset === undefined ? {} : lineColumn(expression, offset);
}

function fromError(kind: 'syntax' | 'type', e: unknown, expression: string): CelProblem {
  const err = e as CelErrorLike | undefined;
  const summary = celErrorSummary(e);
  const offset = typeof err?.range?.start === 'number' ? err.range.start : undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  return { kind, message: `${kind} error: ${summary}`, summary, ...(code ? { code } : {}), ...at(expression, offset) };
}

type AstLike = { op: string; args: unknown; start?: number };

const isAst = (x: unknown): x is AstLike => typeof x === 'object' && x !== null && 'op' in x && 'args' in x && typeof (x as { op: unknown }).op === 'string';

/** `matches()` runs JavaScript's backtracking RegExp: the pattern must be a literal that is valid and safe */
function regexProblems(root: unknown, expression: string): CelProblem[] {
  const out: CelProblem[] = [];
  const add = (offset: number, message: string, fix: string) => out.push({ kind: 'regex', message, fix, ...at(expression, offset) });
  const visit = (node: unknown, depth: number): void => {
    if (depth > 64) return;
    if (Array.isArray(node)) {
      for (const x of node) visit(x, depth + 1);
      return;
    }
    if (!isAst(node)) return;
    const pattern = node.op === 'rcall' && Array.isArray(node.args) && node.args[0] === 'matches' ? (node.args[2] as unknown[] | undefined)?.[0] : undefined;
    if (pattern !== undefined && isAst(pattern)) {
      const offset = pattern.start ?? node.start ?? 0;
      if (pattern.op !== 'value' || typeof pattern.args !== 'string') {
        add(offset, 'matches() needs a string literal pattern', 'write the regular expression as a literal, e.g. matches("^v[0-9]+")');
      } else {
        try {
          new RegExp(pattern.args);
          if (hasNestedQuantifier(pattern.args))
            add(offset, `regular expression ${JSON.stringify(pattern.args)} repeats a repeated group, which can take exponential time`, 'remove the nested repetition, e.g. (a+)+ -> a+');
        } catch (e) {
          add(offset, celErrorSummary(e).replace(/^invalid regular expression: /i, 'invalid regular expression: '), 'correct the regular expression (JavaScript syntax)');
        }
      }
    }
    if (node.op !== 'value' && node.op !== 'id') visit(node.args, depth + 1);
  };
  visit(root, 0);
  return out;
}

/**
 * Parse and type-check `expression` in `env`; it must return bool (or dyn, with `allowDyn`, when a
 * variable is dyn and the check happens at evaluation). Never throws for a bad expression: every
 * problem comes back with its position.
 */
export function compileCelExpression(env: Environment, expression: string, opts: { allowDyn?: boolean } = {}): CelCompileResult {
  let program: CelProgram;
  try {
    program = env.parse(expression);
  } catch (e) {
    return { ok: false, problems: [fromError('syntax', e, expression)] };
  }
  let checked: ReturnType<Environment['check']>;
  try {
    checked = program.check();
  } catch (e) {
    checked = { valid: false, error: e as never };
  }
  if (!checked.valid) return { ok: false, problems: [fromError('type', checked.error, expression)] };
  const type = checked.type ?? 'an unknown type';
  if (type !== 'bool' && !(opts.allowDyn && type === 'dyn')) return { ok: false, problems: [{ kind: 'result', message: `the expression returns ${type}, not bool`, ...at(expression, 0) }] };
  const regex = regexProblems(program.ast, expression);
  if (regex.length > 0) return { ok: false, problems: regex };
  return { ok: true, program, type };
}
