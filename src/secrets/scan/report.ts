/** Output formats for scan findings: a text report for people and SARIF 2.1.0 for tools. */
import { type Finding, fingerprintOf } from './detect.ts';
import type { ScanReport } from './scan-path.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: {
    tool: { driver: { name: string; informationUri: string; rules: { id: string; name: string; shortDescription: { text: string } }[] } };
    results: {
      ruleId: string;
      ruleIndex: number;
      level: 'error';
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }[];
      partialFingerprints: { 'secretHash/v1': string };
      properties: { entropy: number };
    }[];
  }[];
}

/** A relative URI reference for a finding's file: each `/`-separated segment percent-encoded (`!` kept). */
export const toUri = (file: string): string => file.split('/').map(encodeURIComponent).join('/');

/** SARIF 2.1.0: one run of 'stagegate-scan' listing the rules that fired; no secret in it. */
export function toSarif(findings: readonly Finding[]): SarifLog {
  const rules: SarifLog['runs'][number]['tool']['driver']['rules'] = [];
  const index = new Map<string, number>();
  for (const f of findings) {
    if (index.has(f.ruleId)) continue;
    index.set(f.ruleId, rules.length);
    rules.push({ id: f.ruleId, name: f.ruleId, shortDescription: { text: f.description } });
  }
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'stagegate-scan', informationUri: 'https://github.com/gitleaks/gitleaks', rules } },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: index.get(f.ruleId) ?? 0,
          level: 'error' as const,
          message: { text: `${f.description} Redacted match: ${f.match}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: toUri(f.file) },
                region: { startLine: f.line, startColumn: f.column },
              },
            },
          ],
          partialFingerprints: { 'secretHash/v1': f.secretHash },
          properties: { entropy: f.entropy },
        })),
      },
    ],
  };
}

/** One line per finding (file:line:column  rule  redacted match), then suppressions, notes, a summary. */
export function formatReport(report: ScanReport): string {
  const lines: string[] = [];
  for (const f of report.findings) lines.push(`${f.file}:${f.line}:${f.column}  ${f.ruleId}  ${f.match}  fingerprint ${fingerprintOf(f)}`);
  for (const s of report.suppressed) lines.push(`allowed  ${s.finding.file}:${s.finding.line}  ${s.finding.ruleId}  ${s.finding.match}  reason: ${s.reason}`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  const n = report.findings.length;
  lines.push(
    n === 0
      ? `clean: no secrets in ${report.filesScanned} file(s), ${report.bytesScanned} bytes`
      : `FOUND ${n} secret(s) in ${new Set(report.findings.map((f) => f.file)).size} file(s) (${report.filesScanned} scanned): remove them and rotate them, or add an allowlist entry with a reason`,
  );
  return lines.join('\n');
}
