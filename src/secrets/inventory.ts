/**
 * Secrets facts for parity and gates: per service, per secret name, presence, key id and (with an
 * identity) age. Never a value.
 */
import { DomainError } from '../domain/errors.ts';
import { listSecretsFiles } from './layout.ts';
import { inspectSecretsText, openSecretsText, readSecretsText } from './secrets-file.ts';

export interface SecretFacts {
  present: true;
  file: string;
  keyId: string;
  created?: string;
  rotateBy?: string;
  overdue?: boolean;
}

export const isOverdue = (rotateBy: string, now: Date): boolean => Date.parse(rotateBy) < now.getTime();

/**
 * Every secret of `env`: `{ [service]: { [name]: facts } }`. `file` is relative to the project
 * folder. Without identities (or when none opens a file) `created`, `rotateBy` and `overdue` are
 * left out; a file that is not a SOPS file at all is an error naming it.
 */
export async function secretInventory(
  projectDir: string,
  env: string,
  opts: { identities?: string[]; now: Date },
): Promise<Record<string, Record<string, SecretFacts>>> {
  const out: Record<string, Record<string, SecretFacts>> = {};
  for (const ref of await listSecretsFiles(projectDir, env)) {
    const text = await readSecretsText(ref.file);
    const info = inspectSecretsText(text, ref.rel);
    let names = info.names;
    let meta: { created: string; rotate_by: string } | undefined;
    if (opts.identities && opts.identities.length > 0) {
      try {
        const opened = await openSecretsText(text, ref.rel, opts.identities);
        names = opened.names;
        meta = opened.meta;
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        // not ours to open (or damaged): report presence and key id only; the secrets gate names the problem
      }
    }
    const facts: Record<string, SecretFacts> = {};
    for (const name of names) {
      facts[name] = {
        present: true,
        file: ref.rel,
        keyId: info.keyId,
        ...(meta ? { created: meta.created, rotateBy: meta.rotate_by, overdue: isOverdue(meta.rotate_by, opts.now) } : {}),
      };
    }
    out[ref.service] = facts;
  }
  return out;
}
