/**
 * Secrets for the demo: an age identity per environment plus an offline recovery identity, the
 * project's `.sops.yaml` (one rule per environment: that environment's recipient + recovery), and
 * `secrets/<env>/<service>.sops.yaml` files with the given created/rotate_by. Keys are made at run
 * time, never committed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { serverIdentityFile } from './identity-file.ts';
import { secretsFileRef } from './layout.ts';
import { encryptSopsFile } from './sops/sops-file.ts';
import { SOPS_CONFIG_FILE } from './sops-config.ts';
import { writeFileAtomic } from './secrets-file.ts';

export interface ExampleEnv {
  name: string;
  /** RFC 3339 */
  created: string;
  /** RFC 3339; in the past makes the environment's secrets overdue */
  rotateBy: string;
  /** per service, the plaintext document; default `{ checkout: { db: { password }, api_key } }` with random values */
  secrets?: Record<string, Record<string, unknown>>;
}

export interface ExampleSecrets {
  /** STAGEGATE_AGE_IDENTITY_DIR for the server: `<env>.key` per environment */
  identityDir: string;
  /** the offline recovery identity file (opens every file) */
  recoveryFile: string;
  recipients: Record<string, string>;
  /** project-relative paths of the secrets files written */
  files: string[];
}

const identityText = (id: string, recipient: string, what: string, now: Date): string =>
  `# created: ${now.toISOString()}\n# ${what}\n# public key: ${recipient}\n${id}\n`;

export async function initSecretsExample(
  projectDir: string,
  envs: readonly ExampleEnv[],
  opts: { identityDir?: string; now?: Date } = {},
): Promise<ExampleSecrets> {
  const now = opts.now ?? new Date();
  const identityDir = path.resolve(opts.identityDir ?? path.join(projectDir, '.age-identities'));
  await mkdir(identityDir, { recursive: true, mode: 0o700 });
  const recovery = await generateX25519Identity();
  const recoveryRecipient = await identityToRecipient(recovery);
  const recoveryFile = path.join(identityDir, 'recovery.key');
  await writeFileAtomic(recoveryFile, identityText(recovery, recoveryRecipient, 'stagegate offline recovery identity: keep it offline', now));
  const recipients: Record<string, string> = { recovery: recoveryRecipient };
  const rules: string[] = [];
  const files: string[] = [];
  for (const env of envs) {
    const id = await generateX25519Identity();
    const recipient = await identityToRecipient(id);
    recipients[env.name] = recipient;
    await writeFileAtomic(serverIdentityFile(identityDir, env.name), identityText(id, recipient, `stagegate identity of environment ${env.name}`, now));
    rules.push(`  - path_regex: ^secrets/${env.name}/\n    age: ${recipient},${recoveryRecipient}`);
    const docs = env.secrets ?? { checkout: { db: { password: randomBytes(18).toString('base64url') }, api_key: `demo_${randomBytes(12).toString('hex')}` } };
    for (const [service, doc] of Object.entries(docs)) {
      const ref = secretsFileRef(projectDir, env.name, service);
      const text = await encryptSopsFile(doc, {
        format: 'yaml',
        recipients: [recipient, recoveryRecipient],
        metadata: { created: env.created, rotate_by: env.rotateBy },
        now: () => now,
      });
      await writeFileAtomic(ref.file, text, 0o644);
      files.push(ref.rel);
    }
  }
  const config = `# sops creation rules: one recipient per environment plus the offline recovery recipient.\n# Written by initSecretsExample; see docs/secrets.md.\ncreation_rules:\n${rules.join('\n')}\n`;
  await writeFileAtomic(path.join(projectDir, SOPS_CONFIG_FILE), config, 0o644);
  return { identityDir, recoveryFile, recipients, files };
}
