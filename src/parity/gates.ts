/**
 * The `parity` and `drift` gates and the CEL facts `findings.parity` / `findings.drift`.
 *
 * parity: promoting release R of service S to environment E, with N the next environment in the
 * pipeline (the one after E in the project file): E with R in place is compared with N with R in
 * place — S's configuration, runtime settings, secrets' metadata, and the environment-level flags.
 * Versions are left out (they differ on purpose while a release moves along); what remains is what
 * the environments themselves make different. The last environment has nothing to compare against.
 *
 * drift: what runs in E (the target's observe command) against what stagegate last deployed there,
 * for S and the environment's flags. A target without observe cannot drift-check: the gate passes
 * and says so.
 *
 * Thresholds per environment (`parity: {maxFindings, minScore}`, `drift: {maxFindings}`); when not
 * set, staging and prod tiers enforce maxFindings 0 and dev/test only report (docs/parity-and-drift.md).
 */
import type { GateResult } from '../domain/promotion.ts';
import type { EngineDeps } from '../engine/deps.ts';
import type { Environment, Project } from '../project/schema.ts';
import type { PromotionRecord, ReleaseRecord } from '../store/store.ts';
import { collectSnapshot, type CollectDeps, servicesInFlux } from './collect.ts';
import { type DriftFinding, driftReport, parseObservation, type DriftReport } from './drift.ts';
import { loadParityFile } from './parity-file.ts';
import { parityReport, type ParityReport } from './report.ts';

export type ParityGateDeps = CollectDeps & Pick<EngineDeps, 'targets'>;

export interface Threshold {
  enforce: boolean;
  maxFindings: number;
  minScore?: number;
}

const enforcingTiers = new Set(['staging', 'prod']);

export function thresholdOf(env: Environment, kind: 'parity' | 'drift'): Threshold {
  const set = env[kind];
  const minScore = kind === 'parity' ? env.parity?.minScore : undefined;
  return { enforce: set !== undefined || enforcingTiers.has(env.tier), maxFindings: set?.maxFindings ?? 0, ...(minScore !== undefined ? { minScore } : {}) };
}

/** the environment after `env` in the pipeline, if any */
export function nextEnvironment(project: Pick<Project, 'environments'>, env: string): Environment | undefined {
  const i = project.environments.findIndex((e) => e.name === env);
  return i >= 0 ? project.environments[i + 1] : undefined;
}

export const parityRulesFor = (project: Project) => loadParityFile(project.baseDir, { environments: project.environments.map((e) => e.name), services: project.services.map((s) => s.name) });

/** the gate's comparison: E with the candidate release vs N with the same release */
export async function promotionParity(deps: ParityGateDeps, p: Pick<PromotionRecord, 'service' | 'environment'>, release: ReleaseRecord): Promise<ParityReport | undefined> {
  const next = nextEnvironment(deps.project, p.environment);
  if (!next) return undefined;
  const rules = await parityRulesFor(deps.project);
  const [a, b] = await Promise.all([
    collectSnapshot(deps, p.environment, { service: p.service, candidate: release }),
    collectSnapshot(deps, next.name, { service: p.service, candidate: release }),
  ]);
  return parityReport(a, b, rules, { service: p.service, now: deps.clock(), releases: false });
}

/** drift of one environment (optionally one service); `undefined` when the target cannot observe */
export async function environmentDrift(deps: ParityGateDeps, env: string, service?: string): Promise<DriftReport | undefined> {
  const e = deps.project.environments.find((x) => x.name === env);
  const target = e ? deps.targets.get(e.target) : undefined;
  if (!e || !target?.observe) return undefined;
  const only = service !== undefined ? { service } : {};
  const [declared, succeeded, outcome, skip] = await Promise.all([
    collectSnapshot(deps, env, { deployed: true, ...only }),
    collectSnapshot(deps, env, only),
    target.observe(env),
    servicesInFlux(deps, env),
  ]);
  const parsed = outcome.ok ? parseObservation(outcome.output, `observe command of target ${e.target}`) : { ok: false as const, error: outcome.error };
  return driftReport(declared, parsed.ok ? parsed.observed : { error: parsed.error }, { now: deps.clock(), skip, alternate: succeeded, ...only });
}

const listed = (items: string[]) => `${items.slice(0, 5).join('; ')}${items.length > 5 ? `; and ${items.length - 5} more` : ''}`;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 1000);

