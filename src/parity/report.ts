/**
 * The parity report: every difference between two environment snapshots, each allowed by a
 * parity.yaml rule or a finding, and a score. Pure: snapshots and rules in, report out.
 *
 * Score = (compared leaves that are equal or allowed) / (all compared leaves); 1 when nothing was
 * compared. A compared leaf is one JSON Pointer present on at least one side.
 */
import { diffLeaves, type LeafDifference } from './leaves.ts';
import { toPointer } from './pointer.ts';
import { matchRule, type ParityRules } from './rules.ts';
import { type EnvironmentSnapshot, FLAGS_ROOT, type ServiceSnapshot, uncomparedSections } from './snapshot.ts';

export type DifferenceKind = 'release' | 'digest' | 'config' | 'secret' | 'flag';

export interface ParityDifference {
  /** JSON Pointer, e.g. /checkout/config/db/pool */
  path: string;
  /** absent for environment-level flags */
  service?: string;
  kind: DifferenceKind;
  /** the value in A / B; absent when the leaf is missing on that side */
  a?: unknown;
  b?: unknown;
  status: 'allowed' | 'finding';
  rule?: { id: string; reason: string; owner: string; expires: string; expired: boolean };
  /** the two values in words, e.g. `staging has 2, prod has 3` (and an expired rule) */
  summary: string;
  /** the summary and what to do */
  message: string;
}

export interface ParityReport {
  a: string;
  b: string;
  service?: string;
  generatedAt: string;
  compared: number;
  equal: number;
  allowed: number;
  findings: number;
  /** (equal + allowed) / compared, 4 decimals; 1 when nothing was compared */
  score: number;
  /** findings first, then allowed differences; each group by path */
  differences: ParityDifference[];
}

export interface ParityOptions {
  service?: string;
  now: Date;
  /** compare the releases in place (false for the promotion gate: versions differ on purpose) */
  releases?: boolean;
}

/** the shared-data-key check needs two different environments */
type CompareOptions = ParityOptions & { sameKeyCheck?: boolean };

type Raw = LeafDifference & { kind: DifferenceKind; service?: string; note?: string };

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'null');

function compareMaps(a: Record<string, unknown>, b: Record<string, unknown>, prefix: string[], kind: DifferenceKind, service: string | undefined, out: Raw[]): number {
  let compared = 0;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    compared++;
    const hasA = k in a;
    const hasB = k in b;
    if (hasA && hasB && a[k] === b[k]) continue;
    out.push({ segments: [...prefix, k], a: a[k], b: b[k], hasA, hasB, kind, ...(service !== undefined ? { service } : {}) });
  }
  return compared;
}

function compareService(name: string, a: ServiceSnapshot | undefined, b: ServiceSnapshot | undefined, rules: ParityRules, opts: CompareOptions, out: Raw[]): number {
  let compared = 0;
  const svc = { service: name };
  if (opts.releases !== false && (a?.release || b?.release)) {
    compared++;
    const ra = a?.release;
    const rb = b?.release;
    if (ra?.id !== rb?.id) {
      out.push({ segments: [name, 'release'], a: ra?.id, b: rb?.id, hasA: !!ra, hasB: !!rb, kind: 'release', ...svc, note: `${ra ? ra.version : 'nothing'} vs ${rb ? rb.version : 'nothing'}` });
    }
    compared += compareMaps(ra?.digests ?? {}, rb?.digests ?? {}, [name, 'release', 'digests'], 'digest', name, out);
  }
  const docA = Object.fromEntries(Object.entries(a?.config ?? {}).filter(([k]) => !uncomparedSections.includes(k)));
  const docB = Object.fromEntries(Object.entries(b?.config ?? {}).filter(([k]) => !uncomparedSections.includes(k)));
  const docs = diffLeaves(docA, docB, [name]);
  compared += docs.compared;
  for (const d of docs.differences) out.push({ ...d, kind: 'config', ...svc });

  const sa = a?.secrets ?? {};
  const sb = b?.secrets ?? {};
  for (const secret of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
    const x = sa[secret];
    const y = sb[secret];
    const base = [name, 'secrets', secret];
    const px = x?.present === true;
    const py = y?.present === true;
    compared++;
    if (px !== py) {
      out.push({ segments: [...base, 'present'], a: px, b: py, hasA: true, hasB: true, kind: 'secret', ...svc });
      continue;
    }
    if (!px) continue;
    compared++;
    // key ids identify the encrypted file's data key: they SHOULD differ; the same one in two
    // environments means one secrets file was copied, so both share the same secret values
    if (opts.sameKeyCheck !== false && x?.keyId !== undefined && x.keyId === y?.keyId) {
      out.push({ segments: [...base, 'keyId'], a: x.keyId, b: y.keyId, hasA: true, hasB: true, kind: 'secret', ...svc, note: 'the same data key in both environments: the secrets file was copied; give each environment its own secrets' });
    }
    compared++;
    const ax = x?.ageDays;
    const ay = y?.ageDays;
    if (ax !== undefined && ay !== undefined && Math.abs(ax - ay) > rules.secretAgeToleranceDays) {
      out.push({ segments: [...base, 'ageDays'], a: ax, b: ay, hasA: true, hasB: true, kind: 'secret', ...svc, note: `ages differ by more than ${rules.secretAgeToleranceDays} days` });
    }
  }
  return compared;
}

