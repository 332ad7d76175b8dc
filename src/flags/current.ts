/** The current flag set of an environment, as stored: version 0 (empty) when nothing is stored yet. */
import { DomainError } from '../domain/errors.ts';
import type { Project } from '../project/schema.ts';
import type { FlagRepo } from '../store/store.ts';
import { type FlagSet, emptyFlagSet, flagSetDigest, validateFlagSet } from './flag-set.ts';

export interface CurrentFlags {
  environment: string;
  /** 0 when no version is stored */
  version: number;
  digest: string;
  flagSet: FlagSet;
  createdBy: string | null;
  createdAt: string | null;
}

export async function currentFlags(flags: Pick<FlagRepo, 'latest'>, environment: string): Promise<CurrentFlags> {
  const v = await flags.latest(environment);
  if (!v) {
    const empty = emptyFlagSet();
    return { environment, version: 0, digest: flagSetDigest(empty), flagSet: empty, createdBy: null, createdAt: null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(v.flagSet);
  } catch {
    throw new DomainError('internal', `stored flag set ${environment} v${v.version} is not JSON`, { fix: 'restore the database from a backup' });
  }
  return { environment, version: v.version, digest: v.digest, flagSet: validateFlagSet(parsed, `stored flag set ${environment} v${v.version}`), createdBy: v.createdBy, createdAt: v.createdAt };
}

/** the environment of the project, or not_found naming the environments there are */
export function environmentOf(project: Pick<Project, 'environments'>, name: string) {
  const env = project.environments.find((e) => e.name === name);
  if (!env) {
    throw new DomainError('not_found', `environment ${name.slice(0, 64)} is not in the project`, {
      field: 'environment',
      fix: `use one of ${project.environments.map((e) => e.name).join(', ')}`,
    });
  }
  return env;
}

/** the Cedar resource of an environment's flag set */
export function flagResource(project: Pick<Project, 'environments'>, name: string) {
  const env = environmentOf(project, name);
  return { type: 'Environment' as const, id: env.name, attrs: { name: env.name, tier: env.tier } };
}
