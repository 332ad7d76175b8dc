/**
 * The `config` and `dependencies` gates. Both read the files the checksum gate verified and placed
 * in the promotion's artifacts folder, so they must run after it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import type { GateResult } from '../../domain/promotion.ts';
import type { EngineDeps } from '../../engine/deps.ts';
import type { PromotionRecord, ReleaseRecord } from '../../store/store.ts';
import { readArtifactTexts } from './artifact-texts.ts';
import { BASE_ENV, effectiveConfigFromSource, hasLayeredManifest } from './effective-config.ts';
import { findHardcodedValues, formatHardcoded } from './hardcoded.ts';
import { formatNeed, type Needs } from './needs.ts';
import { BYPRODUCT_PREFIX, needsOfPredicate, releasePredicate, signedConfigDigests } from './release-params.ts';
import { BASE_FILE, overlayFile, patchFile, releaseSource } from './sources.ts';

type GateDeps = Pick<EngineDeps, 'store' | 'project'>;

/** the file a target reads the effective configuration from, in its artifacts folder */
export const EFFECTIVE_CONFIG_FILE = 'effective-config.json';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function hardcodedWarning(release: ReleaseRecord, artifactsDir: string, doc: Record<string, unknown>): Promise<string> {
  const files = release.subjects.filter((s) => s.kind === 'artifact').map((s) => ({ name: s.name, path: path.join(artifactsDir, s.name) }));
  const found = findHardcodedValues(await readArtifactTexts(files), doc);
  if (found.length === 0) return '';
  const shown = found.slice(0, 3).map(formatHardcoded).join('; ');
  return `\nwarning: ${found.length} config value(s) hard-coded in the artifacts (${shown}${found.length > 3 ? '; ...' : ''}) — read them from ${EFFECTIVE_CONFIG_FILE} or the environment instead; list them all with \`stagegate manifest audit --artifacts FILE\``;
}

export async function configGate(release: ReleaseRecord, envName: string, artifactsDir: string): Promise<GateResult> {
  const gate = 'config';
  const source = releaseSource(release, (s) => path.join(artifactsDir, s.name));
  let layered: boolean;
  try {
    layered = await hasLayeredManifest(source);
  } catch (e) {
    return { gate, passed: false, message: `cannot read config/${BASE_FILE}: ${errorText(e)} — see the checksums gate` };
  }
  if (!layered) return { gate, passed: true, message: `${release.service}@${release.version} carries no layered config (no config/${BASE_FILE} manifest); nothing to compute` };
  if (release.subjects.some((s) => s.name === EFFECTIVE_CONFIG_FILE)) {
    return { gate, passed: false, message: `the release has an artifact named ${EFFECTIVE_CONFIG_FILE}, the file the config gate writes for the target — rename the artifact and create the release again` };
  }
  let eff: Awaited<ReturnType<typeof effectiveConfigFromSource>>;
  try {
    eff = await effectiveConfigFromSource(source, release.service, envName);
  } catch (e) {
    return { gate, passed: false, message: `cannot compute the effective config of ${release.service} for ${envName}: ${errorText(e)} — if a file is missing or altered see the checksums gate; otherwise fix the manifest and create a new release` };
  }
  const hasOverlay = source.files.includes(overlayFile(envName)) || source.files.includes(patchFile(envName));
  let signed: Map<string, string>;
  try {
    signed = signedConfigDigests(releasePredicate(release));
  } catch (e) {
    return { gate, passed: false, subject: eff.digest, message: `cannot read the release statement: ${errorText(e)}` };
  }
  const key = hasOverlay ? envName : BASE_ENV;
  const expected = signed.get(key);
  if (expected !== undefined && expected !== eff.digest) {
    return {
      gate,
      passed: false,
      subject: eff.digest,
      message: `effective config of ${release.service} for ${envName} is ${eff.digest}, but the release signed ${expected} as ${BYPRODUCT_PREFIX}${key}; the config files or the layering differ from what was signed — create the release again with this stagegate version and push it`,
    };
  }
  if (expected === undefined && signed.size > 0) {
    return { gate, passed: false, subject: eff.digest, message: `the release signs effective configs for [${[...signed.keys()].join(', ')}] but not for ${key}; create the release again from the manifest folder` };
  }
  await writeFile(path.join(artifactsDir, EFFECTIVE_CONFIG_FILE), `${JSON.stringify(eff, null, 2)}\n`);
  const layers = [BASE_FILE, ...[overlayFile(envName), patchFile(envName)].filter((f) => source.files.includes(f))].join(' + ');
  const check = expected ? `equal to the signed ${BYPRODUCT_PREFIX}${key}` : 'no signed digest to compare (the release was created without it)';
  const warning = await hardcodedWarning(release, artifactsDir, eff.document).catch(() => '');
  return { gate, passed: true, subject: eff.digest, message: `effective config ${eff.digest} for ${envName} (${layers}), ${check}; written to ${EFFECTIVE_CONFIG_FILE}${warning}` };
}

