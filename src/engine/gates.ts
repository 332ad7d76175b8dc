/**
 * The gates of a promotion. Every gate runs; all failures are reported together, each naming what
 * is wrong and what to do. The checksum gate hashes each artifact as placed in the promotion's folder,
 * so what the target deploys is exactly the bytes that were checked.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../crypto/digest.ts';
import type { GateResult } from '../domain/promotion.ts';
import type { PromotionRecord, ReleaseRecord } from '../store/store.ts';
import type { EngineDeps } from './deps.ts';
import { verifyRelease } from './release-verify.ts';
import { keyNameOf, trustedKeys } from './trusted-keys.ts';
import { formatDuration } from './duration.ts';
import { driftGate, parityGate } from '../parity/gates.ts';
import { secretScanGate } from '../secrets/scan/gate.ts';
import { secretsGate } from '../secrets/gate.ts';
import { configGate, dependenciesGate } from '../parity/config/gates.ts';

type GateDeps = Pick<EngineDeps, 'store' | 'project' | 'blobs' | 'clock' | 'ageIdentityDir' | 'targets'>;

export async function signatureGate(deps: GateDeps, release: ReleaseRecord, envName: string): Promise<GateResult> {
  const env = deps.project.environments.find((e) => e.name === envName)!;
  const keys = trustedKeys(deps.project, env.trustedKeys);
  const v = await verifyRelease({ bundleJson: release.bundle, trustedKeys: keys });
  if (!v.signature.ok) {
    return {
      gate: 'signature',
      passed: false,
      subject: release.id,
      message: `signature not valid for ${envName}: ${v.signature.reason}; ${envName} trusts keys [${env.trustedKeys.join(', ')}] — sign the release with one of them, or add the signer's key to trustedKeys of ${envName}`,
    };
  }
  if (v.releaseId !== release.id) {
    return { gate: 'signature', passed: false, subject: release.id, message: `stored bundle hashes to ${v.releaseId}, not ${release.id}: the stored release was altered; push it again` };
  }
  return {
    gate: 'signature',
    passed: true,
    subject: release.id,
    message: `signed by key ${keyNameOf(deps.project, v.signature.keyId ?? '') ?? v.signature.keyId} (${v.signature.keyId}), trusted for ${envName}`,
  };
}

/** safe relative path inside the artifacts folder for a subject name (names were validated at push) */
function localPath(root: string, name: string): string | undefined {
  const p = path.resolve(root, name);
  return p.startsWith(root + path.sep) ? p : undefined;
}

/**
 * Put a blob into the promotion's folder: a hard link (no copy of the bytes) or, across file
 * systems, a copy. The gate then hashes the file the target will read, so a blob renamed or
 * replaced in the store after the check cannot reach the deploy.
 */
