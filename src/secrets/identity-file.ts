/**
 * age identity files (`age-keygen` output): lines `AGE-SECRET-KEY-1...`, `#` comments, blank lines.
 * Where the CLI and the server find them. Identity text never appears in an error.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../domain/errors.ts';

const IDENTITY_RE = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;
const MAX_IDENTITY_FILE_BYTES = 64 * 1024;

/** the identities in an identity file's text; `file` names it in errors */
export function parseIdentityFile(text: string, file: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!IDENTITY_RE.test(line)) {
      throw new DomainError('invalid_input', `${file}:${i + 1}: not an age X25519 identity (expected AGE-SECRET-KEY-1... or a # comment)`, {
        file,
        line: i + 1,
        fix: 'use a file written by age-keygen (or stagegate); plugin and SSH identities are not supported',
      });
    }
    out.push(line);
  }
  if (out.length === 0) {
    throw new DomainError('invalid_input', `${file} holds no age identity`, { file, fix: 'add an AGE-SECRET-KEY-1... line (age-keygen -o FILE makes one)' });
  }
  return out;
}

export async function readIdentityFile(file: string): Promise<string[]> {
  let text: string;
  try {
    if ((await stat(file)).size > MAX_IDENTITY_FILE_BYTES) {
      throw new DomainError('invalid_input', `${file} is over ${MAX_IDENTITY_FILE_BYTES} bytes: not an age identity file`, { file, fix: 'pass an age identity file' });
    }
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof DomainError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read the age identity file ${file}: ${code ?? (e as Error).message}`, {
      file,
      fix: 'pass the path of an existing age identity file (AGE-SECRET-KEY-1... lines)',
    });
  }
  return parseIdentityFile(text, file);
}

/** the CLI's identities: `--identity FILE` (repeatable), else SOPS_AGE_KEY_FILE or STAGEGATE_AGE_IDENTITY_FILE */
export async function cliIdentities(flags: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<string[] | undefined> {
  const files = flags.length > 0 ? [...flags] : [env['STAGEGATE_AGE_IDENTITY_FILE'] || env['SOPS_AGE_KEY_FILE']].filter((f): f is string => Boolean(f));
  if (files.length === 0) return undefined;
  const all: string[] = [];
  for (const f of files) all.push(...(await readIdentityFile(path.resolve(cwd, f))));
  return all;
}

/** the server's identity for an environment: `<identityDir>/<env>.key` */
export function serverIdentityFile(identityDir: string, env: string): string {
  return path.join(identityDir, `${env}.key`);
}
