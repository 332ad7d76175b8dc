/** Steps record the exit code, duration and output tail of what they ran. */
import type { Kysely, Migration } from 'kysely';

export function stepOutcomeMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('steps').addColumn('exit_code', 'integer').execute();
      await db.schema.alterTable('steps').addColumn('duration_ms', 'integer').execute();
      await db.schema.alterTable('steps').addColumn('output_tail', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      for (const c of ['exit_code', 'duration_ms', 'output_tail']) await db.schema.alterTable('steps').dropColumn(c).execute();
    },
  };
}
