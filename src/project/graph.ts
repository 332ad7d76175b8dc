/**
 * Semantic checks of a project file that a schema cannot express (names, references, the
 * promotion order), plus look-up helpers over a validated Project.
 */
import { DomainError } from '../domain/errors.ts';
import type { Environment, Project, Service } from './schema.ts';

export type FieldPath = (string | number)[];
export interface GraphProblem {
  path: FieldPath;
  message: string;
  fix: string;
}

/** Levenshtein distance, bounded inputs only (names are at most 63 characters). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The candidate closest to `name`, if it is close enough to be a likely typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(name.slice(0, 128), c.slice(0, 128));
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const list = (names: readonly string[]) => (names.length ? names.join(', ') : '(none)');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const items = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map((x) => (isRecord(x) ? x : {})) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function duplicates(section: string, entries: Record<string, unknown>[], out: GraphProblem[]): string[] {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const n = str(e.name);
    if (n === undefined) return;
    const first = seen.get(n);
    if (first === undefined) seen.set(n, i);
    else
      out.push({
        path: [section, i, 'name'],
        message: `duplicate name "${n}" (already used by ${section}[${first}])`,
        fix: `give each entry of ${section} a different name, or remove one of them`,
      });
  });
  return [...seen.keys()];
}

function refs(
  path: FieldPath,
  value: unknown,
  known: readonly string[],
  what: string,
  section: string,
  out: GraphProblem[],
): void {
  if (!Array.isArray(value)) return;
  const seen = new Set<string>();
  value.forEach((v, i) => {
    if (typeof v !== 'string') return;
    if (seen.has(v)) {
      out.push({ path: [...path, i], message: `"${v}" is listed twice`, fix: 'remove the repeated name' });
    } else if (!known.includes(v)) {
      const near = closestName(v, known);
      out.push({
        path: [...path, i],
        message: `unknown ${what} "${v}"; known: ${list(known)}`,
        fix: near ? `did you mean "${near}"?` : `use a name defined under \`${section}\`, or add "${v}" there`,
      });
    }
    seen.add(v);
  });
}

/** Find every cycle in `requires`, each as the path a -> b -> a (by environment index). */
function cycles(envs: { name: string; requires: string[] }[]): string[][] {
  const byName = new Map(envs.map((e) => [e.name, e]));
  const state = new Map<string, 'open' | 'done'>();
  const found: string[][] = [];
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const r of byName.get(n)?.requires ?? []) {
      if (!byName.has(r)) continue;
      if (state.get(r) === 'open') found.push([...stack.slice(stack.indexOf(r)), r]);
      else if (!state.has(r)) visit(r);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const e of envs) if (!state.has(e.name)) visit(e.name);
  return found;
}

/** Check names, references and the promotion order. Tolerates any input shape (schema errors are reported elsewhere). */
export function checkProjectGraph(data: unknown): GraphProblem[] {
  const out: GraphProblem[] = [];
  const root = isRecord(data) ? data : {};
  const keys = duplicates('keys', items(root.keys), out);
  duplicates('services', items(root.services), out);
  const envs = items(root.environments);
  const envNames = duplicates('environments', envs, out);
  const targets = isRecord(root.targets) ? Object.keys(root.targets) : [];
  const loose = envs.map((e) => ({
    name: str(e.name) ?? '',
    requires: Array.isArray(e.requires) ? e.requires.filter((r): r is string => typeof r === 'string') : [],
  }));
  const found = cycles(loose.filter((e) => e.name !== ''));
  const inCycle = new Set(found.flatMap((c) => c.slice(1).map((to, i) => `${c[i]}>${to}`)));
  const position = new Map<string, number>();
  loose.forEach((e, i) => {
    if (!position.has(e.name)) position.set(e.name, i);
  });

  envs.forEach((e, i) => {
    const t = str(e.target);
    if (t !== undefined && !targets.includes(t)) {
      const near = closestName(t, targets);
      out.push({
        path: ['environments', i, 'target'],
        message: `unknown target "${t}"; known: ${list(targets)}`,
        fix: near ? `did you mean "${near}"?` : `use a name defined under \`targets\`, or add "${t}" there`,
      });
    }
    refs(['environments', i, 'trustedKeys'], e.trustedKeys, keys, 'key', 'keys', out);
    refs(['environments', i, 'requires'], e.requires, envNames, 'environment', 'environments', out);
    const self = loose[i]?.name ?? '';
    (loose[i]?.requires ?? []).forEach((r) => {
      const at = position.get(r);
      if (at === undefined || at < i || inCycle.has(`${self}>${r}`)) return;
      const j = (e.requires as unknown[]).indexOf(r);
      out.push({
        path: ['environments', i, 'requires', j],
        message: `"${self}" requires "${r}", which comes later in the list (environments are in promotion order)`,
        fix: `move "${r}" above "${self}" in \`environments\`, or remove it from requires`,
      });
    });
    if (e.minSoak !== undefined && loose[i]?.requires.length === 0) {
      out.push({
        path: ['environments', i, 'minSoak'],
        message: 'minSoak is set but the environment requires no other environment, so there is nothing to soak in',
        fix: 'add `requires: [<earlier environment>]` or remove minSoak',
      });
    }
  });
  for (const c of found) {
    const at = position.get(c[0] ?? '') ?? 0;
    const j = (envs[at]?.requires as unknown[] | undefined)?.indexOf(c[1]) ?? -1;
    out.push({
      path: j >= 0 ? ['environments', at, 'requires', j] : ['environments', at, 'requires'],
      message: `requires forms a cycle: ${c.join(' -> ')}`,
      fix: 'an environment may only require environments above it; remove one of these requires',
    });
  }
  return out;
}

/** Environment names in promotion order. */
export function environmentOrder(project: Pick<Project, 'environments'>): string[] {
  return project.environments.map((e) => e.name);
}

export function findEnvironment(project: Pick<Project, 'environments' | 'project'>, name: string): Environment {
  const env = project.environments.find((e) => e.name === name);
  if (env) return env;
  const known = environmentOrder(project);
  const near = closestName(name, known);
  throw new DomainError('not_found', `unknown environment "${name.slice(0, 100)}" in project ${project.project}`, {
    field: 'environment',
    known,
    fix: near ? `did you mean "${near}"? known environments: ${list(known)}` : `use one of: ${list(known)}`,
  });
}

export function findService(project: Pick<Project, 'services' | 'project'>, name: string): Service {
  const service = project.services.find((s) => s.name === name);
  if (service) return service;
  const known = project.services.map((s) => s.name);
  const near = closestName(name, known);
  throw new DomainError('not_found', `unknown service "${name.slice(0, 100)}" in project ${project.project}`, {
    field: 'service',
    known,
    fix: near
      ? `did you mean "${near}"? known services: ${list(known)}`
      : `use one of: ${list(known)}, or add it under \`services\` in stagegate.yaml`,
  });
}
