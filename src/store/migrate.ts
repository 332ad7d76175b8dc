/**
 * Bring a database to the newest schema this build knows, with Kysely's Migrator over the static
 * migration list. Refuses a database that has migrations this build does not know (written by a
 * newer stagegate) before touching it. Idempotent: opening an up-to-date database changes nothing.
 */
import { type Kysely, Migrator } from 'kysely';
import { DomainError } from '../domain/errors.ts';
import { type SqlKind, knownMigrationNames, migrationProvider } from './migrations/index.ts';

export const MIGRATION_TABLE = 'kysely_migration';

interface MigrationTables {
  kysely_migration: { name: string };
}

async function appliedMigrations(db: Kysely<MigrationTables>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return [];
  const rows = await db.selectFrom(MIGRATION_TABLE).select('name').execute();
  return rows.map((r) => String(r.name));
}

/** `db` may be typed with any schema; migrations and this check only use their own tables */
export async function migrateToLatest<DB>(db: Kysely<DB>, kind: SqlKind, where: string): Promise<void> {
  const known = new Set(knownMigrationNames());
  const unknown = (await appliedMigrations(db as unknown as Kysely<MigrationTables>)).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new DomainError(
      'conflict',
      `the database ${where} has schema migration ${unknown.join(', ')}, which this stagegate does not know: a newer stagegate wrote it`,
      {
        file: where,
        fix: 'run the stagegate version that last opened this database (or newer), or restore a backup taken before that upgrade',
      },
    );
  }
  const migrator = new Migrator({ db, provider: migrationProvider(kind), migrationTableName: MIGRATION_TABLE });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'the migration table setup';
    throw new DomainError('internal', `schema migration ${failed} failed on ${where}: ${(error as Error).message ?? String(error)}`, {
      file: where,
      fix: 'nothing was changed (migrations run in a transaction); restore the file from a backup if it is damaged, or report this bug',
    });
  }
}
