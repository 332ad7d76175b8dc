/** Use-case: accept a signed release into the store, immutably. */
import { DomainError } from '../domain/errors.ts';
import { scanReleaseBlobs, secretDetectedError } from '../secrets/scan/release-scan.ts';
import type { ReleaseRecord, SubjectRecord } from '../store/store.ts';
import { verifyRelease } from './release-verify.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { projectResource } from './guard.ts';
import { trustedKeys } from './trusted-keys.ts';

export interface PushResult {
  release: ReleaseRecord;
  created: boolean;
  /** artifact and config subjects whose bytes the server does not hold yet */
  missingBlobs: string[];
}

export function createPushRelease(deps: Pick<EngineDeps, 'store' | 'project' | 'blobs' | 'clock'>, audit: AuditWriter) {
  return async function pushRelease(ctx: RequestContext, bundleJson: string): Promise<PushResult> {
    const refuse = async (e: DomainError, subject = 'release'): Promise<never> => {
      await audit.denied(ctx, { action: 'release.push', subject, details: { reason: e.message } });
      throw e;
    };
    await audit.guard(ctx, 'release.push', projectResource(deps.project));
    let verified: Awaited<ReturnType<typeof verifyRelease>>;
    try {
      verified = await verifyRelease({ bundleJson, trustedKeys: trustedKeys(deps.project) });
    } catch (e) {
      if (e instanceof DomainError) return refuse(e);
      throw e;
    }
    const subject = `release:${verified.releaseId}`;
    if (!verified.signature.ok) {
      return refuse(
        new DomainError('signature_invalid', `release bundle signature does not verify: ${verified.signature.reason}`, {
          fix: 'sign the release with a key listed under `keys` in stagegate.yaml (stagegate release create --key ...)',
        }),
        subject,
      );
    }
    if (!deps.project.services.some((s) => s.name === verified.service)) {
      return refuse(
        new DomainError('not_found', `service "${verified.service}" is not in the project`, {
          field: 'services',
          fix: `add it under services in stagegate.yaml, or use one of: ${deps.project.services.map((s) => s.name).join(', ')}`,
        }),
        subject,
      );
    }
    const existing = await deps.store.read.releases.findByServiceVersion(verified.service, verified.version);
    if (existing && existing.id !== verified.releaseId) {
      return refuse(
        new DomainError(
          'conflict',
          `${verified.service}@${verified.version} already exists as ${existing.id}; this bundle is ${verified.releaseId}`,
          { fix: 'releases are immutable: give the new build a new version' },
        ),
        subject,
      );
    }
    const subjects: SubjectRecord[] = [];
    const missingBlobs: string[] = [];
    for (const s of verified.subjects) {
      const stored = s.kind !== 'image' && (await deps.blobs.has(s.expected));
      if (s.kind !== 'image' && !stored) missingBlobs.push(s.name);
      subjects.push({ name: s.name, digest: s.expected, kind: s.kind, size: stored ? await deps.blobs.size(s.expected) : null });
    }
    if (existing) {
      await deps.store.transaction((tx) =>
        audit.record(tx, ctx, { action: 'release.push', outcome: 'succeeded', subject, details: { unchanged: true } }),
      );
      return { release: existing, created: false, missingBlobs };
    }
    // every file a new release signs is scanned before the release is stored, so its bytes come first
    if (missingBlobs.length > 0) {
      const shown = missingBlobs.slice(0, 20).join(', ') + (missingBlobs.length > 20 ? ` and ${missingBlobs.length - 20} more` : '');
      return refuse(
        new DomainError('invalid_input', `${verified.service}@${verified.version} signs ${missingBlobs.length} file(s) the server holds no bytes for: ${shown}; a release's files are scanned for secrets before it is stored, so they must be uploaded first`, {
          field: 'subjects',
          fix: 'upload every artifact and config file before the bundle: `stagegate release push BUNDLE --artifact FILE --config DIR` does that, or PUT /v1/blobs/<digest> for each',
        }),
        subject,
      );
    }
    const scan = await scanReleaseBlobs({ blobs: deps.blobs, project: deps.project, now: deps.clock() }, subjects);
    if (scan.findings.length > 0) return refuse(secretDetectedError(`${verified.service}@${verified.version}`, scan), subject);
    const release: ReleaseRecord = {
      id: verified.releaseId,
      service: verified.service,
      version: verified.version,
      bundle: bundleJson,
      signerKeyId: verified.signature.keyId ?? '',
      subjects,
      pushedBy: ctx.actor,
      createdAt: deps.clock().toISOString(),
    };
    await deps.store.transaction(async (tx) => {
      await tx.releases.insert(release);
      await audit.record(tx, ctx, {
        action: 'release.push',
        outcome: 'succeeded',
        subject,
        details: {
          service: release.service,
          version: release.version,
          signer: release.signerKeyId,
          subjects: subjects.map((s) => ({ name: s.name, digest: s.digest, kind: s.kind })),
        },
      });
    });
    return { release, created: true, missingBlobs };
  };
}
