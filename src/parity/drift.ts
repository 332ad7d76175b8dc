/**
 * Drift: what stagegate last deployed (declared snapshot: the signed release, its subject digests,
 * the effective configuration, the flag states) against what the target reports running (the
 * `observe` command's JSON). Pure: both sides in, findings out.
 */
import { z } from 'zod';
import { diffLeaves } from './leaves.ts';
import { toPointer } from './pointer.ts';
import { type EnvironmentSnapshot, FLAGS_ROOT } from './snapshot.ts';

export const OBSERVE_MAX_BYTES = 1024 * 1024;

const boundedRecord = <T extends z.ZodType>(value: T, max: number) =>
  z.record(z.string().min(1).max(512), value).refine((o) => Object.keys(o).length <= max, `at most ${max} entries`);

const observedServiceSchema = z.object({
  version: z.string().min(1).max(256).optional(),
  digests: boundedRecord(z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a digest is sha256: and 64 lower-case hex digits'), 10_000).optional(),
  config: boundedRecord(z.unknown(), 1_000).optional(),
  flags: boundedRecord(z.object({ state: z.string().max(64).optional(), defaultVariant: z.string().max(256).optional() }), 10_000).optional(),
});
export const observedStateSchema = z.object({ services: boundedRecord(observedServiceSchema, 10_000) });
export type ObservedState = z.infer<typeof observedStateSchema>;

/** validate an observe command's output; never throws */
export function parseObservation(text: string, where: string): { ok: true; observed: ObservedState } | { ok: false; error: string } {
  if (Buffer.byteLength(text) > OBSERVE_MAX_BYTES) return { ok: false, error: `${where} printed more than ${OBSERVE_MAX_BYTES} bytes; print only the observed-state JSON` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${where} did not print JSON (${(e as Error).message.slice(0, 120)}); it must print {"services": {...}} on stdout, see docs/parity-and-drift.md` };
  }
  const parsed = observedStateSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${toPointer(i.path.map(String)) || '(root)'}: ${i.message}`);
    return { ok: false, error: `${where} printed JSON that is not an observed state: ${issues.join('; ')}; see docs/parity-and-drift.md for the format` };
  }
  return { ok: true, observed: parsed.data };
}

export type DriftKind = 'version' | 'digest' | 'config' | 'flag' | 'missing' | 'unknown';

export interface DriftFinding {
  path: string;
  service?: string;
  kind: DriftKind;
  declared?: unknown;
  observed?: unknown;
  message: string;
}

export interface DriftReport {
  environment: string;
  service?: string;
  generatedAt: string;
  /** services whose declared and observed state were compared */
  servicesChecked: number;
  /** the target could not be observed: why (then there are no findings, and the state is unknown) */
  error?: string;
  findings: DriftFinding[];
}

export interface DriftOptions {
  now: Date;
  service?: string;
  /** services not to compare (a promotion is changing them right now) */
  skip?: ReadonlySet<string>;
  /** another acceptable declared state (see driftReport) */
  alternate?: EnvironmentSnapshot;
}

