/**
 * What `stagegate release create` adds to the SLSA provenance predicate for layered configuration:
 * one `runDetails.byproducts` entry per effective config (`stagegate:effective-config/<env>`, the
 * sha256 of its RFC 8785 bytes) and the declared needs in `externalParameters.stagegate.needs`.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RELEASE_BUILD_TYPE, STAGEGATE_BUILDER_ID } from '../../crypto/statement.ts';
import type { ProvenancePredicate } from '../../crypto/statement.ts';
import { DomainError } from '../../domain/errors.ts';
import { effectiveConfigFromSource, layeredEnvs } from './effective-config.ts';
import type { Needs } from './needs.ts';
import { BYPRODUCT_PREFIX } from './release-params.ts';
import { BASE_FILE, dirSource } from './sources.ts';

export interface ConfigByproduct {
  [key: string]: unknown;
  name: string;
  digest: { sha256: string };
}

/** one byproduct for `base` and for every environment with an overlay; [] when the folder has no base.yaml */
export async function effectiveConfigByproducts(configDir: string, service: string): Promise<ConfigByproduct[]> {
  if (!(await stat(join(configDir, BASE_FILE)).catch(() => undefined))?.isFile()) return [];
  const source = await dirSource(configDir);
  const out: ConfigByproduct[] = [];
  for (const env of await layeredEnvs(source)) {
    const eff = await effectiveConfigFromSource(source, service, env);
    out.push({ name: `${BYPRODUCT_PREFIX}${env}`, digest: { sha256: eff.digest.slice('sha256:'.length) } });
  }
  return out;
}

/** the provenance predicate with the byproducts and needs added; undefined when there is nothing to add or carry */
export function withConfigExtras(
  provenance: ProvenancePredicate | undefined,
  release: { service: string; version: string },
  byproducts: ConfigByproduct[],
  needs: Needs[],
): ProvenancePredicate | undefined {
  if (byproducts.length === 0 && needs.length === 0) return provenance;
  const p: ProvenancePredicate = provenance ?? {
    buildDefinition: { buildType: RELEASE_BUILD_TYPE, externalParameters: { service: release.service, version: release.version } },
    runDetails: { builder: { id: STAGEGATE_BUILDER_ID } },
  };
  const existing = p.runDetails.byproducts ?? [];
  const clash = existing.find((b) => b.name?.startsWith(BYPRODUCT_PREFIX));
  if (clash && byproducts.length > 0) {
    throw new DomainError('invalid_input', `the provenance already has a byproduct named ${clash.name}`, {
      field: 'runDetails.byproducts',
      fix: `remove the ${BYPRODUCT_PREFIX}* byproducts from --provenance; stagegate computes them from --config`,
    });
  }
  const ext = p.buildDefinition.externalParameters;
  if (needs.length > 0 && ext['stagegate'] !== undefined) {
    throw new DomainError('invalid_input', 'the provenance already sets buildDefinition.externalParameters.stagegate', {
      field: 'buildDefinition.externalParameters.stagegate',
      fix: 'declare needs with --needs only, and drop the stagegate parameter from --provenance',
    });
  }
  return {
    ...p,
    buildDefinition: { ...p.buildDefinition, externalParameters: needs.length > 0 ? { ...ext, stagegate: { needs } } : ext },
    runDetails: { ...p.runDetails, ...(byproducts.length > 0 || p.runDetails.byproducts ? { byproducts: [...existing, ...byproducts] } : {}) },
  };
}
