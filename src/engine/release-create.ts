/**
 * Create a signed release offline: hash the artifacts and config files (streaming), build the
 * in-toto statement, sign it as DSSE and wrap it in a Sigstore bundle.
 */
import { createPublicKey } from 'node:crypto';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import { bundleToJson, toBundle } from '../crypto/bundle.ts';
import type { SigstoreBundle } from '../crypto/bundle.ts';
import { digestOf, sha256File } from '../crypto/digest.ts';
import { signDsse } from '../crypto/dsse.ts';
import { keyIdOf, loadPrivateKey } from '../crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE, MAX_SUBJECTS, artifactSubject, buildReleaseStatement, configSubject, imageSubject, parseProvenance } from '../crypto/statement.ts';
import type { ReleaseSubject } from '../crypto/statement.ts';
import { parseNeeds } from '../parity/config/needs.ts';
import { effectiveConfigByproducts, withConfigExtras } from '../parity/config/release-extras.ts';

const MAX_PROVENANCE_BYTES = 256 * 1024;

export interface CreateReleaseInput {
  service: string;
  version: string;
  artifacts: string[];
  images: string[];
  configDir?: string;
  provenanceFile?: string;
  /** `service:NAME@RANGE` / `platform:NAME@RANGE`, recorded in externalParameters.stagegate.needs */
  needs?: string[];
  privateKeyPem: string;
  /** where the private key came from, for error messages */
  keySource?: string;
}

export interface CreatedSubject extends ReleaseSubject {
  /** bytes hashed; null for images */
  size: number | null;
}

export interface CreatedRelease {
  bundle: SigstoreBundle;
  bundleJson: string;
  statementBytes: Buffer;
  releaseId: Digest;
  keyId: string;
  subjects: CreatedSubject[];
}

export interface ConfigFile {
  /** path relative to the config directory, forward slashes */
  relativePath: string;
  path: string;
}

/**
 * List the regular files under `dir`, sorted. Symlinks to files inside `dir` are followed; a symlink
 * that leaves `dir`, a symlinked directory or a special file is refused, naming it.
 */
export async function listConfigFiles(dir: string): Promise<ConfigFile[]> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (e) {
    throw new DomainError('invalid_input', `config directory ${dir} cannot be read: ${(e as Error).message}`, {
      file: dir,
      fix: 'pass --config with an existing directory of configuration files',
    });
  }
  const files: ConfigFile[] = [];
  const refuse = (path: string, what: string): never => {
    throw new DomainError('invalid_input', `${path} in the config directory ${what}`, {
      file: path,
      fix: 'copy the file into the config directory instead of linking it, or remove it',
    });
  };
  const walk = async (current: string): Promise<void> => {
    const entries = (await readdir(current, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
      } else if (entry.isFile()) {
        files.push({ relativePath: relative(root, path).split(sep).join('/'), path });
      } else if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => refuse(path, 'is a broken symbolic link'));
        if (target !== root && !target.startsWith(root + sep)) refuse(path, `is a symbolic link to ${target}, outside the directory`);
        const st = await lstat(target);
        if (!st.isFile()) refuse(path, 'is a symbolic link to something other than a regular file');
        files.push({ relativePath: relative(root, path).split(sep).join('/'), path: target });
      } else {
        refuse(path, 'is not a regular file (socket, fifo or device)');
      }
      if (files.length > MAX_SUBJECTS) refuse(current, `holds more than ${MAX_SUBJECTS} files`);
    }
  };
  await walk(root);
  return files;
}

async function readProvenance(file: string) {
  let text: string;
  try {
    const st = await stat(file);
    if (st.size > MAX_PROVENANCE_BYTES) {
      throw new DomainError('payload_too_large', `provenance ${file} is ${st.size} bytes, over ${MAX_PROVENANCE_BYTES}`, {
        file,
        fix: 'pass only the SLSA predicate, without large byproducts',
      });
    }
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new DomainError('invalid_input', `provenance ${file} cannot be read: ${(e as Error).message}`, { file, fix: 'check the --provenance path' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DomainError('invalid_input', `provenance ${file} is not JSON: ${(e as Error).message}`, {
      file,
      fix: 'pass a JSON file holding a SLSA Provenance v1 predicate',
    });
  }
  return parseProvenance(value, file);
}

export async function createRelease(input: CreateReleaseInput): Promise<CreatedRelease> {
  const privateKey = loadPrivateKey(input.privateKeyPem, input.keySource ?? 'the signing key');
  const keyId = keyIdOf(createPublicKey(privateKey));
  const subjects: CreatedSubject[] = [];
  for (const path of input.artifacts) {
    const st = await stat(path).catch(() => undefined);
    if (st && !st.isFile()) {
      throw new DomainError('invalid_input', `artifact ${path} is not a regular file`, {
        file: path,
        fix: 'pass each artifact file with --artifact; use --config DIR for a directory of configuration files',
      });
    }
    const { digest, size } = await sha256File(path);
    subjects.push({ ...artifactSubject(basename(path), digest, path), size });
  }
  for (const ref of input.images) subjects.push({ ...imageSubject(ref), size: null });
  if (input.configDir !== undefined) {
    for (const f of await listConfigFiles(input.configDir)) {
      const { digest, size } = await sha256File(f.path);
      subjects.push({ ...configSubject(f.relativePath, digest, f.path), size });
    }
  }
  const needs = parseNeeds(input.needs ?? []);
  const byproducts = input.configDir === undefined ? [] : await effectiveConfigByproducts(input.configDir, input.service);
  const provenance = withConfigExtras(
    input.provenanceFile === undefined ? undefined : await readProvenance(input.provenanceFile),
    input,
    byproducts,
    needs,
  );
  const { bytes } = buildReleaseStatement({
    service: input.service,
    version: input.version,
    subjects,
    ...(provenance ? { provenance } : {}),
  });
  const envelope = signDsse(INTOTO_PAYLOAD_TYPE, bytes, privateKey, keyId);
  const bundle = toBundle(envelope, keyId);
  subjects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { bundle, bundleJson: bundleToJson(bundle), statementBytes: bytes, releaseId: digestOf(bytes), keyId, subjects };
}