/** version of `service` Succeeded last in `env`, if any */
async function runningVersion(deps: GateDeps, service: string, env: string): Promise<string | undefined> {
  const [last] = await deps.store.read.promotions.list({ service, environment: env, states: ['Succeeded'], newestFirst: true, limit: 1 });
  return last?.version;
}

async function checkNeed(deps: GateDeps, need: Needs, envName: string): Promise<GateResult> {
  const gate = 'dependencies';
  const subject = formatNeed(need);
  const fail = (message: string): GateResult => ({ gate, passed: false, subject, message });
  if (need.kind === 'service') {
    if (!deps.project.services.some((s) => s.name === need.name)) return fail(`needs service ${need.name}@${need.range}, but ${need.name} is not a service of this project — add it to stagegate.yaml or drop the need`);
    const version = await runningVersion(deps, need.name, envName);
    if (version === undefined) return fail(`needs ${need.name}@${need.range}, but no release of ${need.name} has Succeeded in ${envName} — promote a ${need.name} release in ${need.range} to ${envName} first`);
    if (!semver.valid(version)) return fail(`needs ${need.name}@${need.range}, but ${envName} runs ${need.name}@${version}, which is not a semver version — version ${need.name} with semver, or drop the need`);
    if (!semver.satisfies(version, need.range)) return fail(`needs ${need.name}@${need.range}, but ${envName} runs ${need.name}@${version} — promote a ${need.name} release in ${need.range} to ${envName} first, or relax the range`);
    return { gate, passed: true, subject, message: `${envName} runs ${need.name}@${version}, in ${need.range}` };
  }
  const env = deps.project.environments.find((e) => e.name === envName);
  const provided = env?.platform[need.name];
  if (provided === undefined) return fail(`needs platform ${need.name}@${need.range}, but ${envName} declares no ${need.name} version — add \`platform: {${need.name}: VERSION}\` to environment ${envName} in stagegate.yaml`);
  const version = semver.valid(provided) ?? semver.coerce(provided)?.version;
  if (!version || !semver.satisfies(version, need.range)) return fail(`needs platform ${need.name}@${need.range}, but ${envName} provides ${need.name} ${provided} — upgrade ${need.name} in ${envName} (and its platform entry), or build the release for ${provided}`);
  return { gate, passed: true, subject, message: `${envName} provides ${need.name} ${provided}, in ${need.range}` };
}

export async function dependenciesGate(deps: GateDeps, promotion: PromotionRecord, release: ReleaseRecord): Promise<GateResult[]> {
  let needs: Needs[];
  try {
    needs = needsOfPredicate(releasePredicate(release), `release ${release.service}@${release.version}`);
  } catch (e) {
    return [{ gate: 'dependencies', passed: false, message: `cannot read the release's needs: ${errorText(e)}` }];
  }
  if (needs.length === 0) return [{ gate: 'dependencies', passed: true, message: `${release.service}@${release.version} declares no needs` }];
  return Promise.all(needs.map((n) => checkNeed(deps, n, promotion.environment)));
}
