/**
 * On server start: an environment with no stored flag set is seeded from its file
 * `flags/<env>.flagd.json` next to the project file (audited as `flag.seed`). Once a version is
 * stored the file is not read again: changes go through change requests. A malformed file stops the
 * start with an error naming the file, the JSON pointer and the fix.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../domain/errors.ts';
import type { AuditWriter } from '../engine/audit-writer.ts';
import type { FlagDeps } from './flag-changes.ts';
import { canonicalFlagSet, flagLimits, flagSetDigest, parseFlagSetText } from './flag-set.ts';

export const flagFileOf = (baseDir: string, environment: string): string => path.join(baseDir, 'flags', `${environment}.flagd.json`);

/** read and validate one flag file (also `stagegate flags validate`) */
export async function readFlagFile(file: string) {
  const size = (await stat(file)).size;
  if (size > flagLimits.bytes) {
    throw new DomainError('invalid_input', `${file}: is ${size} bytes, over the limit of ${flagLimits.bytes}`, { file, fix: 'remove unused flags or move large object variants elsewhere' });
  }
  return parseFlagSetText(await readFile(file, 'utf8'), file);
}

export function createFlagSeeder(deps: FlagDeps, audit: AuditWriter) {
  /** returns the environments seeded now */
  return async function seed(): Promise<string[]> {
    const seeded: string[] = [];
    for (const env of deps.project.environments) {
      const file = flagFileOf(deps.project.baseDir, env.name);
      if (!existsSync(file)) continue;
      if (await deps.store.read.flags.latest(env.name)) continue;
      const set = await readFlagFile(file);
      const digest = flagSetDigest(set);
      const done = await deps.store.transaction(async (tx) => {
        if (await tx.flags.latest(env.name)) return false;
        const now = deps.clock().toISOString();
        await tx.flags.insertVersion({ environment: env.name, version: 1, flagSet: canonicalFlagSet(set), digest, createdBy: 'system:flags-seed', createdAt: now, changeId: null });
        await audit.record(tx, { actor: 'system:flags-seed', requestDigest: null }, {
          action: 'flag.seed',
          outcome: 'succeeded',
          subject: `environment:${env.name}`,
          details: { environment: env.name, version: 1, digest, file: path.relative(deps.project.baseDir, file), flags: Object.keys(set.flags).length },
        });
        return true;
      });
      if (done) seeded.push(env.name);
    }
    return seeded;
  };
}
