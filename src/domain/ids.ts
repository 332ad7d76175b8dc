import { DomainError } from './errors.ts';

/** Names of services and environments: DNS-label-like, bounded. */
export const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;
/** Versions: semver-ish or any tag-like string, bounded, no path characters. */
export const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const SHA256_HEX_RE = /^[a-f0-9]{64}$/;
/** A digest as stagegate writes it: `sha256:` + 64 lowercase hex. */
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** An OCI image reference pinned by digest: repo[:tag]@sha256:hex */
export const IMAGE_REF_RE =
  /^(?<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?@sha256:(?<hex>[a-f0-9]{64})$/;

export type Digest = `sha256:${string}`;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export interface ServiceVersion {
  service: string;
  version: string;
}

/** Parse `service@version`, naming what is wrong. */
export function parseServiceVersion(input: string): ServiceVersion {
  const at = input.indexOf('@');
  const service = at < 0 ? input : input.slice(0, at);
  const version = at < 0 ? '' : input.slice(at + 1);
  if (!NAME_RE.test(service) || !VERSION_RE.test(version)) {
    throw new DomainError('invalid_input', `"${input.slice(0, 200)}" is not SERVICE@VERSION`, {
      fix: 'write it as service@version, e.g. checkout@1.4.2 (service: lowercase letters, digits, dashes)',
    });
  }
  return { service, version };
}

export interface ImageRef {
  repository: string;
  tag?: string;
  digest: Digest;
}

/** Parse an image reference that must be pinned by digest; a tag alone is refused with the fix. */
export function parseImageRef(input: string): ImageRef {
  const m = IMAGE_REF_RE.exec(input);
  if (!m?.groups) {
    const tagOnly = !input.includes('@');
    throw new DomainError(
      'invalid_input',
      tagOnly
        ? `image "${input.slice(0, 200)}" is not pinned by digest (a tag can be moved)`
        : `image "${input.slice(0, 200)}" is not a valid REPOSITORY@sha256:DIGEST reference`,
      {
        field: 'image',
        fix: 'pin the image by digest: REPOSITORY@sha256:<64 hex>; find it with `docker buildx imagetools inspect IMAGE` or `crane digest IMAGE`',
      },
    );
  }
  const { repo, tag, hex } = m.groups as { repo: string; tag?: string; hex: string };
  return { repository: repo, ...(tag ? { tag } : {}), digest: `sha256:${hex}` };
}
