/** `stagegate scan PATH`: find plaintext secrets with the gitleaks default rules, offline. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { loadProject } from '../../project/load.ts';
import { effectiveAllowlist } from '../../secrets/scan/allowlist.ts';
import { formatReport, toSarif } from '../../secrets/scan/report.ts';
import { scanPath } from '../../secrets/scan/scan-path.ts';
import { parse as parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const usage = `usage: stagegate scan PATH [--project FILE] [--sarif FILE] [--json]

Scans a file, a folder (recursively) or a .tar/.tar.gz/.tgz archive (unpacked in memory) for
plaintext secrets with the gitleaks default rules. Prints file:line:column, rule id and a redacted
match and fingerprint for each finding (--json: the whole report as JSON); --sarif FILE also writes
SARIF 2.1.0. --project FILE (a stagegate.yaml, or its folder) applies its scan.allow entries that
have not expired; paths in them are matched relative to PATH.
Exit 0 when clean, 1 when secrets are found, 2 on bad usage.`;

export const scanCommand: Command = {
  name: 'scan',
  summary: 'scan files, folders and tarballs for plaintext secrets (gitleaks rules), offline',
  usage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(args, { sarif: { type: 'string' }, project: { type: 'string' }, json: { type: 'boolean', default: false } }, usage, true, 'scan');
    if (positionals.length !== 1) {
      throw new DomainError('invalid_input', `scan: expected one PATH, got ${positionals.length}`, { fix: usage });
    }
    const target = resolve(ctx.cwd, positionals[0] as string);
    const { allowlist, notes } = v.project === undefined ? { allowlist: [], notes: [] } : effectiveAllowlist((await loadProject(resolve(ctx.cwd, v.project))).scan, new Date());
    const report = await scanPath(target, { allowlist }).catch((e: unknown) => {
      if (e instanceof DomainError && e.code === 'not_found') throw new DomainError('invalid_input', e.message, e.details);
      throw e;
    });
    report.root = positionals[0] as string;
    report.notes.unshift(...notes);
    if (v.sarif !== undefined) {
      const out = resolve(ctx.cwd, v.sarif);
      await writeFile(out, `${JSON.stringify(toSarif(report.findings), null, 2)}\n`).catch((e: NodeJS.ErrnoException) => {
        throw new DomainError('invalid_input', `scan: cannot write SARIF to ${v.sarif}: ${e.code ?? e.message}`, { file: out, fix: 'pass a writable --sarif path' });
      });
    }
    ctx.out(v.json ? JSON.stringify(report) : formatReport(report));
    return report.findings.length === 0 ? exitCodes.ok : exitCodes.failed;
  },
};
