/** `stagegate manifest audit` findings from parity.yaml: expired allowed differences, or a file that does not load. */
import { isDomainError } from '../domain/errors.ts';
import type { ManifestFinding } from './config/audit.ts';
import { loadParityFile, PARITY_FILE_NAME } from './parity-file.ts';
import { expiredParityRules } from './rules.ts';

export async function parityAuditFindings(
  project: { baseDir: string; environments: readonly { name: string }[]; services: readonly { name: string }[] },
  now: Date,
): Promise<ManifestFinding[]> {
  try {
    const rules = await loadParityFile(project.baseDir, { environments: project.environments.map((e) => e.name), services: project.services.map((s) => s.name) });
    return expiredParityRules(rules, now).map((r) => ({
      kind: 'expired-parity-rule',
      file: PARITY_FILE_NAME,
      ...(r.line !== undefined ? { line: r.line, column: r.column ?? 1 } : {}),
      pointer: r.path,
      message: `allowed difference ${r.id} (${r.path}, owner ${r.owner}) expired on ${r.expires}: its differences are parity findings again`,
      fix: `renew it with a later expires if the difference is still intended (ask ${r.owner}), or remove the rule and the difference`,
    }));
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return [{ kind: 'invalid-parity-file', file: PARITY_FILE_NAME, message: e.message, fix: e.details.fix ?? 'fix parity.yaml; see docs/parity-and-drift.md' }];
  }
}
