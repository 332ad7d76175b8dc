/**
 * Read the effective configuration the config gate wrote into a promotion's artifacts folder
 * (`effective-config.json`, an EffectiveConfig). Absent when the release carries no layered config.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DomainError } from '../../../domain/errors.ts';
import { DIGEST_RE } from '../../../domain/ids.ts';
import { EFFECTIVE_CONFIG_FILE } from '../../../parity/config/gates.ts';

export const MAX_EFFECTIVE_CONFIG_BYTES = 1024 * 1024;

const fileSchema = z.looseObject({
  document: z.record(z.string().max(256), z.unknown()),
  digest: z.string().regex(DIGEST_RE),
});

export interface EffectiveConfigFile {
  document: Record<string, unknown>;
  digest: string;
}

export async function readEffectiveConfig(artifactsDir: string): Promise<EffectiveConfigFile | undefined> {
  const file = join(artifactsDir, EFFECTIVE_CONFIG_FILE);
  const st = await stat(file).catch(() => undefined);
  if (!st) return undefined;
  if (!st.isFile() || st.size > MAX_EFFECTIVE_CONFIG_BYTES) {
    throw new DomainError('invalid_input', `${file} is not a file of at most ${MAX_EFFECTIVE_CONFIG_BYTES} bytes`, {
      file,
      fix: 'keep the service manifest under 1 MiB; the config gate writes this file, so promote again',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new DomainError('invalid_input', `${file} is not JSON: ${(e as Error).message.slice(0, 200)}`, { file, fix: 'the config gate writes this file; promote again' });
  }
  const r = fileSchema.safeParse(parsed);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new DomainError('invalid_input', `${file}: ${i?.path.join('.') || '(file)'}: ${i?.message ?? 'invalid'}`, { file, fix: 'the config gate writes this file; promote again' });
  }
  return { document: r.data.document, digest: r.data.digest };
}