function compareFlags(a: EnvironmentSnapshot['flags'], b: EnvironmentSnapshot['flags'], out: Raw[]): number {
  let compared = 0;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[key];
    const y = b[key];
    if (!x || !y) {
      compared++;
      out.push({ segments: [FLAGS_ROOT, key], a: x?.state, b: y?.state, hasA: !!x, hasB: !!y, kind: 'flag', note: `flag defined only in one environment` });
      continue;
    }
    const fields = [
      ['state', x.state, y.state],
      ['defaultVariant', x.defaultVariant, y.defaultVariant],
      ['variants', x.variantsDigest, y.variantsDigest],
      ['targeting', x.targetingDigest, y.targetingDigest],
    ] as const;
    for (const [field, va, vb] of fields) {
      compared++;
      if (va !== vb) out.push({ segments: [FLAGS_ROOT, key, field], a: va, b: vb, hasA: true, hasB: true, kind: 'flag' });
    }
  }
  return compared;
}

export function parityReport(a: EnvironmentSnapshot, b: EnvironmentSnapshot, rules: ParityRules, opts: ParityOptions): ParityReport {
  const raw: Raw[] = [];
  let compared = 0;
  const names = opts.service !== undefined ? [opts.service] : [...new Set([...Object.keys(a.services), ...Object.keys(b.services)])].sort();
  const copts: CompareOptions = { ...opts, sameKeyCheck: a.environment !== b.environment };
  for (const name of names) compared += compareService(name, a.services[name], b.services[name], rules, copts, raw);
  compared += compareFlags(a.flags, b.flags, raw);

  const envs = { a: a.environment, b: b.environment };
  const differences: ParityDifference[] = raw.map((r) => {
    const path = toPointer(r.segments);
    const side = (has: boolean, v: unknown, env: string) => (has ? `${env} has ${show(v)}` : `${env} has nothing`);
    const what = `${side(r.hasA, r.a, a.environment)}, ${side(r.hasB, r.b, b.environment)}${r.note ? ` (${r.note})` : ''}`.slice(0, 400);
    const m = matchRule(rules.allow, envs, r.service, r.segments, opts.now);
    const base = { path, ...(r.service !== undefined ? { service: r.service } : {}), kind: r.kind, ...(r.hasA ? { a: r.a } : {}), ...(r.hasB ? { b: r.b } : {}) };
    if (!m) return { ...base, status: 'finding', summary: what, message: `${what}; make them equal, or allow the difference in parity.yaml` };
    const rule = { id: m.rule.id, reason: m.rule.reason, owner: m.rule.owner, expires: m.rule.expires, expired: m.expired };
    if (m.expired) {
      return { ...base, status: 'finding', rule, summary: `${what}; rule ${m.rule.id} expired on ${m.rule.expires}`, message: `${what}; rule ${m.rule.id} allowed it but expired on ${m.rule.expires}: renew it with a later expires (owner ${m.rule.owner}) or remove the difference` };
    }
    return { ...base, status: 'allowed', rule, summary: what, message: `${m.rule.reason} (rule ${m.rule.id}, owner ${m.rule.owner}, until ${m.rule.expires})` };
  });
  differences.sort((x, y) => (x.status === y.status ? (x.path < y.path ? -1 : x.path > y.path ? 1 : 0) : x.status === 'finding' ? -1 : 1));
  const findings = differences.filter((d) => d.status === 'finding').length;
  const allowed = differences.length - findings;
  return {
    a: a.environment,
    b: b.environment,
    ...(opts.service !== undefined ? { service: opts.service } : {}),
    generatedAt: opts.now.toISOString(),
    compared,
    equal: compared - differences.length,
    allowed,
    findings,
    score: compared === 0 ? 1 : Math.round(((compared - findings) / compared) * 10_000) / 10_000,
    differences,
  };
}
