/**
 * Secret scanning of a release's files on the server: the blobs of its artifact and config subjects,
 * scanned under their subject names (archives unpacked in memory, bounded) with the project's
 * allowlist as it applies now. Also the refusal a push gets when something is found: it names the
 * file, line, rule, redacted match and fingerprint of each finding, never the secret.
 */
import { DomainError } from '../../domain/errors.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { Project } from '../../project/schema.ts';
import { type Finding, fingerprintOf } from './detect.ts';
import { effectiveAllowlist } from './allowlist.ts';
import { type ScanPathOptions, type ScanReport, scanNamedFiles } from './scan-path.ts';

/** Bounds for scans on the server: per plain file, and bytes unpacked from one archive. */
export const SERVER_SCAN_BOUNDS = { maxFileBytes: 16 * 1024 * 1024, maxArchiveBytes: 512 * 1024 * 1024 } as const;
/** findings listed in one message; the rest are counted */
const LISTED = 20;

export interface SubjectFile {
  name: string;
  digest: string;
  kind: string;
}

/** A file name as messages show it: at most 300 characters (archive entry names can be long). */
export const shownFile = (file: string): string => (file.length > 300 ? `${file.slice(0, 150)}…${file.slice(-149)}` : file);

/** One line per finding: `file:line:column rule redacted-match (fingerprint f)`. */
export const describeFinding = (f: Finding): string => `${shownFile(f.file)}:${f.line}:${f.column} ${f.ruleId} ${f.match} (fingerprint ${fingerprintOf(f)})`;

export function listFindings(findings: readonly Finding[], max = LISTED): string {
  const lines = findings.slice(0, max).map(describeFinding);
  if (findings.length > max) lines.push(`… and ${findings.length - max} more`);
  return lines.join('; ');
}

/** What to do about findings, for messages and `fix` fields. */
export const SECRET_FIX =
  'remove the secret from the file and rotate it (treat it as leaked), build and sign a new release; ' +
  'or, if it is not a secret or is accepted, add an entry under scan.allow in stagegate.yaml with rule, path or fingerprint and a reason (see docs/secret-scanning.md)';

/** Scan the stored blobs of a release's file subjects (images have no bytes here). */
export async function scanReleaseBlobs(
  deps: { blobs: Pick<BlobStore, 'pathOf'>; project: Pick<Project, 'scan'>; now: Date },
  subjects: readonly SubjectFile[],
  opts: Pick<ScanPathOptions, 'rules'> = {},
): Promise<ScanReport> {
  const { allowlist, notes } = effectiveAllowlist(deps.project.scan, deps.now);
  const files = subjects.filter((s) => s.kind !== 'image').map((s) => ({ name: s.name, path: deps.blobs.pathOf(s.digest) }));
  const report = await scanNamedFiles('release', files, { ...SERVER_SCAN_BOUNDS, ...opts, allowlist });
  report.notes.unshift(...notes);
  return report;
}

/** The refusal of a push whose files hold secrets: code `secret_detected`, findings in details. */
export function secretDetectedError(release: string, report: ScanReport): DomainError {
  const n = report.findings.length;
  return new DomainError(
    'secret_detected',
    `${release} contains ${n} plaintext secret${n === 1 ? '' : 's'}: ${listFindings(report.findings)}; the release was not stored`,
    {
      file: shownFile(report.findings[0]?.file ?? ''),
      line: report.findings[0]?.line,
      column: report.findings[0]?.column,
      findings: report.findings.slice(0, 100).map((f) => ({ file: shownFile(f.file), line: f.line, column: f.column, rule: f.ruleId, match: f.match, fingerprint: fingerprintOf(f) })),
      fix: SECRET_FIX,
    },
  );
}
