/**
 * Where a project keeps its secrets: `secrets/<env>/<service>.sops.yaml` under the project folder,
 * one SOPS file per environment and service.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';

export const SECRETS_DIR = 'secrets';
export const SECRETS_SUFFIX = '.sops.yaml';

export interface SecretsFileRef {
  env: string;
  service: string;
  /** absolute path */
  file: string;
  /** path relative to the project folder, forward slashes: `secrets/prod/checkout.sops.yaml` */
  rel: string;
}

function checkName(value: string, what: 'environment' | 'service'): string {
  if (!NAME_RE.test(value)) {
    throw new DomainError('invalid_input', `"${value.slice(0, 70)}" is not a valid ${what} name`, {
      field: what,
      fix: 'use lowercase letters, digits and dashes, starting with a letter (as in stagegate.yaml)',
    });
  }
  return value;
}

export function secretsFileRef(projectDir: string, env: string, service: string): SecretsFileRef {
  checkName(env, 'environment');
  checkName(service, 'service');
  const rel = `${SECRETS_DIR}/${env}/${service}${SECRETS_SUFFIX}`;
  return { env, service, rel, file: path.join(path.resolve(projectDir), SECRETS_DIR, env, `${service}${SECRETS_SUFFIX}`) };
}

/** the env and service of a path inside `<projectDir>/secrets/`, or undefined when it is not one */
export function refOfPath(projectDir: string, file: string): SecretsFileRef | undefined {
  const rel = path.relative(path.resolve(projectDir), path.resolve(file)).split(path.sep);
  if (rel.length !== 3 || rel[0] !== SECRETS_DIR) return undefined;
  const [, env = '', name = ''] = rel;
  const service = name.endsWith(SECRETS_SUFFIX) ? name.slice(0, -SECRETS_SUFFIX.length) : '';
  if (!NAME_RE.test(env) || !NAME_RE.test(service)) return undefined;
  return secretsFileRef(projectDir, env, service);
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** every secrets file of one environment (or of all), sorted by env then service */
export async function listSecretsFiles(projectDir: string, env?: string): Promise<SecretsFileRef[]> {
  const root = path.join(path.resolve(projectDir), SECRETS_DIR);
  const envs = env !== undefined ? [checkName(env, 'environment')] : (await names(root)).filter((e) => NAME_RE.test(e));
  const out: SecretsFileRef[] = [];
  for (const e of envs) {
    for (const n of await names(path.join(root, e))) {
      if (!n.endsWith(SECRETS_SUFFIX)) continue;
      const service = n.slice(0, -SECRETS_SUFFIX.length);
      if (NAME_RE.test(service)) out.push(secretsFileRef(projectDir, e, service));
    }
  }
  return out;
}
