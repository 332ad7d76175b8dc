/** Every CLI command, in the order `stagegate --help` lists them. */
import type { Command } from './command.ts';
import { scanCommand } from './commands/scan.ts';
import { flagsApplyCommand, flagsApproveCommand, flagsChangeCommand, flagsChangesCommand, flagsRejectCommand, flagsShowCommand, flagsValidateCommand } from './commands/flags.ts';
import { configDiffCommand, configShowCommand } from './commands/config.ts';
import { manifestAuditCommand } from './commands/manifest.ts';
import { maskCommand } from './commands/mask.ts';
import { secretsListCommand, secretsRewrapCommand, secretsRotateCommand, secretsSetCommand } from './commands/secrets.ts';
import { identityDeleteCommand, identityListCommand, identitySetCommand } from './commands/identity.ts';
import {
  approvalsCommand,
  approveCommand,
  breakGlassConfirmCommand,
  breakGlassListCommand,
  breakGlassReviewCommand,
  freezeListCommand,
  policyApproveCommand,
  policyRejectCommand,
  policyStatusCommand,
  rejectCommand,
} from './commands/access.ts';
import {
  auditCheckpointCommand,
  auditConsistencyCommand,
  auditExportCommand,
  auditKeyCommand,
  auditLogCommand,
  auditProofCommand,
  auditVerifyCommand,
} from './commands/audit.ts';
import { elevateCommand, elevationApproveCommand, elevationDenyCommand, elevationListCommand } from './commands/elevation.ts';
import { initCommand } from './commands/init.ts';
import { keysGenerateCommand } from './commands/keys.ts';
import { loginCommand } from './commands/login.ts';
import { promoteCommand, promotionAbortCommand, promotionListCommand, promotionShowCommand, rollbackCommand } from './commands/promote.ts';
import { releaseCreateCommand } from './commands/release-create.ts';
import { releaseListCommand, releaseShowCommand } from './commands/release-list.ts';
import { releasePushCommand } from './commands/release-push.ts';
import { releaseVerifyCommand } from './commands/release-verify.ts';
import { policyExplainCommand, policyTestCommand, policyValidateCommand } from './commands/policy.ts';
import { schemaCommand } from './commands/schema.ts';
import { serveCommand } from './commands/serve.ts';
import { statusCommand } from './commands/status.ts';
import { driftCommand, parityCommand } from './commands/parity.ts';
import { rolloutAbortCommand, rolloutPromoteCommand, rolloutRetryCommand, rolloutStatusCommand } from './commands/rollout.ts';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './commands/token.ts';

export const commands: readonly Command[] = [
  initCommand,
  schemaCommand,
  keysGenerateCommand,
  releaseCreateCommand,
  releaseVerifyCommand,
  scanCommand,
  configShowCommand,
  configDiffCommand,
  manifestAuditCommand,
  maskCommand,
  secretsSetCommand,
  secretsRotateCommand,
  secretsRewrapCommand,
  secretsListCommand,
  serveCommand,
  releasePushCommand,
  releaseListCommand,
  releaseShowCommand,
  promoteCommand,
  promotionShowCommand,
  promotionListCommand,
  promotionAbortCommand,
  rollbackCommand,
  rolloutStatusCommand,
  rolloutPromoteCommand,
  rolloutAbortCommand,
  rolloutRetryCommand,
  approvalsCommand,
  approveCommand,
  rejectCommand,
  breakGlassConfirmCommand,
  breakGlassReviewCommand,
  breakGlassListCommand,
  freezeListCommand,
  elevateCommand,
  elevationApproveCommand,
  elevationDenyCommand,
  elevationListCommand,
  statusCommand,
  parityCommand,
  driftCommand,
  auditLogCommand,
  auditKeyCommand,
  auditCheckpointCommand,
  auditProofCommand,
  auditConsistencyCommand,
  auditExportCommand,
  auditVerifyCommand,
  loginCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  policyValidateCommand,
  policyTestCommand,
  policyExplainCommand,
  identityListCommand,
  identitySetCommand,
  identityDeleteCommand,
  policyStatusCommand,
  policyApproveCommand,
  policyRejectCommand,
  flagsShowCommand,
  flagsChangeCommand,
  flagsChangesCommand,
  flagsApproveCommand,
  flagsRejectCommand,
  flagsApplyCommand,
  flagsValidateCommand,
];
