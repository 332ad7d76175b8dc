/**
 * A metric's CEL conditions, parsed and type-checked once at load against `result`, whose type
 * depends on the provider: a double for prometheus-text, job and builtin; dyn (a double, a list or a
 * map) for prometheus and web. A bad expression is one DomainError naming the metric and expression.
 */
import { Environment } from '@marcbachmann/cel-js';
import { DomainError } from '../../domain/errors.ts';
import type { ProviderKind } from './provider-schema.ts';

export type ResultType = 'double' | 'dyn';

export const resultTypeOf = (kind: ProviderKind): ResultType => (kind === 'prometheus' || kind === 'web' ? 'dyn' : 'double');

const envs = new Map<ResultType, Environment>();

function environment(type: ResultType): Environment {
  const found = envs.get(type);
  if (found) return found;
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: true,
    enableOptionalTypes: false,
    limits: { maxAstNodes: 500, maxDepth: 32, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 },
  });
  env.registerVariable('result', type, { description: 'the measured value' });
  envs.set(type, env);
  return env;
}

/** A checked condition; evaluate() throws when the value does not fit the expression (an Error measurement). */
export interface CompiledCondition {
  readonly expression: string;
  evaluate(result: unknown): boolean;
}

function summary(e: unknown): string {
  const err = e as { summary?: unknown; message?: unknown } | undefined;
  if (err && typeof err.summary === 'string' && err.summary) return err.summary;
  if (err && typeof err.message === 'string') return err.message.split('\n')[0] ?? 'error';
  return String(e).slice(0, 300);
}

export function compileCondition(expression: string, type: ResultType, where: { metric: string; field: string }): CompiledCondition {
  const env = environment(type);
  const problem = (what: string, fix: string): never => {
    throw new DomainError('invalid_input', `metric ${where.metric}: ${where.field} ${JSON.stringify(expression)}: ${what}`, {
      field: where.field,
      metric: where.metric,
      fix,
    });
  };
  let program: ReturnType<Environment['parse']> | undefined;
  try {
    program = env.parse(expression);
  } catch (e) {
    problem(`syntax error: ${summary(e)}`, 'write a CEL expression over result, e.g. result < 0.05');
  }
  if (!program) throw new DomainError('internal', 'CEL parse returned nothing');
  let checked: ReturnType<Environment['check']>;
  try {
    checked = program.check();
  } catch (e) {
    checked = { valid: false, error: e as never };
  }
  if (!checked.valid) {
    const s = summary(checked.error);
    const numeric = /double.*int|int.*double/.test(s);
    problem(
      `type error: ${s}`,
      numeric ? 'result is a double: compare with a double literal (write 1.0, not 1)' : `result is ${type === 'double' ? 'a double' : 'dyn (a double, list or map)'}; see docs/analysis.md`,
    );
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') problem(`returns ${checked.type}, not bool`, 'write a condition that is true or false, e.g. result < 0.05');
  const run = program;
  return Object.freeze({
    expression,
    evaluate(result: unknown): boolean {
      const value = run({ result: toCel(result) });
      if (typeof value !== 'boolean') throw new Error(`the condition returned ${typeof value}, not bool`);
      return value;
    },
  });
}

/** JSON values into CEL: numbers stay doubles, objects become maps, deeply bounded. */
function toCel(v: unknown, depth = 0): unknown {
  if (depth > 16) throw new Error('the result is nested deeper than 16 levels');
  if (Array.isArray(v)) return v.map((x) => toCel(x, depth + 1));
  if (v !== null && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x, depth + 1)]));
  return v;
}
