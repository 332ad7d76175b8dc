/**
 * Integrity of what an environment runs, re-checked after the promotion: the signature of each
 * service's current release (against the environment's trusted keys) and the sha256 of each of its
 * stored artifact and config blobs against the signed digest.
 */
import { sha256File } from '../crypto/digest.ts';
import type { EngineDeps } from '../engine/deps.ts';
import { verifyRelease } from '../engine/release-verify.ts';
import { trustedKeys } from '../engine/trusted-keys.ts';
import { currentRelease } from './collect.ts';

export interface IntegrityFinding {
  service: string;
  release: string;
  version: string;
  kind: 'signature' | 'checksum' | 'missing';
  subject?: string;
  message: string;
}

export async function environmentIntegrity(deps: Pick<EngineDeps, 'store' | 'project' | 'blobs'>, env: string): Promise<{ checked: number; findings: IntegrityFinding[] }> {
  const e = deps.project.environments.find((x) => x.name === env);
  if (!e) return { checked: 0, findings: [] };
  const keys = trustedKeys(deps.project, e.trustedKeys);
  const findings: IntegrityFinding[] = [];
  let checked = 0;
  for (const s of deps.project.services) {
    const r = await currentRelease(deps, s.name, env);
    if (!r) continue;
    checked++;
    const base = { service: s.name, release: r.id, version: r.version };
    const v = await verifyRelease({ bundleJson: r.bundle, trustedKeys: keys });
    if (!v.signature.ok) findings.push({ ...base, kind: 'signature', message: `${s.name}@${r.version} running in ${env}: signature no longer verifies (${v.signature.reason}); ${env} trusts [${e.trustedKeys.join(', ')}] — re-sign and promote a release, or restore the trusted key` });
    else if (v.releaseId !== r.id) findings.push({ ...base, kind: 'signature', message: `${s.name}@${r.version} running in ${env}: the stored bundle hashes to ${v.releaseId}, not ${r.id}: the stored release was altered` });
    for (const sub of r.subjects) {
      if (sub.kind === 'image') continue;
      if (!(await deps.blobs.has(sub.digest))) {
        findings.push({ ...base, kind: 'missing', subject: sub.name, message: `${sub.name} of ${s.name}@${r.version} (${sub.digest}) is gone from the blob store; push the release's files again` });
        continue;
      }
      const { digest } = await sha256File(deps.blobs.pathOf(sub.digest));
      if (digest !== sub.digest) {
        findings.push({ ...base, kind: 'checksum', subject: sub.name, message: `${sub.name} of ${s.name}@${r.version}: stored bytes hash to ${digest} but the release signed ${sub.digest}; the stored copy was altered — push it again from a trusted build and investigate` });
      }
    }
  }
  return { checked, findings };
}
