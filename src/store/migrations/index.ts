/**
 * The list of schema migrations, in order. Static (no filesystem scanning) so the migrations ship
 * inside any bundle. Names sort in application order; never rename or remove one once released.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration, type SqlKind } from './0001-initial.ts';
import { stepOutcomeMigration } from './0002-step-outcome.ts';
import { accessControlMigration } from './0003-access-control.ts';
import { flagsMigration } from './0004-flags.ts';
import { rolloutsMigration } from './0005-rollouts.ts';

export type { SqlKind } from './0001-initial.ts';

export function migrations(kind: SqlKind): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(kind),
    '0002-step-outcome': stepOutcomeMigration(),
    '0003-access-control': accessControlMigration(),
    '0004-flags': flagsMigration(),
    '0005-rollouts': rolloutsMigration(),
  };
}

/** A Kysely MigrationProvider over the static list, for `new Migrator({ db, provider })`. */
export function migrationProvider(kind: SqlKind): MigrationProvider {
  return { getMigrations: async () => migrations(kind) };
}

/** Names of every migration this build knows; a database with others was written by a newer build. */
export function knownMigrationNames(): string[] {
  return Object.keys(migrations('sqlite'));
}
