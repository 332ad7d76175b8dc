/**
 * The server's side: open `secrets/<env>/<service>.sops.yaml` with the environment's own identity
 * (`<identityDir>/<env>.key`, from STAGEGATE_AGE_IDENTITY_DIR). Used by the secrets gate (metadata
 * only) and by the deploy step (values, handed to that step alone). Messages never hold a value.
 */
import { existsSync } from 'node:fs';
import { DomainError } from '../domain/errors.ts';
import { readIdentityFile, serverIdentityFile } from './identity-file.ts';
import { secretsFileRef } from './layout.ts';
import { type OpenedSecretsFile, openSecretsText, readSecretsText } from './secrets-file.ts';

export interface ServerSecretsInput {
  projectDir: string;
  /** folder of `<env>.key` age identity files; undefined when the server has none */
  identityDir: string | undefined;
  env: string;
  service: string;
}

export type ServerSecrets =
  | { status: 'absent'; file: string }
  | { status: 'opened'; file: string; opened: OpenedSecretsFile }
  | { status: 'error'; file: string; message: string };

export async function openServerSecrets(i: ServerSecretsInput): Promise<ServerSecrets> {
  const ref = secretsFileRef(i.projectDir, i.env, i.service);
  if (!existsSync(ref.file)) return { status: 'absent', file: ref.rel };
  if (!i.identityDir) {
    return {
      status: 'error',
      file: ref.rel,
      message: `${ref.rel} exists but this server has no age identity for ${i.env}: set STAGEGATE_AGE_IDENTITY_DIR to a folder holding ${i.env}.key (the identity of ${i.env}'s recipient in .sops.yaml) and restart the server`,
    };
  }
  const keyFile = serverIdentityFile(i.identityDir, i.env);
  try {
    const identities = await readIdentityFile(keyFile);
    return { status: 'opened', file: ref.rel, opened: await openSecretsText(await readSecretsText(ref.file), ref.rel, identities) };
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    const fix =
      e.code === 'forbidden'
        ? `${keyFile} is not one of the file's recipients: put ${i.env}'s identity there, or rewrap the file for it (stagegate secrets rewrap ${ref.rel})`
        : e.code === 'digest_mismatch'
          ? `${ref.rel} was altered: restore it from version control, never edit encrypted files by hand`
          : e.details.fix;
    return { status: 'error', file: ref.rel, message: `cannot decrypt ${ref.rel} for ${i.env}: ${e.message}${fix ? `; fix: ${fix}` : ''}` };
  }
}
