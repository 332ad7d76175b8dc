/**
 * Checks of the project file's policy sections that need the whole file: gate rules compiled
 * (type-checked CEL) per service and environment, service rule keys naming environments, freeze
 * windows naming services, identities without group cycles or unknown members.
 */
import { checkIdentities } from '../auth/identity-schema.ts';
import { DomainError } from '../domain/errors.ts';
import { type CompiledGateRule, compileGateRules } from '../policy/cel/gate-rules.ts';
import { type GateRule, mergeGateRules } from '../policy/cel/schema.ts';
import { checkRollouts } from './rollout-checks.ts';
import type { ProjectFile } from './schema.ts';

type FieldPath = (string | number)[];
export interface SectionProblem {
  path: FieldPath;
  message: string;
  fix: string;
}

/** compile one list; a DomainError's problems become located problems under `base` */
function compileAt(rules: readonly GateRule[], base: FieldPath, where: string, out: SectionProblem[]): CompiledGateRule[] {
  try {
    return compileGateRules(rules, { where });
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    const problems = (e.details['problems'] as Array<{ field: string; message: string; column?: number; line?: number; fix?: string }> | undefined) ?? [];
    for (const p of problems) {
      const index = Number(/\[(\d+)\]$/.exec(p.field)?.[1] ?? Number.NaN);
      const at = p.column === undefined ? '' : ` (at ${p.line && p.line > 1 ? `line ${p.line}, ` : ''}column ${p.column} of the expression)`;
      out.push({
        path: Number.isInteger(index) ? [...base, index, 'expression'] : base,
        message: `${p.message}${at}`,
        fix: p.fix ?? 'see docs/gate-rules.md for the facts and their types',
      });
    }
    if (problems.length === 0) out.push({ path: base, message: e.message, fix: e.details.fix ?? 'see docs/gate-rules.md' });
    return [];
  }
}

export function checkSections(f: ProjectFile, file: string): { problems: SectionProblem[]; gateRules: Record<string, Record<string, CompiledGateRule[]>> } {
  const problems: SectionProblem[] = [];
  const envNames = f.environments.map((e) => e.name);
  const serviceNames = new Set(f.services.map((s) => s.name));
  const envRules = new Map<string, CompiledGateRule[]>();
  f.environments.forEach((e, i) => {
    envRules.set(e.name, compileAt(e.rules ?? [], ['environments', i, 'rules'], `${file} environments[${i}].rules`, problems));
    (e.freezes ?? []).forEach((w, j) => {
      for (const s of w.services ?? []) {
        if (!serviceNames.has(s)) {
          problems.push({ path: ['environments', i, 'freezes', j, 'services'], message: `freeze window ${w.name} names service "${s}", which is not in the project`, fix: `use one of: ${[...serviceNames].join(', ')}` });
        }
      }
    });
  });
  const gateRules: Record<string, Record<string, CompiledGateRule[]>> = {};
  f.services.forEach((s, j) => {
    gateRules[s.name] = {};
    for (const envName of Object.keys(s.rules ?? {})) {
      if (!envNames.includes(envName)) {
        problems.push({ path: ['services', j, 'rules', envName], message: `rules for environment "${envName}", which is not in the project`, fix: `use one of: ${envNames.join(', ')}` });
      }
    }
    for (const envName of envNames) {
      const own = s.rules?.[envName];
      const compiled = own ? compileAt(own, ['services', j, 'rules', envName], `${file} services[${j}].rules.${envName}`, problems) : [];
      gateRules[s.name]![envName] = mergeGateRules(envRules.get(envName) ?? [], compiled);
    }
  });
  if (f.identities) {
    try {
      checkIdentities(f.identities);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const field = String(e.details.field ?? 'identities');
      problems.push({ path: field.split(/[.[\]]+/).filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : x)), message: e.message, fix: e.details.fix ?? 'see docs/identities.md' });
    }
  }
  problems.push(...checkRollouts(f));
  return { problems, gateRules };
}
