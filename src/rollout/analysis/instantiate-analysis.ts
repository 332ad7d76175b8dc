/**
 * Analysis templates are declared once (stagegate.yaml `analysis.templates`) and run for many
 * rollouts: `{{args.NAME}}` in any string of a metric's provider is replaced by the rollout's
 * arguments before the template is validated (see placeholders.ts for how each field is encoded).
 */
import { DomainError } from '../../domain/errors.ts';
import { type ArgLookup, ARG_NAME_RE, hasPlaceholder, type PlaceholderContext, PlaceholderProblem, substitutePlaceholders } from './placeholders.ts';

/** The arguments the rollout controller supplies; `stable` is absent when there is no old version. */
export const ANALYSIS_ARG_NAMES = ['canary', 'stable', 'service', 'environment', 'promotion'] as const;
export type AnalysisArgName = (typeof ANALYSIS_ARG_NAMES)[number];
/** name -> value; an undefined value is an argument this rollout does not have */
export type AnalysisArgs = Readonly<Record<string, string | undefined>>;

const MAX_DEPTH = 32;

function lookup(args: AnalysisArgs): ArgLookup {
  const extra = Object.keys(args).filter((k) => ARG_NAME_RE.test(k) && !(ANALYSIS_ARG_NAMES as readonly string[]).includes(k));
  const names = [...ANALYSIS_ARG_NAMES, ...extra];
  return {
    known: (name) => names.includes(name),
    value: (name) => (Object.hasOwn(args, name) && typeof args[name] === 'string' ? args[name] : undefined),
    names: () => names,
  };
}

function contextOf(kind: string, path: readonly (string | number)[]): PlaceholderContext {
  const [first] = path;
  if (first === 'url' || (kind === 'prometheus' && first === 'address')) return 'url';
  if (kind === 'prometheus' && first === 'query') return 'promql';
  if (kind === 'web' && first === 'jsonPath') return 'jsonPath';
  if (kind === 'job' && first === 'command') return 'argv';
  return 'text';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const pathText = (path: readonly (string | number)[]) => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');

/**
 * A copy of `template` with every placeholder in its metrics' providers substituted (the input is
 * not changed). Throws DomainError('invalid_input') naming the metric, the field and the placeholder
 * for an unknown placeholder, an argument without a value, a value that is too long or holds control
 * characters, or a value that could break out of its place (see docs/analysis.md, "Arguments").
 * A template that is not even shaped like one is returned as is, for the schema to report.
 */
export function instantiateAnalysis(template: unknown, args: AnalysisArgs, where = 'analysis'): unknown {
  if (!isRecord(template) || !Array.isArray(template.metrics)) return template;
  const argLookup = lookup(args);
  const metrics = template.metrics.map((metric: unknown, i: number) => {
    if (!isRecord(metric)) return metric;
    const name = typeof metric.name === 'string' ? metric.name.slice(0, 63) : `#${i}`;
    const fail = (rel: string, message: string, placeholder: string, fix: string): never => {
      throw new DomainError('invalid_input', `metric ${name}: ${rel}: ${message}`, { field: `${where}.metrics[${i}].${rel}`, metric: name, placeholder, fix });
    };
    for (const [key, value] of Object.entries(metric)) {
      if (key !== 'provider' && typeof value === 'string' && hasPlaceholder(value))
        fail(key, 'placeholders are substituted only in provider fields', '{{args.…}}', 'move the value into the provider, e.g. its query or url; conditions compare `result` with literals');
    }
    const provider = metric.provider;
    if (!isRecord(provider)) return metric;
    const substituted = Object.fromEntries(
      Object.entries(provider).map(([kind, spec]) => {
        const walk = (v: unknown, path: (string | number)[]): unknown => {
          if (path.length > MAX_DEPTH) fail(`provider.${kind}${pathText(path)}`, `nested deeper than ${MAX_DEPTH} levels`, '', 'flatten the value');
          if (typeof v === 'string') {
            try {
              return substitutePlaceholders(v, contextOf(kind, path), argLookup);
            } catch (e) {
              if (!(e instanceof PlaceholderProblem)) throw e;
              return fail(`provider.${kind}${pathText(path)}`, e.message, e.placeholder, e.fix);
            }
          }
          if (Array.isArray(v)) return v.map((x, j) => walk(x, [...path, j]));
          if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
          return v;
        };
        return [kind, walk(spec, [])];
      }),
    );
    return { ...metric, provider: substituted };
  });
  return { ...template, metrics };
}
