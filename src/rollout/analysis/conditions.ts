/**
 * A metric's CEL conditions, parsed and type-checked once at load against `result`, whose type
 * depends on the provider: a double for prometheus-text, job and builtin; dyn (a double, a list or a
 * map) for prometheus and web. A bad expression is one DomainError naming the metric, the expression
 * and the position (src/policy/cel/compile-expression.ts is the compile path gate rules use too).
 */
import { Environment } from '@marcbachmann/cel-js';
import { DomainError } from '../../domain/errors.ts';
import { type CelProblem, compileCelExpression, describeCelProblem } from '../../policy/cel/compile-expression.ts';
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

const NUMERIC = /double.*int|int.*double/;

function fixFor(p: CelProblem, type: ResultType): string {
  const described = type === 'double' ? 'a double' : 'dyn (a double, list or map)';
  if (p.fix) return p.fix;
  if (p.kind === 'syntax') return 'write a CEL expression over result, e.g. result < 0.05';
  if (p.kind === 'result') return 'write a condition that is true or false, e.g. result < 0.05';
  if (p.code === 'unknown_variable') return `the only variable is result, ${described}: e.g. result < 0.05`;
  if (NUMERIC.test(p.summary ?? '')) return 'result is a double: compare with a double literal (write 1.0, not 1)';
  return `result is ${described}; see docs/analysis.md`;
}

export function compileCondition(expression: string, type: ResultType, where: { metric: string; field: string }): CompiledCondition {
  const compiled = compileCelExpression(environment(type), expression, { allowDyn: true });
  if (!compiled.ok) {
    const p = compiled.problems[0] as CelProblem;
    const fix = fixFor(p, type);
    throw new DomainError('invalid_input', `metric ${where.metric}: ${where.field} ${JSON.stringify(expression)}: ${describeCelProblem(p)}`, {
      field: where.field,
      metric: where.metric,
      fix,
    });
  }
  const run = compiled.program;
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
