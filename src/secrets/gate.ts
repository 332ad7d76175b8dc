/**
 * The `secrets` gate: the service's secrets file of the target environment opens with the
 * environment's identity (MAC verified) and none of its secrets is past `rotate_by`.
 */
import type { GateResult } from '../domain/promotion.ts';
import { readIdentityFile, serverIdentityFile } from './identity-file.ts';
import { isOverdue, secretInventory } from './inventory.ts';
import { openServerSecrets } from './server-secrets.ts';

export interface SecretsGateDeps {
  projectDir: string;
  identityDir: string | undefined;
  clock: () => Date;
}

export async function secretsGate(deps: SecretsGateDeps, p: { service: string; environment: string }): Promise<GateResult> {
  const s = await openServerSecrets({ projectDir: deps.projectDir, identityDir: deps.identityDir, env: p.environment, service: p.service });
  const gate = 'secrets';
  if (s.status === 'absent') return { gate, passed: true, subject: s.file, message: `${p.service} has no secrets in ${p.environment} (no ${s.file})` };
  if (s.status === 'error') return { gate, passed: false, subject: s.file, message: s.message };
  const { names, meta } = s.opened;
  if (!meta) {
    return {
      gate,
      passed: true,
      subject: s.file,
      message: `${names.length} secret(s) in ${s.file}, no rotate_by recorded; set one with: stagegate secrets rotate ${s.file} --rotate-by 90d`,
    };
  }
  const now = deps.clock();
  if (isOverdue(meta.rotate_by, now)) {
    return {
      gate,
      passed: false,
      subject: s.file,
      message: `${names.length} secret(s) in ${s.file} are overdue for rotation since ${meta.rotate_by} (created ${meta.created}): ${names.join(', ')}; rotate them: stagegate secrets rotate ${s.file} --rotate-by 90d (and set new values with stagegate secrets set ${p.environment} ${p.service} KEY --value-stdin where a value itself must change)`,
    };
  }
  return { gate, passed: true, subject: s.file, message: `${names.length} secret(s) in ${s.file} open for ${p.environment}; nearest rotate_by ${meta.rotate_by}` };
}

/** how many of the service's secrets in the environment are past rotate_by (the CEL fact `findings.secrets`) */
export async function overdueSecretCount(deps: SecretsGateDeps, p: { service: string; environment: string }): Promise<number> {
  if (!deps.identityDir) return 0;
  try {
    const identities = await readIdentityFile(serverIdentityFile(deps.identityDir, p.environment));
    const inv = await secretInventory(deps.projectDir, p.environment, { identities, now: deps.clock() });
    return Object.values(inv[p.service] ?? {}).filter((f) => f.overdue).length;
  } catch {
    return 0; // unreadable: the secrets gate fails and names the problem
  }
}
