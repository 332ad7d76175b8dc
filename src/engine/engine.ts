/** The engine: every use-case, wired to its dependencies. Server and CLI are shells around it. */
import { createAuditQueries } from './audit-queries.ts';
import { createAuditWriter } from './audit-writer.ts';
import type { EngineDeps } from './deps.ts';
import { createPushRelease } from './push-release.ts';
import { createQueries } from './queries.ts';
import { createIdentityAdmin } from './identities.ts';
import { createPolicyChanges } from './policy-change.ts';
import { createReconciler } from './reconciler.ts';
import { createAbortPromotion, createRequestPromotion, createRollback } from './request-promotion.ts';
import { createTokenUseCases } from './tokens.ts';
import { createBreakGlass } from './break-glass.ts';
import { createBlobUpload } from './upload-blob.ts';
import { createApprovalUseCases } from './approval-flow.ts';
import { createDryRun } from './dry-run.ts';
import { createElevation } from './elevation.ts';
import { createFlagUseCases } from '../flags/use-cases.ts';
import { createParityUseCases } from '../parity/use-cases.ts';
import { createRolloutUseCases } from './rollout/commands.ts';

export function createEngine(deps: EngineDeps) {
  const audit = createAuditWriter(deps);
  const breakGlass = createBreakGlass(deps, audit);
  const policyChanges = createPolicyChanges(deps, audit);
  const reconciler = createReconciler(deps, audit, policyChanges);
  const request = createRequestPromotion(deps, audit);
  const requestPromotion: typeof request = async (...args) => {
    const p = await request(...args);
    void reconciler.kick();
    return p;
  };
  return {
    audit,
    reconciler,
    pushRelease: createPushRelease(deps, audit),
    uploadBlob: createBlobUpload(deps, audit),
    requestPromotion,
    rollback: createRollback(deps, audit, requestPromotion),
    abortPromotion: createAbortPromotion(deps, audit),
    queries: createQueries(deps, audit),
    auditQueries: createAuditQueries(deps, audit),
    tokens: createTokenUseCases(deps, audit),
    breakGlass,
    policyChanges,
    identities: createIdentityAdmin(deps, audit),
    approvals: createApprovalUseCases(deps, audit),
    dryRun: createDryRun(deps, audit),
    elevations: createElevation(deps, audit),
    flags: createFlagUseCases(deps, audit),
    parity: createParityUseCases(deps, audit),
    rollouts: createRolloutUseCases(deps, audit, reconciler.rolloutController, () => void reconciler.kick()),
  };
}
export type Engine = ReturnType<typeof createEngine>;
