/**
 * The `secret-scan` gate: scans the promotion's verified artifacts folder (the files the checksum
 * gate placed there under their subject names, tarballs unpacked in memory within bounds, and the
 * rendered `effective-config.json` when one is there) with the project's allowlist as it applies
 * at the time of the gate. Each finding fails the gate, naming file:line, rule and a redacted match.
 */
import { stat } from 'node:fs/promises';
import type { GateResult } from '../../domain/promotion.ts';
import type { Project } from '../../project/schema.ts';
import { fingerprintOf } from './detect.ts';
import { effectiveAllowlist } from './allowlist.ts';
import { SECRET_FIX, SERVER_SCAN_BOUNDS, shownFile } from './release-scan.ts';
import { type ScanPathOptions, scanPath } from './scan-path.ts';

export const SECRET_SCAN_GATE = 'secret-scan';
/** failing results listed one by one; the rest are summed up in one more result */
const LISTED = 20;

export async function secretScanGate(
  deps: { project: Pick<Project, 'scan'>; clock: () => Date },
  artifactsDir: string,
  opts: Pick<ScanPathOptions, 'rules'> = {},
): Promise<GateResult[]> {
  const present = await stat(artifactsDir).then((s) => s.isDirectory(), () => false);
  if (!present) return [{ gate: SECRET_SCAN_GATE, passed: true, message: 'the release has no artifact or config files to scan' }];
  const { allowlist, notes } = effectiveAllowlist(deps.project.scan, deps.clock());
  const report = await scanPath(artifactsDir, { ...SERVER_SCAN_BOUNDS, ...opts, allowlist });
  report.notes.unshift(...notes);
  const results: GateResult[] = report.findings.slice(0, LISTED).map((f) => ({
    gate: SECRET_SCAN_GATE,
    passed: false,
    subject: shownFile(f.file),
    message: `${shownFile(f.file)}:${f.line}:${f.column}: ${f.ruleId} (${f.description}) matched ${f.match} (fingerprint ${fingerprintOf(f)}); ${SECRET_FIX}`,
  }));
  if (report.findings.length > LISTED) {
    results.push({ gate: SECRET_SCAN_GATE, passed: false, message: `… and ${report.findings.length - LISTED} more secret finding(s); run \`stagegate scan\` on the release files for the full list` });
  }
  if (results.length === 0) {
    const allowed = report.suppressed.length ? `; ${report.suppressed.length} finding(s) allowed by scan.allow (${[...new Set(report.suppressed.map((s) => s.reason))].slice(0, 5).join('; ')})` : '';
    const noted = report.notes.length ? `; notes: ${report.notes.slice(0, 5).join('; ')}${report.notes.length > 5 ? ` (+${report.notes.length - 5})` : ''}` : '';
    results.push({ gate: SECRET_SCAN_GATE, passed: true, message: `no plaintext secrets in ${report.filesScanned} file(s), ${report.bytesScanned} bytes${allowed}${noted}` });
  } else if (notes.length > 0 && results[0]) {
    // an expired allowlist entry explains why a finding that passed before fails now
    results[0].message += ` (note: ${notes.slice(0, 3).join('; ')})`;
  }
  return results;
}
