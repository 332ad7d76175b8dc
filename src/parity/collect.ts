/**
 * Snapshots from the server's state. The release in place for a service in an environment is the
 * one of its latest Succeeded promotion there; its effective configuration comes from the release's
 * manifest subjects; secrets' metadata from the environment's SOPS files (opened with the server's
 * identity for that environment when it has one, for `created`); flag states from the flag store.
 */
import type { EngineDeps } from '../engine/deps.ts';
import { readIdentityFile, serverIdentityFile } from '../secrets/identity-file.ts';
import { secretInventory } from '../secrets/inventory.ts';
import { flagStates } from '../flags/states.ts';
import type { ReleaseRecord } from '../store/store.ts';
import { effectiveConfigOfRelease } from './config/effective-config.ts';
import type { EnvironmentSnapshot, ServiceSnapshot, SnapshotFlag, SnapshotSecret } from './snapshot.ts';

export type CollectDeps = Pick<EngineDeps, 'store' | 'project' | 'blobs' | 'clock' | 'ageIdentityDir'> & {
  /** environment-level flag states; default: the applied flag set in the store */
  flags?: (env: string) => Promise<Record<string, SnapshotFlag>>;
};

export interface CollectOptions {
  /** only this service (flags are environment-level and always collected) */
  service?: string;
  /** put this release in place of the service's current one (the candidate state of a promotion) */
  candidate?: ReleaseRecord;
  /** take the release stagegate last deployed (its deploy step ran, whatever the outcome) instead of the last Succeeded: what drift compares with */
  deployed?: boolean;
}

const DAY_MS = 86_400_000;
const inProgress = ['Deploying', 'Verifying'] as const;

/** the release of the latest Succeeded promotion of `service` in `env` */
export async function currentRelease(deps: Pick<EngineDeps, 'store'>, service: string, env: string): Promise<ReleaseRecord | undefined> {
  const [last] = await deps.store.read.promotions.list({ service, environment: env, states: ['Succeeded'], newestFirst: true, limit: 1 });
  return last ? deps.store.read.releases.get(last.releaseId) : undefined;
}

/** the release of the newest promotion of `service` in `env` whose deploy step ran (succeeded or not) */
export async function lastDeployedRelease(deps: Pick<EngineDeps, 'store'>, service: string, env: string): Promise<ReleaseRecord | undefined> {
  const recent = await deps.store.read.promotions.list({ service, environment: env, states: ['Succeeded', 'Failed', 'RolledBack', 'Aborted'], newestFirst: true, limit: 50 });
  for (const p of recent) {
    if (p.state === 'Succeeded' || (await deps.store.read.steps.get(p.id, 'deploy'))) return deps.store.read.releases.get(p.releaseId);
  }
  return undefined;
}

/** services a promotion is deploying or verifying in `env` right now (their running state is in flux) */
export async function servicesInFlux(deps: Pick<EngineDeps, 'store' | 'project'>, env: string): Promise<Set<string>> {
  const busy = await deps.store.read.promotions.list({ environment: env, states: inProgress, limit: 1000 });
  return new Set(busy.map((p) => p.service));
}

async function secretsOf(deps: CollectDeps, env: string): Promise<Record<string, Record<string, SnapshotSecret>>> {
  const now = deps.clock();
  let identities: string[] | undefined;
  if (deps.ageIdentityDir) identities = await readIdentityFile(serverIdentityFile(deps.ageIdentityDir, env)).catch(() => undefined);
  const inv = await secretInventory(deps.project.baseDir, env, { ...(identities ? { identities } : {}), now });
  const out: Record<string, Record<string, SnapshotSecret>> = {};
  for (const [service, names] of Object.entries(inv)) {
    out[service] = {};
    for (const [name, f] of Object.entries(names)) {
      const created = f.created ? Date.parse(f.created) : Number.NaN;
      out[service][name] = {
        present: true,
        keyId: f.keyId,
        ...(f.created ? { created: f.created } : {}),
        ...(Number.isFinite(created) ? { ageDays: Math.max(0, Math.floor((now.getTime() - created) / DAY_MS)) } : {}),
      };
    }
  }
  return out;
}

export async function collectSnapshot(deps: CollectDeps, env: string, opts: CollectOptions = {}): Promise<EnvironmentSnapshot> {
  const names = deps.project.services.map((s) => s.name).filter((s) => opts.service === undefined || s === opts.service);
  const [secrets, flags] = await Promise.all([secretsOf(deps, env), deps.flags ? deps.flags(env) : flagStates(deps.store, env)]);
  const services: Record<string, ServiceSnapshot> = {};
  for (const name of names) {
    const release = opts.candidate?.service === name ? opts.candidate : opts.deployed ? await lastDeployedRelease(deps, name, env) : await currentRelease(deps, name, env);
    const s: ServiceSnapshot = { secrets: secrets[name] ?? {} };
    if (release) {
      const images = release.subjects.filter((x) => x.kind === 'image').map((x) => x.name);
      s.release = { id: release.id, version: release.version, digests: Object.fromEntries(release.subjects.map((x) => [x.name, x.digest])), ...(images.length ? { images } : {}) };
      const eff = await effectiveConfigOfRelease(deps, release, env);
      if (eff) {
        s.config = eff.document;
        s.configDigest = eff.digest;
      }
    }
    if (s.release || Object.keys(s.secrets).length > 0) services[name] = s;
  }
  return { environment: env, services, flags };
}
