/**
 * One secrets file on disk: read it, look at it without a key (names, recipients, key id), open it
 * with identities (values and created/rotate_by, MAC verified), and write it atomically (temp file +
 * rename, so a failure never leaves half a file). Every error names the file; none holds a value.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../domain/errors.ts';
import { type SecretMeta, MAX_SOPS_BYTES, META_KEY, decryptSopsFile } from './sops/sops-file.ts';
import { parseSopsText, toPlain } from './sops/tree.ts';

export interface SecretsFileInfo {
  file: string;
  /** secret names, nested keys flattened to `a.b` (lists are one secret) */
  names: string[];
  recipients: string[];
  lastModified: string;
  /** non-secret id of the data-key generation: changes on rotate and set, not on rewrap */
  keyId: string;
}
export interface OpenedSecretsFile extends SecretsFileInfo {
  data: Record<string, unknown>;
  meta: SecretMeta | undefined;
}

/** prefix a DomainError's message with the file, keep its details, add `file` */
export function inFile(e: unknown, file: string): unknown {
  if (!(e instanceof DomainError)) return e;
  const message = e.message.startsWith(file) ? e.message : `${file}: ${e.message}`;
  const out = new DomainError(e.code, message, { ...e.details, file });
  return out;
}

export async function readSecretsText(file: string): Promise<string> {
  try {
    if ((await stat(file)).size > MAX_SOPS_BYTES) {
      throw new DomainError('payload_too_large', `${file} is over ${MAX_SOPS_BYTES} bytes`, { file, fix: 'split the secrets over several files' });
    }
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof DomainError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read ${file}: ${code ?? (e as Error).message}`, {
      file,
      fix: code === 'ENOENT' ? 'create it with stagegate secrets set ENV SERVICE KEY --value-stdin' : 'check the file permissions',
    });
  }
}

/** flattened names of a plain document: `{db: {password}}` -> `db.password` */
export function flattenNames(doc: unknown, prefix = ''): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return prefix ? [prefix] : [];
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length === 0) return prefix ? [prefix] : [];
  return entries.flatMap(([k, v]) => flattenNames(v, prefix ? `${prefix}.${k}` : k));
}

export const keyIdOfMac = (mac: string): string => createHash('sha256').update(mac, 'utf8').digest('hex').slice(0, 16);

/** what anyone can see without a key */
export function inspectSecretsText(text: string, file: string): SecretsFileInfo {
  try {
    const parsed = parseSopsText(text, 'yaml');
    const sops = parsed.sops as { age?: Array<{ recipient?: unknown }>; lastmodified?: unknown; mac?: unknown } | undefined;
    if (!sops || typeof sops.mac !== 'string' || !Array.isArray(sops.age)) {
      throw new DomainError('invalid_input', 'the file has no sops metadata (sops.age, sops.mac): it is not a SOPS file', { field: 'sops', fix: 'encrypt it with stagegate secrets set, or restore it from version control' });
    }
    const body = toPlain({ k: 'map', entries: parsed.body.entries.filter(([k]) => k !== META_KEY) });
    return {
      file,
      names: flattenNames(body),
      recipients: sops.age.map((a) => String(a.recipient ?? '')),
      lastModified: String(sops.lastmodified ?? ''),
      keyId: keyIdOfMac(sops.mac),
    };
  } catch (e) {
    throw inFile(e, file);
  }
}

/** decrypt with the MAC verified */
export async function openSecretsText(text: string, file: string, identities: string[]): Promise<OpenedSecretsFile> {
  const info = inspectSecretsText(text, file);
  try {
    const d = await decryptSopsFile(text, { format: 'yaml', identities });
    return { ...info, data: d.data, meta: d.meta, names: flattenNames(d.data) };
  } catch (e) {
    throw inFile(e, file);
  }
}

export async function openSecretsFile(file: string, identities: string[]): Promise<OpenedSecretsFile> {
  return openSecretsText(await readSecretsText(file), file, identities);
}

/** write `text` to `file` whole or not at all */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
