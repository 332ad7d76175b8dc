/**
 * The initial schema. Portable DDL: only `text`, `integer` and one binary type (`blob` on SQLite,
 * `bytea` on PostgreSQL); every lookup path of the repositories has an index.
 */
import type { Kysely, Migration } from 'kysely';

export type SqlKind = 'sqlite' | 'postgres';

export function initialMigration(kind: SqlKind): Migration {
  const binary = kind === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('releases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull().unique())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('bundle', 'text', (c) => c.notNull())
        .addColumn('signer_key_id', 'text', (c) => c.notNull())
        .addColumn('pushed_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('releases_service_version_uq', ['service', 'version'])
        .execute();
      await db.schema.createIndex('releases_service_seq_ix').on('releases').columns(['service', 'seq']).execute();

      await db.schema
        .createTable('release_subjects')
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('size', 'integer')
        .addPrimaryKeyConstraint('release_subjects_pk', ['release_id', 'name'])
        .execute();

      await db.schema
        .createTable('promotions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull().unique())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('release_id', 'text', (c) => c.notNull().references('releases.id'))
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('state_changed_at', 'text', (c) => c.notNull())
        .addColumn('gates', 'text')
        .addColumn('message', 'text')
        .addColumn('succeeded_at', 'text')
        .execute();
      const promotionIndexes: Array<[string, string[]]> = [
        ['promotions_service_env_seq_ix', ['service', 'environment', 'seq']],
        ['promotions_env_seq_ix', ['environment', 'seq']],
        ['promotions_state_seq_ix', ['state', 'seq']],
        ['promotions_release_ix', ['release_id']],
      ];
      for (const [name, columns] of promotionIndexes) {
        await db.schema.createIndex(name).on('promotions').columns(columns).execute();
      }

      await db.schema
        .createTable('steps')
        .addColumn('promotion_id', 'text', (c) => c.notNull().references('promotions.id'))
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('message', 'text')
        .addPrimaryKeyConstraint('steps_pk', ['promotion_id', 'step'])
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();

      // `integer primary key` is the rowid on SQLite: max(idx) is a seek to the last leaf.
      await db.schema
        .createTable('audit_entries')
        .addColumn('idx', 'integer', (c) => c.primaryKey())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('merkle_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('hash', binary, (c) => c.notNull())
        .addPrimaryKeyConstraint('merkle_nodes_pk', ['level', 'idx'])
        .execute();

      await db.schema
        .createTable('checkpoints')
        .addColumn('size', 'integer', (c) => c.primaryKey())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      const tables = [
        'meta',
        'checkpoints',
        'merkle_nodes',
        'audit_entries',
        'tokens',
        'steps',
        'promotions',
        'release_subjects',
        'releases',
      ];
      for (const t of tables) await db.schema.dropTable(t).execute();
    },
  };
}
