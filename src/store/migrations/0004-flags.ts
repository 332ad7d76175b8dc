/** Feature flags: versions of each environment's flag set, and change requests against them. */
import type { Kysely, Migration } from 'kysely';

export function flagsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('flag_versions')
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('flag_set', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('change_id', 'text')
        .addPrimaryKeyConstraint('flag_versions_pk', ['environment', 'version'])
        .execute();
      await db.schema
        .createTable('flag_changes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('base_version', 'integer', (c) => c.notNull())
        .addColumn('patch', 'text', (c) => c.notNull())
        .addColumn('result_digest', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('approvals', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('applied_version', 'integer')
        .execute();
      await db.schema.createIndex('flag_changes_env').on('flag_changes').columns(['environment', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('flag_changes').execute();
      await db.schema.dropTable('flag_versions').execute();
    },
  };
}
