/** The facts CEL gate rules see, computed from the store, the release and the clock. */
import { clockFacts, type GateFacts } from '../policy/cel/facts.ts';
import { freezeFacts } from '../policy/freeze.ts';
import { parseReleaseStatement } from '../crypto/statement.ts';
import { parseBundle } from '../crypto/bundle.ts';
import type { PromotionRecord, ReleaseRecord } from '../store/store.ts';
import type { ApprovalInput } from './approvals/evaluate.ts';
import type { EngineDeps } from './deps.ts';
import { keyNameOf } from './trusted-keys.ts';
import { parityFindingCounts } from '../parity/gates.ts';
import { overdueSecretCount } from '../secrets/gate.ts';

function provenanceOf(release: ReleaseRecord): { builder: string; source: string; buildType: string } {
  try {
    const { envelope } = parseBundle(release.bundle, `release ${release.id}`);
    const st = parseReleaseStatement(Buffer.from(envelope.payload, 'base64'));
    const p = st.predicate as { buildDefinition?: { buildType?: string; externalParameters?: Record<string, unknown> }; runDetails?: { builder?: { id?: string } } };
    const ext = p.buildDefinition?.externalParameters ?? {};
    const source = typeof ext['source'] === 'string' ? ext['source'] : typeof ext['repository'] === 'string' ? ext['repository'] : '';
    return { builder: p.runDetails?.builder?.id ?? '', source, buildType: p.buildDefinition?.buildType ?? '' };
  } catch {
    return { builder: '', source: '', buildType: '' };
  }
}

export async function gateFacts(
  deps: Pick<EngineDeps, 'store' | 'project' | 'clock' | 'ageIdentityDir' | 'blobs' | 'targets'>,
  p: PromotionRecord,
  release: ReleaseRecord,
  approvals: readonly ApprovalInput[],
  breakGlass: boolean,
): Promise<GateFacts> {
  const now = deps.clock();
  const env = deps.project.environments.find((e) => e.name === p.environment)!;
  const soak: Record<string, { succeeded: boolean; soakSeconds: number; failedVerification: boolean }> = {};
  for (const e of deps.project.environments) {
    const history = await deps.store.read.promotions.list({ service: p.service, environment: e.name, releaseId: p.releaseId, states: ['Succeeded', 'Failed', 'RolledBack'], newestFirst: true, limit: 50 });
    if (history.length === 0) continue;
    const last = history[0]!;
    let failedVerification = false;
    for (const h of history) if (h.state !== 'Succeeded' && (await deps.store.read.steps.get(h.id, 'verify'))?.status === 'failed') failedVerification = true;
    soak[e.name] = {
      succeeded: last.state === 'Succeeded',
      soakSeconds: last.state === 'Succeeded' ? Math.max(0, (now.getTime() - Date.parse(last.succeededAt ?? last.stateChangedAt)) / 1000) : 0,
      failedVerification,
    };
  }
  const valid = approvals.filter((a) => a.decision === 'approve');
  return {
    release: {
      service: release.service,
      version: release.version,
      id: release.id,
      signer: release.signerKeyId,
      signerName: keyNameOf(deps.project, release.signerKeyId) ?? '',
      provenance: provenanceOf(release),
    },
    environment: { name: env.name, tier: env.tier },
    approvals: valid.map((a) => ({ user: a.approver, groups: [...a.groups], at: new Date(a.at) })),
    approvalCount: valid.length,
    soak,
    freeze: freezeFacts(env.freezes, { service: p.service, at: now }),
    ...clockFacts(now),
    findings: { ...(await parityFindingCounts(deps, p, release)), secrets: await overdueSecretCount({ projectDir: deps.project.baseDir, identityDir: deps.ageIdentityDir, clock: deps.clock }, p) },
    requester: p.requestedBy,
    breakGlass,
  } as GateFacts;
}
