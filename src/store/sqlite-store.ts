/**
 * The embedded Store: SQLite through better-sqlite3 and Kysely. One connection; Kysely's driver
 * holds it behind a mutex for a whole transaction, so transactions run one after another.
 * Transactions begin IMMEDIATE (take the write lock up front, waiting up to busy_timeout for another
 * process) and migrations run on open, inside a transaction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type DialectAdapter,
  type Driver,
  Kysely,
  SqliteDialect,
  type SqliteDatabase,
  sql,
} from 'kysely';
import { DomainError, isDomainError } from '../domain/errors.ts';
import { createRepos } from './kysely-repos.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';
import type { Repos, Store } from './store.ts';

export interface SqliteStoreOptions {
  /** database file, created with its directory if missing; `:memory:` for a throw-away store */
  file: string;
  /** `full` (default): a committed transaction survives power loss; `normal`: survives a crash of the process only */
  durability?: 'full' | 'normal';
}

/** prepared statements kept per SQL text; Kysely would otherwise prepare every query anew */
const STATEMENT_CACHE = 200;

function cachingDatabase(raw: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => raw.close(),
    prepare(text) {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text);
      } else {
        stmt = raw.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

function sqliteDialect(database: SqliteDatabase): Dialect {
  const base = new SqliteDialect({ database });
  return {
    // SQLite has transactional DDL; Kysely's adapter says no, which would run migrations unprotected
    createAdapter: (): DialectAdapter => Object.create(base.createAdapter(), { supportsTransactionalDdl: { value: true } }),
    createDriver: (): Driver => {
      const d = base.createDriver();
      return {
        init: () => d.init(),
        acquireConnection: () => d.acquireConnection(),
        beginTransaction: async (c: DatabaseConnection) => {
          await c.executeQuery(CompiledQuery.raw('begin immediate'));
        },
        commitTransaction: (c) => d.commitTransaction(c),
        rollbackTransaction: (c) => d.rollbackTransaction(c),
        releaseConnection: (c) => d.releaseConnection(c),
        destroy: () => d.destroy(),
      };
    },
    createQueryCompiler: () => base.createQueryCompiler(),
    createIntrospector: (db) => base.createIntrospector(db),
  };
}

function openRaw(file: string, durability: 'full' | 'normal'): BetterSqlite3.Database {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const raw = new BetterSqlite3(file);
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 5000');
  } catch (e) {
    raw.close();
    throw e;
  }
  return raw;
}

/** Throws instead of deadlocking when a transaction callback reaches for store.read or a nested transaction. */
const inTransaction = new AsyncLocalStorage<true>();

function nestedError(what: string): DomainError {
  return new DomainError('internal', `${what} was called inside store.transaction(); it would wait for the transaction forever`, {
    fix: 'inside a transaction use only the repositories handed to the callback (tx.releases, tx.audit, ...)',
  });
}

function guardReads(repos: Repos): Repos {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, repo] of Object.entries(repos) as [string, Record<string, unknown>][]) {
    const wrapped: Record<string, unknown> = {};
    for (const [method, fn] of Object.entries(repo)) {
      wrapped[method] = (...args: unknown[]) => {
        if (inTransaction.getStore()) return Promise.reject(nestedError(`store.read.${name}.${method}()`));
        return (fn as (...a: unknown[]) => unknown)(...args);
      };
    }
    out[name] = wrapped;
  }
  return out as unknown as Repos;
}

interface Job {
  fn: (tx: Repos) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** transactions that queue up while one commits share the next commit (and its fsync) */
const MAX_GROUP = 64;

/**
 * Group commit. Each caller's transaction runs alone, in order, inside a SAVEPOINT of one SQLite
 * transaction; one that throws is rolled back to its savepoint and fails alone. Every caller's
 * promise settles only after the COMMIT that holds its writes (or fails with it), so a resolved
 * transaction is as durable as before. Alone, a transaction is a batch of one.
 */
function createGroupCommit(kysely: Kysely<Database>) {
  const queue: Job[] = [];
  let draining = false;

  async function runBatch(batch: Job[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await kysely.transaction().execute(async (trx) => {
        for (const job of batch) {
          await sql`savepoint sg_tx`.execute(trx);
          try {
            const value = await inTransaction.run(true, () => job.fn(createRepos(trx)));
            await sql`release sg_tx`.execute(trx);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await sql`rollback to sg_tx`.execute(trx);
            await sql`release sg_tx`.execute(trx);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) await runBatch(queue.splice(0, MAX_GROUP));
    } finally {
      draining = false;
    }
  }

  return function transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!draining) void drain();
    });
  };
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { file, durability = 'full' } = options;
  if (durability !== 'full' && durability !== 'normal') {
    throw new DomainError('invalid_input', `durability must be "full" or "normal", got ${String(durability).slice(0, 40)}`, {
      field: 'durability',
      fix: 'use "full" (survives power loss) unless you measured that you need "normal"',
    });
  }
  let db: Kysely<Database> | undefined;
  try {
    db = new Kysely<Database>({ dialect: sqliteDialect(cachingDatabase(openRaw(file, durability))) });
    await migrateToLatest(db, 'sqlite', file);
  } catch (e) {
    await db?.destroy().catch(() => undefined);
    if (isDomainError(e)) throw e;
    throw new DomainError('unavailable', `cannot open the SQLite database ${file}: ${(e as Error).message}`, {
      file,
      fix: 'point --db at a stagegate database file (or a new path) in a writable directory, or restore the file from a backup',
    });
  }
  const kysely = db;
  const read = guardReads(createRepos(kysely));
  const groupCommit = createGroupCommit(kysely);
  let closed = false;
  return {
    kind: 'sqlite',
    read,
    transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
      if (inTransaction.getStore()) return Promise.reject(nestedError('store.transaction()'));
      return groupCommit(fn);
    },
    async close() {
      if (closed) return;
      closed = true;
      await kysely.destroy();
    },
  };
}
