/**
 * What a release's signed statement says about its configuration: the effective-config digests
 * recorded as SLSA `runDetails.byproducts`, and the needs in `externalParameters.stagegate.needs`.
 * The signature is checked by the signature gate; these readers only parse the stored bundle.
 */
import { z } from 'zod';
import { parseBundle } from '../../crypto/bundle.ts';
import { parseReleaseStatement } from '../../crypto/statement.ts';
import type { ProvenancePredicate } from '../../crypto/statement.ts';
import { DomainError } from '../../domain/errors.ts';
import type { ReleaseRecord } from '../../store/store.ts';
import { type Needs, needsSchema } from './needs.ts';

export const BYPRODUCT_PREFIX = 'stagegate:effective-config/';

export function releasePredicate(release: Pick<ReleaseRecord, 'bundle' | 'service' | 'version'>): ProvenancePredicate {
  const source = `release ${release.service}@${release.version}`;
  const { envelope } = parseBundle(release.bundle, source);
  const payload = Buffer.from(envelope.payload.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return parseReleaseStatement(payload, source).predicate;
}

/** environment (or `base`) -> `sha256:hex` of the signed effective config */
export function signedConfigDigests(predicate: ProvenancePredicate): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of predicate.runDetails.byproducts ?? []) {
    const hex = b.digest?.['sha256'];
    if (b.name?.startsWith(BYPRODUCT_PREFIX) && typeof hex === 'string' && /^[a-f0-9]{64}$/.test(hex)) out.set(b.name.slice(BYPRODUCT_PREFIX.length), `sha256:${hex}`);
  }
  return out;
}

const stagegateParams = z.looseObject({ needs: needsSchema.optional() });

export function needsOfPredicate(predicate: ProvenancePredicate, source: string): Needs[] {
  const raw = predicate.buildDefinition.externalParameters['stagegate'];
  if (raw === undefined) return [];
  const r = stagegateParams.safeParse(raw);
  if (!r.success) {
    throw new DomainError('invalid_input', `${source}: buildDefinition.externalParameters.stagegate.needs is invalid: ${r.error.issues[0]?.message ?? 'invalid'}`, {
      field: 'buildDefinition.externalParameters.stagegate.needs',
      fix: 'create the release with `stagegate release create --needs service:NAME@RANGE` or `--needs platform:NAME@RANGE`',
    });
  }
  return r.data.needs ?? [];
}

/** the needs a release declares (`--needs` at release create) */
export async function releaseNeeds(release: ReleaseRecord): Promise<Needs[]> {
  return needsOfPredicate(releasePredicate(release), `release ${release.service}@${release.version}`);
}
