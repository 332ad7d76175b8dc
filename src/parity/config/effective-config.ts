/**
 * The effective configuration of a service in an environment: base.yaml, then `<env>.yaml` (RFC 7396
 * merge patch), then `<env>.patch.yaml` (RFC 6902); canonicalized with RFC 8785 and hashed.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import canonicalize from 'canonicalize';
import { parse } from 'yaml';
import { sha256Hex } from '../../crypto/digest.ts';
import { DomainError } from '../../domain/errors.ts';
import { NAME_RE } from '../../domain/ids.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { ReleaseRecord } from '../../store/store.ts';
import { layerManifest } from './layer.ts';
import { manifestSections } from './manifest-schema.ts';
import { isPlainObject } from './pointer.ts';
import { parseManifestYaml } from './manifest-yaml.ts';
import { BASE_FILE, dirSource, type ManifestSource, overlayEnvs, overlayFile, patchFile, releaseSource } from './sources.ts';

export interface EffectiveConfig {
  service: string;
  environment: string;
  document: Record<string, unknown>;
  /** leaf JSON Pointer -> `base`, `overlay:<file>` or `patch:<file>#<op index>` */
  origins: Record<string, string>;
  /** sha256:hex of the RFC 8785 bytes of `document` */
  digest: string;
}

/** the environment name `base` means base.yaml alone */
export const BASE_ENV = 'base';

/** RFC 8785 bytes of a document */
export function canonicalBytes(doc: unknown): string {
  const text = canonicalize(doc);
  if (text === undefined) throw new DomainError('internal', 'the configuration document could not be canonicalized');
  return text;
}

export const configDigest = (doc: unknown): string => `sha256:${sha256Hex(canonicalBytes(doc))}`;

export async function effectiveConfigFromSource(source: ManifestSource, service: string, env: string): Promise<EffectiveConfig> {
  if (env !== BASE_ENV && !NAME_RE.test(env)) {
    throw new DomainError('invalid_input', `environment "${env.slice(0, 64)}" is not a valid name`, { field: 'env', fix: 'use an environment name from stagegate.yaml, or base' });
  }
  if (!source.files.includes(BASE_FILE)) {
    throw new DomainError('not_found', `${source.label} has no ${BASE_FILE}, so ${service} has no layered configuration there`, {
      file: `${source.label}/${BASE_FILE}`,
      fix: `create ${BASE_FILE} in the service's manifest folder; see docs/configuration.md`,
    });
  }
  const load = async (name: string) => parseManifestYaml(await source.read(name), `${source.label}/${name}`);
  const has = (name: string) => env !== BASE_ENV && source.files.includes(name);
  const base = await load(BASE_FILE);
  const overlay = has(overlayFile(env)) ? await load(overlayFile(env)) : undefined;
  const patch = has(patchFile(env)) ? await load(patchFile(env)) : undefined;
  const { document, origins } = layerManifest(
    { base, ...(overlay ? { overlay } : {}), ...(patch ? { patch } : {}) },
    { overlay: overlayFile(env), patch: patchFile(env) },
  );
  return { service, environment: env, document, origins, digest: configDigest(document) };
}

/** The service's folder: `<dir>/<service>`, or `dir` itself when it is that folder. */
export async function serviceManifestDir(dir: string, service: string): Promise<string> {
  const nested = join(dir, service);
  if (await stat(join(nested, BASE_FILE)).catch(() => undefined)) return nested;
  if (basename(dir) === service && (await stat(join(dir, BASE_FILE)).catch(() => undefined))) return dir;
  throw new DomainError('not_found', `no manifest for service ${service}: ${join(nested, BASE_FILE)} does not exist`, {
    file: join(nested, BASE_FILE),
    fix: `create ${service}/${BASE_FILE} in the manifest folder (see docs/configuration.md), or check the service name`,
  });
}

/** `dir` is the manifest folder (holding one folder per service) */
export async function effectiveConfigFromDir(dir: string, service: string, env: string): Promise<EffectiveConfig> {
  const serviceDir = await serviceManifestDir(dir, service);
  return effectiveConfigFromSource(await dirSource(serviceDir), service, env);
}

/**
 * A config folder holds a layered manifest when its base.yaml is a YAML map with at least one known
 * section (config, runtime, ...). A plain `base.yaml` of other keys (`port: 8080`) is an ordinary
 * config file and is left alone; one known section makes the whole file checked as a manifest.
 */
export async function hasLayeredManifest(source: ManifestSource): Promise<boolean> {
  if (!source.files.includes(BASE_FILE)) return false;
  let data: unknown;
  try {
    data = parse(await source.read(BASE_FILE), { maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof DomainError) throw e;
    return true; // broken YAML: treat it as a manifest so the error is reported
  }
  return isPlainObject(data) && Object.keys(data).some((k) => (manifestSections as readonly string[]).includes(k));
}

/** undefined when the release has no `config/base.yaml` subject holding a manifest */
export async function effectiveConfigOfRelease(deps: { blobs: BlobStore }, release: ReleaseRecord, env: string): Promise<EffectiveConfig | undefined> {
  const source = releaseSource(release, (s) => deps.blobs.pathOf(s.digest));
  if (!(await hasLayeredManifest(source))) return undefined;
  return effectiveConfigFromSource(source, release.service, env);
}

/** `base` and every environment with an overlay or patch file; [] when the source holds no manifest */
export const layeredEnvs = async (source: ManifestSource): Promise<string[]> => ((await hasLayeredManifest(source)) ? [BASE_ENV, ...overlayEnvs(source.files)] : []);
