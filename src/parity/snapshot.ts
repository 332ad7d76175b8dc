/**
 * What one environment is, as parity and drift compare it: per service the release in place (with
 * its signed subject digests), the effective configuration document, and its secrets' metadata (never
 * values); per environment the feature-flag states. Plain data, so reports are pure functions of it.
 */

export interface SnapshotRelease {
  /** release id: `sha256:` of the signed statement */
  id: string;
  version: string;
  /** subject name -> `sha256:` digest, as signed */
  digests: Record<string, string>;
  /** subject names that are container images (pinned by digest, not files a target can hash) */
  images?: string[];
}

/** a secret's metadata; values never appear in a snapshot */
export interface SnapshotSecret {
  present: boolean;
  keyId?: string;
  /** ISO date-time the secret was created */
  created?: string;
  /** whole days since `created`, at the snapshot's time */
  ageDays?: number;
}

export interface ServiceSnapshot {
  release?: SnapshotRelease;
  /** the effective configuration document (sections config, runtime, routing, network, ...) */
  config?: Record<string, unknown>;
  /** its RFC 8785 digest */
  configDigest?: string;
  secrets: Record<string, SnapshotSecret>;
}

export interface SnapshotFlag {
  state: string;
  /** null when the flag has none */
  defaultVariant: string | null;
  variantsDigest: string;
  /** null when the flag has no targeting */
  targetingDigest: string | null;
}

export interface EnvironmentSnapshot {
  environment: string;
  services: Record<string, ServiceSnapshot>;
  flags: Record<string, SnapshotFlag>;
}

/**
 * document sections NOT compared leaf by leaf: `secrets` holds references, compared through the
 * secrets' metadata instead. Every other top-level section (config, runtime, routing, network,
 * dependencies, flags, observability, ...) is compared.
 */
export const uncomparedSections: readonly string[] = ['secrets'];

/** the pointer prefix of environment-level flags (`_` cannot start a service name, so it never collides) */
export const FLAGS_ROOT = '_flags';

/** keep only one service (and the environment-level flags) */
export function restrictSnapshot(s: EnvironmentSnapshot, service: string | undefined): EnvironmentSnapshot {
  if (service === undefined) return s;
  const one = s.services[service];
  return { environment: s.environment, services: one ? { [service]: one } : {}, flags: s.flags };
}
