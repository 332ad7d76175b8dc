/** Access control: token scopes and expiry, approvals, just-in-time elevations, break-glass, revoked sessions. */
import type { Kysely, Migration } from 'kysely';

export function accessControlMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('tokens').addColumn('scopes', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('expires_at', 'text').execute();
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('promotion_id', 'text', (c) => c.notNull().references('promotions.id'))
        .addColumn('approver', 'text', (c) => c.notNull())
        .addColumn('groups', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('binding', 'text', (c) => c.notNull())
        .addColumn('bundle', 'text', (c) => c.notNull())
        .addColumn('personally_signed', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('approvals_promotion').on('approvals').columns(['promotion_id', 'created_at']).execute();
      await db.schema
        .createTable('elevations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('expires_at', 'text')
        .execute();
      await db.schema.createIndex('elevations_principal').on('elevations').columns(['principal', 'status']).execute();
      await db.schema
        .createTable('break_glass')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('promotion_id', 'text', (c) => c.notNull().references('promotions.id'))
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('justification', 'text', (c) => c.notNull())
        .addColumn('skip', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('time_box_ms', 'integer', (c) => c.notNull())
        .addColumn('confirmed_by', 'text')
        .addColumn('confirmed_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('reviewed_by', 'text')
        .addColumn('reviewed_at', 'text')
        .addColumn('review_comment', 'text')
        .execute();
      await db.schema.createIndex('break_glass_promotion').on('break_glass').columns(['promotion_id']).execute();
      await db.schema
        .createTable('revoked_sessions')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['revoked_sessions', 'break_glass', 'elevations', 'approvals']) await db.schema.dropTable(t).execute();
      for (const c of ['scopes', 'expires_at']) await db.schema.alterTable('tokens').dropColumn(c).execute();
    },
  };
}
