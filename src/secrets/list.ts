/** `stagegate secrets list`: what each secrets file holds (names and metadata, never values). */
import { DomainError } from '../domain/errors.ts';
import { isOverdue } from './inventory.ts';
import { listSecretsFiles } from './layout.ts';
import { inspectSecretsText, openSecretsText, readSecretsText } from './secrets-file.ts';

export interface SecretsFileRow {
  env: string;
  service: string;
  file: string;
  names: string[];
  lastModified: string;
  keyId: string;
  recipients: string[];
  created?: string;
  rotateBy?: string;
  overdue?: boolean;
  /** why the file could not be read or opened (no value in it) */
  error?: string;
}

export async function listSecrets(i: { projectDir: string; env?: string; identities?: string[]; now: Date }): Promise<SecretsFileRow[]> {
  const rows: SecretsFileRow[] = [];
  for (const ref of await listSecretsFiles(i.projectDir, i.env)) {
    const base = { env: ref.env, service: ref.service, file: ref.rel };
    try {
      const text = await readSecretsText(ref.file);
      const info = inspectSecretsText(text, ref.rel);
      const row: SecretsFileRow = { ...base, names: info.names, lastModified: info.lastModified, keyId: info.keyId, recipients: info.recipients };
      if (i.identities && i.identities.length > 0) {
        try {
          const o = await openSecretsText(text, ref.rel, i.identities);
          row.names = o.names;
          if (o.meta) Object.assign(row, { created: o.meta.created, rotateBy: o.meta.rotate_by, overdue: isOverdue(o.meta.rotate_by, i.now) });
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          row.error = e.message;
        }
      }
      rows.push(row);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      rows.push({ ...base, names: [], lastModified: '', keyId: '', recipients: [], error: e.message });
    }
  }
  return rows;
}

export function formatSecretsList(rows: readonly SecretsFileRow[], withMeta: boolean): string {
  if (rows.length === 0) return 'no secrets files (secrets/<env>/<service>.sops.yaml)';
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.file}  (${r.env}/${r.service})`);
    if (r.error) lines.push(`  error: ${r.error}`);
    lines.push(`  key id: ${r.keyId || '-'}   last modified: ${r.lastModified || '-'}`);
    if (r.created) lines.push(`  created: ${r.created}   rotate by: ${r.rotateBy}${r.overdue ? '   OVERDUE' : ''}`);
    else if (withMeta && !r.error) lines.push('  created/rotate_by: not recorded (rotate it to set them)');
    lines.push(`  recipients: ${r.recipients.join(', ') || '-'}`);
    lines.push(`  secrets (${r.names.length}): ${r.names.join(', ') || '-'}`);
  }
  if (!withMeta) lines.push('(pass --identity FILE or set SOPS_AGE_KEY_FILE to see created, rotate_by and overdue)');
  return lines.join('\n');
}