async function materialize(blob: string, dest: string): Promise<void> {
  try {
    await link(blob, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV' && (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    await copyFile(blob, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  }
}

export async function checksumGate(deps: GateDeps, release: ReleaseRecord, artifactsDir: string): Promise<GateResult[]> {
  await rm(artifactsDir, { recursive: true, force: true });
  await mkdir(artifactsDir, { recursive: true });
  const results: GateResult[] = [];
  for (const s of release.subjects) {
    if (s.kind === 'image') continue;
    const dest = localPath(artifactsDir, s.name);
    if (!dest) {
      results.push({ gate: 'checksums', passed: false, subject: s.name, message: `subject name "${s.name}" is not a safe file name` });
      continue;
    }
    if (!(await deps.blobs.has(s.digest))) {
      results.push({
        gate: 'checksums',
        passed: false,
        subject: s.name,
        message: `${s.kind} ${s.name} (${s.digest}) was never uploaded; push it: stagegate release push BUNDLE --artifact ${s.name}`,
      });
      continue;
    }
    await mkdir(path.dirname(dest), { recursive: true });
    await materialize(deps.blobs.pathOf(s.digest), dest);
    const { digest: actual } = await sha256File(dest);
    results.push(
      actual === s.digest
        ? { gate: 'checksums', passed: true, subject: s.name, message: `${s.name} matches its signed digest ${s.digest}` }
        : {
            gate: 'checksums',
            passed: false,
            subject: s.name,
            message: `${s.kind} ${s.name}: stored bytes hash to ${actual} but the release signed ${s.digest}; the stored copy was altered or swapped — push the artifact again from a trusted build, and investigate who changed it`,
          },
    );
  }
  const images = release.subjects.filter((s) => s.kind === 'image');
  if (images.length > 0) {
    results.push({ gate: 'checksums', passed: true, message: `${images.length} image(s) pinned by digest: ${images.map((i) => `${i.name}@${i.digest}`).join(', ')}` });
  }
  if (results.length === 0) results.push({ gate: 'checksums', passed: true, message: 'release has no artifact files to check' });
  return results;
}

/** the release succeeded in every required environment, soaked there, and did not then fail there */
export async function requiresGate(deps: GateDeps, promotion: PromotionRecord, skipSoakBy?: readonly string[]): Promise<GateResult[]> {
  const env = deps.project.environments.find((e) => e.name === promotion.environment)!;
  const results: GateResult[] = [];
  const now = deps.clock().getTime();
  for (const req of env.requires) {
    const [last] = await deps.store.read.promotions.list({
      service: promotion.service,
      environment: req,
      releaseId: promotion.releaseId,
      states: ['Succeeded', 'Failed', 'RolledBack'],
      newestFirst: true,
      limit: 1,
    });
    const name = `${promotion.service}@${promotion.version}`;
    if (!last) {
      results.push({ gate: 'requires', passed: false, subject: req, message: `${name} has not succeeded in ${req}, which ${env.name} requires; promote it there first: stagegate promote ${name} --to ${req}` });
      continue;
    }
    if (last.state !== 'Succeeded') {
      const verify = await deps.store.read.steps.get(last.id, 'verify');
      const why = verify?.status === 'failed' ? 'failed verification' : `ended ${last.state}`;
      results.push({ gate: 'requires', passed: false, subject: req, message: `${name} ${why} in ${req} (promotion ${last.id}: ${last.message ?? ''}); fix it and promote it to ${req} again, or build a new release` });
      continue;
    }
    const soaked = now - Date.parse(last.succeededAt ?? last.stateChangedAt);
    if (soaked < env.minSoakMs && skipSoakBy?.length) {
      results.push({ gate: 'soak', passed: true, subject: req, message: `soak in ${req} (${formatDuration(soaked)} of ${formatDuration(env.minSoakMs)}) skipped by break-glass ${skipSoakBy.join(', ')}` });
      continue;
    }
    if (soaked < env.minSoakMs) {
      results.push({ gate: 'soak', passed: false, subject: req, message: `${name} has run in ${req} for ${formatDuration(soaked)} of the ${formatDuration(env.minSoakMs)} ${env.name} requires; try again in ${formatDuration(env.minSoakMs - soaked)}` });
      continue;
    }
    results.push({ gate: 'requires', passed: true, subject: req, message: `${name} succeeded in ${req} (${last.id}) and has run there ${formatDuration(soaked)}` });
  }
  if (env.requires.length === 0) results.push({ gate: 'requires', passed: true, message: `${env.name} requires no earlier environment` });
  return results;
}

/** every gate; break-glass may skip soak (never signature or checksums) */
export async function runGates(
  deps: GateDeps,
  promotion: PromotionRecord,
  release: ReleaseRecord,
  artifactsDir: string,
  skips: { skip: ReadonlySet<string>; ids: readonly string[] } = { skip: new Set(), ids: [] },
): Promise<GateResult[]> {
  const [sig, sums, reqs] = await Promise.all([
    signatureGate(deps, release, promotion.environment),
    checksumGate(deps, release, artifactsDir),
    requiresGate(deps, promotion, skips.skip.has('soak') ? skips.ids : undefined),
  ]);
  // config reads the verified config files the checksum gate placed in the folder and writes effective-config.json there
  const [config, dependencies] = await Promise.all([configGate(release, promotion.environment, artifactsDir), dependenciesGate(deps, promotion, release)]);
  // then the scan: every verified file and the rendered effective-config.json
  const secrets = await secretScanGate(deps, artifactsDir);
  const rotation = await secretsGate({ projectDir: deps.project.baseDir, identityDir: deps.ageIdentityDir, clock: deps.clock }, promotion);
  const [parity, drift] = await Promise.all([parityGate(deps, promotion, release), driftGate(deps, promotion)]);
  return [sig, ...sums, ...reqs, ...secrets, rotation, config, ...dependencies, parity, drift];
}
