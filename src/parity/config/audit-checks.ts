/**
 * The checks of `stagegate manifest audit` on one service folder: overrides equal to the base,
 * overrides of keys the base does not have, overlays for unknown environments, dependencies on
 * unknown services, secret references missing from the environment's SOPS file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isDomainError } from '../../domain/errors.ts';
import type { Project } from '../../project/schema.ts';
import { effectiveConfigFromSource } from './effective-config.ts';
import { parseManifestYaml } from './manifest-yaml.ts';
import { isPlainObject, pointerOf, valueAt } from './pointer.ts';
import { BASE_FILE, type ManifestSource, overlayEnvs, overlayFile } from './sources.ts';

export interface ManifestFinding {
  kind: string;
  service?: string;
  environment?: string;
  /** file (relative to the project folder when possible), with line and column when known */
  file?: string;
  line?: number;
  column?: number;
  pointer?: string;
  message: string;
  fix: string;
}

export type AuditProject = Pick<Project, 'baseDir' | 'manifestDir' | 'services' | 'environments'>;

/** every pointer a merge patch sets (value) or removes (null) */
function overlayEntries(patch: unknown, prefix = ''): Array<{ pointer: string; value: unknown }> {
  if (!isPlainObject(patch)) return [{ pointer: prefix, value: patch }];
  return Object.entries(patch).flatMap(([k, v]) => overlayEntries(v, `${prefix}${pointerOf([k])}`));
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function checkOverlays(source: ManifestSource, service: string, project: AuditProject, rel: (f: string) => string): Promise<ManifestFinding[]> {
  const out: ManifestFinding[] = [];
  const envNames = new Set(project.environments.map((e) => e.name));
  const base = parseManifestYaml(await source.read(BASE_FILE), rel(BASE_FILE));
  for (const env of overlayEnvs(source.files)) {
    if (!envNames.has(env)) {
      out.push({ kind: 'unknown-environment', service, environment: env, file: rel(source.files.includes(overlayFile(env)) ? overlayFile(env) : `${env}.patch.yaml`), message: `overlay for environment ${env}, which is not in the project (known: ${[...envNames].join(', ')})`, fix: 'delete the file, or rename it after an environment of stagegate.yaml' });
    }
    if (!source.files.includes(overlayFile(env))) continue;
    const y = parseManifestYaml(await source.read(overlayFile(env)), rel(overlayFile(env)));
    for (const { pointer, value } of overlayEntries(y.data ?? {})) {
      const baseValue = valueAt(base.data, pointer);
      const at = { file: y.file, ...(({ line, column }) => ({ line, column }))(y.locate(pointer)), pointer, service, environment: env };
      if (baseValue === undefined) {
        if (pointer.split('/').length > 2) out.push({ kind: 'override-unknown-key', ...at, message: `${env} ${value === null ? 'removes' : 'overrides'} ${pointer}, which ${BASE_FILE} does not have`, fix: `add ${pointer} to ${BASE_FILE} with the value most environments use, or delete it from ${overlayFile(env)}` });
      } else if (value !== null && sameJson(value, baseValue)) {
        out.push({ kind: 'override-equals-base', ...at, message: `${env} sets ${pointer} to ${JSON.stringify(value).slice(0, 80)}, the same value as ${BASE_FILE}`, fix: `delete ${pointer} from ${overlayFile(env)}` });
      }
    }
  }
  return out;
}

/** `db_password` or nested `db.password` (key names are plaintext in SOPS files) */
function hasKey(doc: Record<string, unknown>, ref: string): boolean {
  if (ref === 'sops' || ref.startsWith('sops.') || ref.startsWith('stagegate_meta')) return false;
  if (Object.hasOwn(doc, ref)) return true;
  let cur: unknown = doc;
  for (const seg of ref.split('.')) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, seg)) return false;
    cur = cur[seg];
  }
  return true;
}

