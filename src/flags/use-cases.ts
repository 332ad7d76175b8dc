/** Every feature-flag use-case, wired for the engine (`engine.flags`). */
import type { AuditWriter } from '../engine/audit-writer.ts';
import { createFlagDecisions } from './flag-decisions.ts';
import { createFlagChange, createFlagReads, type FlagDeps } from './flag-changes.ts';
import { createOfrep } from './ofrep.ts';
import { createFlagSeeder } from './seed.ts';

export function createFlagUseCases(deps: FlagDeps, audit: AuditWriter) {
  return {
    ...createFlagReads(deps, audit),
    createChange: createFlagChange(deps, audit),
    ...createFlagDecisions(deps, audit),
    seed: createFlagSeeder(deps, audit),
    ofrep: createOfrep(deps, audit),
  };
}
export type FlagUseCases = ReturnType<typeof createFlagUseCases>;
