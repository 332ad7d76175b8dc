/**
 * The audit log's and the meta table's repositories. The log is append-only: appendEntry is one
 * conditional INSERT that only writes when `index` equals the current size, so a gap or a duplicate
 * can never land, inside or outside a transaction. size() is max(idx) + 1, a seek to the last leaf
 * of the primary-key index (constant work in practice, never COUNT(*)).
 */
import { type Kysely, sql } from 'kysely';
import { DomainError } from '../domain/errors.ts';
import type { AuditRepo, MetaRepo } from './store.ts';
import type { Database } from './schema.ts';
import { INSERT_CHUNK, checkIndex, checkLimit, checkText, checkTimestamp, chunks, constraintOf } from './store-checks.ts';

type Db = Kysely<Database>;

/** RFC 9162 with SHA-256: every Merkle node hash is 32 bytes */
export const MERKLE_HASH_BYTES = 32;
/** a tree of 2^63 leaves is beyond any log; levels above are a bug */
const MAX_LEVEL = 63;

function asBytes(v: Uint8Array): Uint8Array {
  // drivers return Buffer; hand out a plain Uint8Array view (no copy)
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function auditRepo(db: Db): AuditRepo {
  const size = async (): Promise<number> => {
    const row = await db.selectFrom('audit_entries').select((eb) => eb.fn.max('idx').as('m')).executeTakeFirst();
    return row?.m === null || row?.m === undefined ? 0 : Number(row.m) + 1;
  };
  return {
    size,
    async appendEntry(row) {
      const index = checkIndex(row.index, 'audit entry index');
      checkText(row.entry, 'audit entry', 1024 * 1024);
      checkTimestamp(row.createdAt, 'audit entry createdAt');
      const res = await sql`insert into audit_entries (idx, entry, created_at)
        select cast(${index} as integer), ${row.entry}, ${row.createdAt}
        where (select coalesce(max(idx) + 1, 0) from audit_entries) = cast(${index} as integer)`.execute(db);
      if (Number(res.numAffectedRows ?? 0) === 1) return;
      const current = await size();
      const why = index < current ? 'that index is already written' : `it would leave a gap of ${index - current}`;
      throw new DomainError('conflict', `audit entry ${index} does not follow the log of size ${current}: ${why}`, {
        fix: 'append at index = audit.size() inside the same transaction; the log is append-only',
      });
    },
    async getEntry(index) {
      const r = await db.selectFrom('audit_entries').selectAll().where('idx', '=', checkIndex(index, 'index')).executeTakeFirst();
      return r && { index: Number(r.idx), entry: r.entry, createdAt: r.created_at };
    },
    async listEntries(from, limit) {
      const start = checkIndex(from, 'from');
      const rows = await db
        .selectFrom('audit_entries')
        .selectAll()
        .where('idx', '>=', start)
        .where('idx', '<', start + checkLimit(limit, 'limit'))
        .orderBy('idx')
        .execute();
      return rows.map((r) => ({ index: Number(r.idx), entry: r.entry, createdAt: r.created_at }));
    },
    async putNodes(nodes) {
      const rows = nodes.map((n, i) => {
        const level = checkIndex(n.level, `nodes[${i}].level`);
        if (level > MAX_LEVEL) {
          throw new DomainError('invalid_input', `nodes[${i}].level ${level} is above ${MAX_LEVEL}`, {
            field: `nodes[${i}].level`,
            fix: 'level k is the subtree of 2^k leaves; pass the level the Merkle code computed',
          });
        }
        if (!(n.hash instanceof Uint8Array) || n.hash.byteLength !== MERKLE_HASH_BYTES) {
          throw new DomainError('invalid_input', `nodes[${i}].hash must be ${MERKLE_HASH_BYTES} bytes (SHA-256)`, {
            field: `nodes[${i}].hash`,
            fix: 'store the raw 32-byte SHA-256 digest, not hex or base64',
          });
        }
        return { level, idx: checkIndex(n.index, `nodes[${i}].index`), hash: n.hash };
      });
      try {
        for (const part of chunks(rows, INSERT_CHUNK)) await db.insertInto('merkle_nodes').values(part).execute();
      } catch (e) {
        if (constraintOf(e) === 'unique') {
          throw new DomainError('conflict', 'a Merkle node at one of these (level, index) positions is already stored', {
            fix: 'store each node once, when its subtree becomes complete; nodes of a complete subtree never change',
          });
        }
        throw e;
      }
    },
    async getNode(level, index) {
      const r = await db
        .selectFrom('merkle_nodes')
        .select('hash')
        .where('level', '=', checkIndex(level, 'level'))
        .where('idx', '=', checkIndex(index, 'index'))
        .executeTakeFirst();
      return r && asBytes(r.hash);
    },
    async putCheckpoint(c) {
      const cpSize = checkIndex(c.size, 'checkpoint size');
      checkText(c.note, 'checkpoint note', 64 * 1024);
      checkTimestamp(c.createdAt, 'checkpoint createdAt');
      const logSize = await size();
      if (cpSize > logSize) {
        throw new DomainError('conflict', `checkpoint of size ${cpSize} is beyond the log of size ${logSize}`, {
          fix: 'sign checkpoints only for sizes the log has reached',
        });
      }
      const res = await db
        .insertInto('checkpoints')
        .values({ size: cpSize, note: c.note, created_at: c.createdAt })
        .onConflict((oc) => oc.column('size').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) === 1) return;
      const existing = await db.selectFrom('checkpoints').select('note').where('size', '=', cpSize).executeTakeFirst();
      if (existing?.note !== c.note) {
        throw new DomainError('conflict', `a different checkpoint for size ${cpSize} is already stored`, {
          fix: 'a log has one checkpoint per size; re-signing the same size must give the same note',
        });
      }
    },
    async latestCheckpoint() {
      const r = await db.selectFrom('checkpoints').selectAll().orderBy('size', 'desc').limit(1).executeTakeFirst();
      return r && { size: Number(r.size), note: r.note, createdAt: r.created_at };
    },
  };
}

export function metaRepo(db: Db): MetaRepo {
  return {
    async get(key) {
      const r = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
      return r?.value;
    },
    async set(key, value) {
      if (checkText(key, 'meta key', 200).length === 0) {
        throw new DomainError('invalid_input', 'meta key is empty', { field: 'key', fix: 'name the setting, e.g. audit.origin' });
      }
      checkText(value, `meta value of ${key}`, 1024 * 1024);
      await db
        .insertInto('meta')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
        .execute();
    },
  };
}
