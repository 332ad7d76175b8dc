/** The public API of layered configuration, for the parity, drift and secrets modules. */
export { type EffectiveConfig, BASE_ENV, configDigest, effectiveConfigFromDir, effectiveConfigFromSource, effectiveConfigOfRelease, hasLayeredManifest } from './effective-config.ts';
export { type Needs, type Need, formatNeed, parseNeeds } from './needs.ts';
export { releaseNeeds, releasePredicate, signedConfigDigests } from './release-params.ts';
export { type ConfigChange, diffConfigs } from './config-diff.ts';
export { type ManifestFinding, type ManifestAuditReport, auditManifest } from './audit.ts';
export { type HardcodedFinding, findHardcodedValues } from './hardcoded.ts';
export { manifestSections, type ManifestDocument } from './manifest-schema.ts';
export { EFFECTIVE_CONFIG_FILE } from './gates.ts';
export { leaves, pointerOf, segmentsOf, valueAt } from './pointer.ts';