/** the document of a SOPS YAML file, read without decrypting (undefined when the file is missing) */
async function sopsDoc(file: string): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  const doc: unknown = parseYaml(text, { maxAliasCount: 100 });
  return isPlainObject(doc) ? doc : {};
}

function invalidFinding(e: unknown, service: string, env: string): ManifestFinding {
  if (!isDomainError(e)) throw e;
  const d = e.details;
  return {
    kind: 'invalid-manifest',
    service,
    environment: env,
    ...(d.file ? { file: String(d.file) } : {}),
    ...(d.line ? { line: d.line } : {}),
    ...(d.column ? { column: d.column } : {}),
    message: e.message,
    fix: d.fix ?? 'fix the manifest file',
  };
}

export async function checkReferences(source: ManifestSource, service: string, project: AuditProject, rel: (f: string) => string): Promise<ManifestFinding[]> {
  const out: ManifestFinding[] = [];
  const services = new Set(project.services.map((s) => s.name));
  /** one finding per unknown dependency and file, naming every environment it reaches */
  const unknownDeps = new Map<string, { pointer: string; file: string; name: string; envs: string[] }>();
  for (const env of project.environments) {
    let eff: Awaited<ReturnType<typeof effectiveConfigFromSource>>;
    try {
      eff = await effectiveConfigFromSource(source, service, env.name);
    } catch (e) {
      const f = invalidFinding(e, service, env.name);
      if (!out.some((o) => o.kind === f.kind && o.message === f.message)) out.push(f);
      continue;
    }
    const origin = (pointer: string) => {
      const o = eff.origins[pointer] ?? 'base';
      return o === 'base' ? rel(BASE_FILE) : rel(o.replace(/^(overlay|patch):/, '').replace(/#\d+$/, ''));
    };
    const deps = (eff.document['dependencies'] ?? {}) as { services?: Record<string, string> };
    for (const name of Object.keys(deps.services ?? {})) {
      if (services.has(name)) continue;
      const pointer = `/dependencies/services/${name}`;
      const file = origin(pointer);
      const key = `${file}#${pointer}`;
      const entry = unknownDeps.get(key) ?? { pointer, file, name, envs: [] };
      entry.envs.push(env.name);
      unknownDeps.set(key, entry);
    }
    const refs = (eff.document['secrets'] ?? {}) as Record<string, string>;
    if (Object.keys(refs).length === 0) continue;
    const sopsRel = `secrets/${env.name}/${service}.sops.yaml`;
    let keys: Record<string, unknown> | undefined;
    try {
      keys = await sopsDoc(path.join(project.baseDir, sopsRel));
    } catch (e) {
      out.push({ kind: 'invalid-secrets-file', service, environment: env.name, file: sopsRel, message: `${sopsRel} cannot be read as YAML: ${(e as Error).message.split('\n')[0]}`, fix: 'restore the SOPS file from version control' });
      continue;
    }
    for (const [name, ref] of Object.entries(refs)) {
      if (keys && hasKey(keys, ref)) continue;
      const pointer = `/secrets/${name}`;
      out.push({
        kind: 'missing-secret',
        service,
        environment: env.name,
        file: origin(pointer),
        pointer,
        message: keys ? `secret ${name} refers to key ${ref}, which ${sopsRel} does not have` : `secret ${name} refers to key ${ref}, but ${sopsRel} does not exist`,
        fix: `add it: stagegate secrets set ${env.name} ${service} ${ref} --value-stdin (or correct the reference)`,
      });
    }
  }
  for (const d of unknownDeps.values()) {
    out.push({ kind: 'unknown-service-dependency', service, environment: d.envs.join(','), file: d.file, pointer: d.pointer, message: `${service} depends on service ${d.name} (in ${d.envs.join(', ')}), which is not in the project`, fix: `remove ${d.pointer}, or add ${d.name} to services in stagegate.yaml` });
  }
  return out;
}
