/** Rollouts: the durable progress of each promotion's traffic strategy (one row per promotion). */
import type { Kysely, Migration } from 'kysely';

export function rolloutsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rollouts')
        .addColumn('promotion_id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('canary_version', 'text', (c) => c.notNull())
        .addColumn('canary_release_id', 'text', (c) => c.notNull())
        .addColumn('stable_version', 'text')
        .addColumn('stable_release_id', 'text')
        .addColumn('stable_promotion_id', 'text')
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('step_index', 'integer', (c) => c.notNull())
        .addColumn('step_started_at', 'text', (c) => c.notNull())
        .addColumn('weight', 'integer', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('pause_reason', 'text')
        .addColumn('command', 'text')
        .addColumn('command_by', 'text')
        .addColumn('analysis', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rollouts_service_env').on('rollouts').columns(['service', 'environment', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('rollouts').execute();
    },
  };
}
