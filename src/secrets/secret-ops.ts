/**
 * What `stagegate secrets set|rotate|rewrap` do to files, offline. Recipients always come from the
 * project's `.sops.yaml`; every write goes through a temp file + rename.
 */
import { existsSync } from 'node:fs';
import { DomainError } from '../domain/errors.ts';
import { secretsFileRef } from './layout.ts';
import { type SecretMeta, encryptSopsFile, rewrap, rotate } from './sops/sops-file.ts';
import { loadSopsConfig, recipientsFor } from './sops-config.ts';
import { inFile, openSecretsText, readSecretsText, writeFileAtomic } from './secrets-file.ts';

export const DEFAULT_ROTATE_BY_MS = 90 * 86_400_000;
const SEGMENT_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
export const MAX_VALUE_BYTES = 64 * 1024;

export const rfc3339 = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
export const metaFrom = (now: Date, rotateByMs: number): SecretMeta => ({ created: rfc3339(now), rotate_by: rfc3339(new Date(now.getTime() + rotateByMs)) });

/** the parts of a dotted secret name, or a clear error */
export function keyPath(key: string): string[] {
  const parts = key.split('.');
  const bad = parts.find((p) => !SEGMENT_RE.test(p));
  if (parts.length > 8 || bad !== undefined || parts[0] === 'sops' || parts[0]?.startsWith('stagegate_meta')) {
    throw new DomainError('invalid_input', `"${key.slice(0, 100)}" is not a valid secret name`, {
      field: 'KEY',
      fix: 'use up to 8 dot-separated parts of letters, digits, _ and - (e.g. db.password); sops and stagegate_meta are reserved',
    });
  }
  return parts;
}

function setIn(doc: Record<string, unknown>, parts: string[], value: string, file: string): void {
  let cur = doc;
  for (const [i, p] of parts.slice(0, -1).entries()) {
    const next = cur[p];
    if (next === undefined) cur[p] = {};
    else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new DomainError('invalid_input', `${file}: ${parts.slice(0, i + 1).join('.')} is a value, not a map, so ${parts.join('.')} cannot be set`, {
        file,
        field: parts.join('.'),
        fix: 'choose another name',
      });
    }
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

function needIdentities(identities: string[] | undefined, file: string, what: string): string[] {
  if (!identities || identities.length === 0) {
    throw new DomainError('invalid_input', `${what} ${file} needs an age identity that can open it`, {
      file,
      fix: 'pass --identity FILE or set SOPS_AGE_KEY_FILE (or STAGEGATE_AGE_IDENTITY_FILE) to an identity of one of its recipients',
    });
  }
  return identities;
}

export interface SetSecretInput {
  projectDir: string;
  env: string;
  service: string;
  key: string;
  value: string;
  identities?: string[];
  rotateByMs?: number;
  now: Date;
}

/** add or replace one secret; a new file gets created = now, rotate_by = now + rotateByMs (default 90d) */
export async function setSecret(i: SetSecretInput): Promise<{ file: string; createdFile: boolean }> {
  const ref = secretsFileRef(i.projectDir, i.env, i.service);
  const parts = keyPath(i.key);
  if (Buffer.byteLength(i.value) > MAX_VALUE_BYTES) {
    throw new DomainError('payload_too_large', `the value of ${i.key} is over ${MAX_VALUE_BYTES} bytes`, { field: i.key, fix: 'store large material elsewhere and keep a reference here' });
  }
  const { recipients } = recipientsFor(await loadSopsConfig(i.projectDir), ref.file);
  const exists = existsSync(ref.file);
  let doc: Record<string, unknown> = {};
  let meta = metaFrom(i.now, i.rotateByMs ?? DEFAULT_ROTATE_BY_MS);
  if (exists) {
    const opened = await openSecretsText(await readSecretsText(ref.file), ref.rel, needIdentities(i.identities, ref.rel, 'changing'));
    doc = opened.data;
    if (opened.meta) {
      meta = i.rotateByMs === undefined ? opened.meta : { created: opened.meta.created, rotate_by: metaFrom(i.now, i.rotateByMs).rotate_by };
    }
  }
  setIn(doc, parts, i.value, ref.rel);
  const text = await encryptSopsFile(doc, { format: 'yaml', recipients, metadata: meta, now: () => i.now }).catch((e: unknown) => {
    throw inFile(e, ref.rel);
  });
  await writeFileAtomic(ref.file, text);
  return { file: ref.rel, createdFile: !exists };
}

/** a new data key, every value re-encrypted, created = now; rotate_by = now + rotateByMs or the old interval */
export async function rotateSecretsFile(i: { projectDir: string; file: string; rel: string; identities?: string[]; rotateByMs?: number; now: Date }): Promise<SecretMeta> {
  const identities = needIdentities(i.identities, i.rel, 'rotating');
  const text = await readSecretsText(i.file);
  const opened = await openSecretsText(text, i.rel, identities);
  const { recipients } = recipientsFor(await loadSopsConfig(i.projectDir), i.file);
  const interval = i.rotateByMs ?? (opened.meta ? Math.max(0, Date.parse(opened.meta.rotate_by) - Date.parse(opened.meta.created)) : DEFAULT_ROTATE_BY_MS);
  const metadata = metaFrom(i.now, interval);
  const out = await rotate(text, { format: 'yaml', identities, recipients, metadata, now: () => i.now }).catch((e: unknown) => {
    throw inFile(e, i.rel);
  });
  await writeFileAtomic(i.file, out);
  return metadata;
}

/** the same data key wrapped to the recipients `.sops.yaml` gives the file now */
export async function rewrapSecretsFile(i: { projectDir: string; file: string; rel: string; identities?: string[] }): Promise<string[]> {
  const identities = needIdentities(i.identities, i.rel, 'rewrapping');
  const text = await readSecretsText(i.file);
  const { recipients } = recipientsFor(await loadSopsConfig(i.projectDir), i.file);
  const out = await rewrap(text, { format: 'yaml', identities, recipients }).catch((e: unknown) => {
    throw inFile(e, i.rel);
  });
  await writeFileAtomic(i.file, out);
  return recipients;
}