export async function parityGate(deps: ParityGateDeps, p: PromotionRecord, release: ReleaseRecord): Promise<GateResult> {
  const env = deps.project.environments.find((e) => e.name === p.environment)!;
  const t = thresholdOf(env, 'parity');
  let r: ParityReport | undefined;
  try {
    r = await promotionParity(deps, p, release);
  } catch (e) {
    return { gate: 'parity', passed: !t.enforce, message: `parity against the next environment could not be computed: ${errorText(e)}` };
  }
  if (!r) return { gate: 'parity', passed: true, message: `${env.name} is the last environment: no next environment to compare against` };
  const findings = r.differences.filter((d) => d.status === 'finding').map((d) => `${d.path}: ${d.summary}`);
  const over = r.findings > t.maxFindings || (t.minScore !== undefined && r.score < t.minScore);
  const summary = `${r.findings} unapproved parity finding${r.findings === 1 ? '' : 's'} of ${p.service} in ${r.a} against ${r.b} (score ${r.score}, ${r.allowed} allowed)`;
  if (!over || !t.enforce) {
    const note = t.enforce ? '' : ` (report only: ${env.name} does not enforce parity; set parity.maxFindings on it to enforce)`;
    return { gate: 'parity', passed: true, subject: r.b, message: `${summary}${note}${findings.length ? `: ${listed(findings)}` : ''}` };
  }
  const limit = `${env.name} allows ${t.maxFindings}${t.minScore !== undefined ? ` and a score of at least ${t.minScore}` : ''}`;
  return {
    gate: 'parity',
    passed: false,
    subject: r.b,
    message: `${summary}; ${limit}: ${listed(findings)} — make them equal, or allow each difference in parity.yaml with a reason, owner and expiry (stagegate parity ${r.a} ${r.b} --service ${p.service})`,
  };
}

/**
 * the drift that blocks a promotion of `service`: a finding that nothing of it runs (a first deploy on
 * a new target, a host that lost it) is what the promotion repairs, so it does not count
 */
export function driftThatCounts(findings: readonly DriftFinding[], service: string): { counted: DriftFinding[]; redeployed: boolean } {
  const counted = findings.filter((f) => !(f.kind === 'missing' && f.service === service));
  return { counted, redeployed: counted.length < findings.length };
}

export async function driftGate(deps: ParityGateDeps, p: PromotionRecord): Promise<GateResult> {
  const env = deps.project.environments.find((e) => e.name === p.environment)!;
  const t = thresholdOf(env, 'drift');
  let r: DriftReport | undefined;
  try {
    r = await environmentDrift(deps, p.environment, p.service);
  } catch (e) {
    return { gate: 'drift', passed: !t.enforce, message: `drift in ${env.name} could not be checked: ${errorText(e)}` };
  }
  if (!r) return { gate: 'drift', passed: true, message: `target ${env.target} has no observe command, so drift in ${env.name} is not checked` };
  if (r.error) return { gate: 'drift', passed: !t.enforce, subject: env.name, message: `drift in ${env.name} is unknown: ${r.error}` };
  const { counted, redeployed } = driftThatCounts(r.findings, p.service);
  const n = counted.length;
  const also = redeployed ? ` (not counted: nothing of ${p.service} runs there now, which this promotion deploys)` : '';
  const summary = `${n} drift finding${n === 1 ? '' : 's'} for ${p.service} in ${env.name}${also}`;
  const shown = listed(counted.map((f) => `${f.path}: ${f.message}`));
  if (n <= t.maxFindings || !t.enforce) {
    const note = n > t.maxFindings ? ` (report only: ${env.name} does not enforce drift; set drift.maxFindings on it to enforce)` : '';
    return { gate: 'drift', passed: true, subject: env.name, message: `${summary}${note}${n ? `: ${shown}` : ': what runs is what stagegate deployed'}` };
  }
  return { gate: 'drift', passed: false, subject: env.name, message: `${summary} (${env.name} allows ${t.maxFindings}): ${shown}` };
}

/** the CEL facts: counts of unapproved parity findings and drift findings (an unknown state counts 1) */
export async function parityFindingCounts(deps: ParityGateDeps, p: PromotionRecord, release: ReleaseRecord): Promise<{ parity: number; drift: number }> {
  const [parity, drift] = await Promise.all([
    promotionParity(deps, p, release).then((r) => r?.findings ?? 0, () => 1),
    environmentDrift(deps, p.environment, p.service).then((r) => (r ? (r.error ? 1 : driftThatCounts(r.findings, p.service).counted.length) : 0), () => 1),
  ]);
  return { parity, drift };
}
