/**
 * `stagegate manifest audit`: stale and diverging manifest entries across every service folder,
 * offline. Problems a file has (bad YAML, a failing patch) are findings too, so one run lists all.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isDomainError } from '../../domain/errors.ts';
import { readArtifactTexts } from './artifact-texts.ts';
import { type AuditProject, checkOverlays, checkReferences, type ManifestFinding } from './audit-checks.ts';
import { effectiveConfigFromSource } from './effective-config.ts';
import { findHardcodedValues } from './hardcoded.ts';
import { BASE_FILE, dirSource } from './sources.ts';

export type { AuditProject, ManifestFinding } from './audit-checks.ts';

export interface ManifestAuditOptions {
  /** artifact files to search for hard-coded config values (tarballs are unpacked in memory) */
  artifacts?: readonly string[];
  /** findings from other checks (the parity rules' expiry), listed with these */
  extraFindings?: readonly ManifestFinding[];
}

export interface ManifestAuditReport {
  manifestDir: string;
  services: string[];
  findings: ManifestFinding[];
}

const MAX_FINDINGS = 1000;

export async function auditManifest(project: AuditProject, opts: ManifestAuditOptions = {}): Promise<ManifestAuditReport> {
  const relOf = (p: string) => path.relative(project.baseDir, p).split(path.sep).join('/') || '.';
  const manifestRel = relOf(project.manifestDir);
  const findings: ManifestFinding[] = [];
  const entries = await readdir(project.manifestDir, { withFileTypes: true }).catch(() => []);
  const known = new Set(project.services.map((s) => s.name));
  const audited: string[] = [];
  const artifactTexts = opts.artifacts?.length ? await readArtifactTexts(opts.artifacts.map((f) => ({ name: relOf(f), path: f }))) : [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory()) continue;
    const service = entry.name;
    const dir = path.join(project.manifestDir, service);
    const rel = (f: string) => `${manifestRel}/${service}/${f}`;
    if (!known.has(service)) {
      findings.push({ kind: 'unknown-service-folder', service, file: `${manifestRel}/${service}`, message: `manifest folder for ${service}, which is not a service of the project`, fix: `delete ${manifestRel}/${service}, or add ${service} to services in stagegate.yaml` });
      continue;
    }
    const source = await dirSource(dir, `${manifestRel}/${service}`);
    if (!source.files.includes(BASE_FILE)) {
      findings.push({ kind: 'invalid-manifest', service, file: rel(BASE_FILE), message: `${service} has a manifest folder without ${BASE_FILE}`, fix: `create ${rel(BASE_FILE)}; overlays apply to it` });
      continue;
    }
    audited.push(service);
    try {
      findings.push(...(await checkOverlays(source, service, project, rel)), ...(await checkReferences(source, service, project, rel)));
      for (const env of artifactTexts.length ? project.environments : []) {
        const eff = await effectiveConfigFromSource(source, service, env.name);
        for (const h of findHardcodedValues(artifactTexts, eff.document)) {
          if (findings.some((f) => f.kind === 'hardcoded-value' && f.service === service && f.pointer === h.pointer && f.file === h.file && f.line === h.line)) continue;
          findings.push({ kind: 'hardcoded-value', service, environment: env.name, file: h.file, line: h.line, column: h.column, pointer: h.pointer, message: `${service} config ${h.pointer} (${JSON.stringify(h.value)}) is hard-coded in the artifact`, fix: `read ${h.pointer} from the configuration (effective-config.json) instead of a literal` });
        }
      }
    } catch (e) {
      if (!isDomainError(e)) throw e;
      const d = e.details;
      findings.push({ kind: 'invalid-manifest', service, ...(d.file ? { file: String(d.file) } : {}), ...(d.line ? { line: d.line } : {}), ...(d.column ? { column: d.column } : {}), message: e.message, fix: d.fix ?? 'fix the manifest file' });
    }
    if (findings.length > MAX_FINDINGS) break;
  }
  findings.push(...(opts.extraFindings ?? []));
  return { manifestDir: manifestRel, services: audited, findings: findings.slice(0, MAX_FINDINGS) };
}

export function formatFinding(f: ManifestFinding): string {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}${f.column ? `:${f.column}` : ''}` : ''}: ` : '';
  return `${where}[${f.kind}] ${f.message} — fix: ${f.fix}`;
}
