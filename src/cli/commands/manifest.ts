/** `stagegate manifest audit`: stale and diverging manifest entries, offline. */
import { resolve } from 'node:path';
import { loadProject } from '../../project/load.ts';
import { auditManifest, formatFinding, type ManifestFinding } from '../../parity/config/audit.ts';
import { parityAuditFindings } from '../../parity/audit-findings.ts';
import { parse as parseFlags } from '../args.ts';
import type { CliContext, Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const usage = `usage: stagegate manifest audit [--project FILE] [--artifacts FILE]... [--json]

Reads the project file and its manifest folder and reports: overrides equal to the base, overrides
of keys the base does not have, folders and dependencies naming services not in the project, secret
references missing from secrets/ENV/SERVICE.sops.yaml, overlays for environments not in the project,
manifests that do not load, and (with --artifacts) config values hard-coded in the artifacts.
Exit 0 when clean, 1 when there are findings.`;

/** `extraFindings`: findings of other checks (the parity rules' expiry) to report with these */
export async function runManifestAudit(args: string[], ctx: CliContext, extraFindings: readonly ManifestFinding[] = []): Promise<number> {
  const { values: v } = parseFlags(
    args,
    { project: { type: 'string' }, artifacts: { type: 'string', multiple: true, default: [] }, json: { type: 'boolean', default: false } },
    usage,
    false,
    'manifest audit',
  );
  const project = await loadProject(resolve(ctx.cwd, v.project ?? '.'));
  const parity = await parityAuditFindings(project, new Date()); // expired allowed differences of parity.yaml
  const report = await auditManifest(project, { artifacts: v.artifacts.map((a) => resolve(ctx.cwd, a)), extraFindings: [...extraFindings, ...parity] });
  if (v.json) ctx.out(JSON.stringify(report));
  else {
    const n = report.findings.length;
    ctx.out(
      [
        ...report.findings.map(formatFinding),
        `${n === 0 ? 'no findings' : `${n} finding${n === 1 ? '' : 's'}`} in ${report.manifestDir} (${report.services.length} service${report.services.length === 1 ? '' : 's'}: ${report.services.join(', ') || 'none'})`,
      ].join('\n'),
    );
  }
  return report.findings.length === 0 ? exitCodes.ok : exitCodes.failed;
}

export const manifestAuditCommand: Command = {
  name: 'manifest audit',
  summary: 'stale and diverging manifest entries, missing secret references, hard-coded values (offline)',
  usage,
  run: (args, ctx) => runManifestAudit(args, ctx),
};
