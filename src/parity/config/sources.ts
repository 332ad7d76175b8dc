/**
 * Where a service's manifest files come from: a folder on disk (`manifest/<service>/`), or the
 * config subjects of a release (each read back and checked against its signed digest).
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { digestOf, timingSafeEqualHex } from '../../crypto/digest.ts';
import { DomainError } from '../../domain/errors.ts';
import { NAME_RE } from '../../domain/ids.ts';
import type { ReleaseRecord } from '../../store/store.ts';
import { MAX_MANIFEST_BYTES } from './manifest-yaml.ts';

export interface ManifestSource {
  /** shown before file names in messages: a folder path, or `checkout@1.2.0 config` */
  label: string;
  /** flat file names: base.yaml, staging.yaml, prod.patch.yaml, ... */
  files: readonly string[];
  read(name: string): Promise<string>;
}

export const BASE_FILE = 'base.yaml';
export const overlayFile = (env: string) => `${env}.yaml`;
export const patchFile = (env: string) => `${env}.patch.yaml`;

/** environments that have an overlay or a patch file, sorted */
export function overlayEnvs(files: readonly string[]): string[] {
  const envs = new Set<string>();
  for (const f of files) {
    const m = /^([a-z][a-z0-9-]{0,62})(?:\.patch)?\.yaml$/.exec(f);
    if (m?.[1] && m[1] !== 'base' && NAME_RE.test(m[1])) envs.add(m[1]);
  }
  return [...envs].sort();
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** read at most MAX_MANIFEST_BYTES (+1 to notice larger files) */
export async function readBounded(path: string, shown: string): Promise<Buffer> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new DomainError('not_found', `${shown} cannot be read (${e.code ?? e.message})`, { file: shown, fix: 'check that the file exists and is readable' });
  });
  try {
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_MANIFEST_BYTES) throw new DomainError('invalid_input', `${shown} is larger than ${MAX_MANIFEST_BYTES} bytes`, { file: shown, fix: 'keep manifest files under 1 MiB' });
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function decodeUtf8(bytes: Uint8Array, shown: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new DomainError('invalid_input', `${shown} is not valid UTF-8`, { file: shown, fix: 'save the manifest file as UTF-8' });
  }
}

export async function dirSource(serviceDir: string, label = serviceDir): Promise<ManifestSource> {
  const entries = await readdir(serviceDir, { withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.yaml')).map((e) => e.name).sort();
  return {
    label,
    files,
    read: async (name) => decodeUtf8(await readBounded(join(serviceDir, name), `${label}/${name}`), `${label}/${name}`),
  };
}

/**
 * The release's top-level config subjects (`config/<file>.yaml`); `pathOf` says where each one's
 * bytes are (a blob, or the verified copy in a promotion's folder). Bytes are re-hashed on read.
 */
export function releaseSource(release: Pick<ReleaseRecord, 'service' | 'version' | 'subjects'>, pathOf: (s: { name: string; digest: string }) => string): ManifestSource {
  const label = `${release.service}@${release.version} config`;
  const byFile = new Map(
    release.subjects.filter((s) => s.kind === 'config' && /^config\/[^/]+\.yaml$/.test(s.name)).map((s) => [s.name.slice('config/'.length), s] as const),
  );
  return {
    label,
    files: [...byFile.keys()].sort(),
    async read(name) {
      const s = byFile.get(name);
      if (!s) throw new DomainError('not_found', `${label} has no ${name}`, { file: `config/${name}` });
      const bytes = await readBounded(pathOf(s), `config/${name}`);
      const actual = digestOf(bytes);
      if (!timingSafeEqualHex(actual, s.digest)) {
        throw new DomainError('digest_mismatch', `config/${name} of ${release.service}@${release.version} hashes to ${actual}, but the release signed ${s.digest}`, {
          file: `config/${name}`,
          fix: 'push the release\'s config files again from a trusted copy, and find out who changed the stored one',
        });
      }
      return decodeUtf8(bytes, `config/${name}`);
    },
  };
}