/** the findings of one service: the observation against one declared snapshot */
function serviceFindings(name: string, declared: EnvironmentSnapshot, obs: ObservedState['services'][string] | undefined): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const env = declared.environment;
  const rel = declared.services[name]?.release;
  const at = (...segs: string[]) => toPointer([name, ...segs]);
  if (!rel) {
    return [{ path: at(), service: name, kind: 'unknown', observed: obs?.version ?? '(running)', message: `${env} runs ${name}${obs?.version ? `@${obs.version}` : ''}, which stagegate never deployed there; remove it or promote a release of it` }];
  }
  if (!obs) {
    return [{ path: at(), service: name, kind: 'missing', declared: rel.version, message: `stagegate deployed ${name}@${rel.version} (${rel.id}) to ${env}, but the target reports nothing running; redeploy it (stagegate rollback or promote)` }];
  }
  if (obs.version !== undefined && obs.version !== rel.version) {
    findings.push({ path: at('release', 'version'), service: name, kind: 'version', declared: rel.version, observed: obs.version, message: `${env} runs ${name}@${obs.version}, but stagegate last deployed ${rel.version}; someone changed it outside stagegate — redeploy ${rel.version} or promote ${obs.version} through stagegate` });
  }
  if (obs.digests) {
    for (const subject of new Set([...Object.keys(rel.digests), ...Object.keys(obs.digests)])) {
      const signed = rel.digests[subject];
      const running = obs.digests[subject];
      if (signed === running) continue;
      const path = at('release', 'digests', subject);
      if (signed === undefined) findings.push({ path, service: name, kind: 'digest', observed: running, message: `${subject} runs in ${env} but is not part of the signed release ${name}@${rel.version}; remove it or ship it in a signed release` });
      else if (running === undefined) {
        if (rel.images?.includes(subject)) continue; // an image: a file-based observation cannot see it
        findings.push({ path, service: name, kind: 'digest', declared: signed, message: `${subject} of the signed release ${name}@${rel.version} is not running in ${env}; redeploy the release` });
      } else findings.push({ path, service: name, kind: 'digest', declared: signed, observed: running, message: `${subject} running in ${env} hashes to ${running}, but the signed release ${name}@${rel.version} has ${signed}: the running bytes were changed — redeploy the release and investigate who changed them` });
    }
  }
  if (obs.config) {
    const doc = declared.services[name]?.config ?? {};
    const d = diffLeaves(Object.fromEntries(Object.keys(obs.config).filter((k) => k in doc).map((k) => [k, doc[k]])), obs.config, [name]);
    for (const l of d.differences) {
      findings.push({ path: toPointer(l.segments), service: name, kind: 'config', ...(l.hasA ? { declared: l.a } : {}), ...(l.hasB ? { observed: l.b } : {}), message: `${l.hasB ? 'observed configuration' : 'the observed configuration lacks this key'}${l.hasA ? ' differs from the effective configuration' : ' that stagegate never declared'}; redeploy the release or change the manifest through stagegate` });
    }
  }
  for (const [key, f] of Object.entries(obs.flags ?? {})) {
    const want = declared.flags[key];
    if (!want) {
      findings.push({ path: toPointer([FLAGS_ROOT, key]), service: name, kind: 'flag', observed: f.state, message: `${name} in ${env} evaluates flag ${key}, which the ${env} flag set does not define; add it through a flag change request` });
      continue;
    }
    for (const field of ['state', 'defaultVariant'] as const) {
      if (f[field] !== undefined && f[field] !== want[field]) {
        findings.push({ path: toPointer([FLAGS_ROOT, key, field]), service: name, kind: 'flag', declared: want[field], observed: f[field], message: `${name} in ${env} sees flag ${key} ${field} ${f[field]}, the applied flag set says ${want[field]}; reload the flags or apply the change through a change request` });
      }
    }
  }
  return findings;
}

/**
 * `declared`: what stagegate last deployed. `opts.alternate`: another acceptable state (the last
 * Succeeded release, when a later deploy failed before it changed anything): a service whose
 * observation matches it exactly has no drift.
 */
export function driftReport(declared: EnvironmentSnapshot, observed: ObservedState | { error: string }, opts: DriftOptions): DriftReport {
  const base = { environment: declared.environment, ...(opts.service !== undefined ? { service: opts.service } : {}), generatedAt: opts.now.toISOString() };
  if ('error' in observed) return { ...base, servicesChecked: 0, error: observed.error, findings: [] };
  const wanted = (s: string) => (opts.service === undefined || s === opts.service) && !opts.skip?.has(s);
  const names = [...new Set([...Object.keys(declared.services).filter((s) => declared.services[s]?.release), ...Object.keys(observed.services)])].filter(wanted).sort();
  const findings: DriftFinding[] = [];
  for (const name of names) {
    const found = serviceFindings(name, declared, observed.services[name]);
    const alt = opts.alternate;
    if (found.length > 0 && alt && alt.services[name]?.release?.id !== declared.services[name]?.release?.id && serviceFindings(name, alt, observed.services[name]).length === 0) continue;
    findings.push(...found);
  }
  return { ...base, servicesChecked: names.length, findings };
}
