import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { isDomainError } from '../domain/errors.ts';
import { storeContract } from './contract.ts';
import { auditEntry, promotion, rejectsWith, release } from './contract-fixtures.ts';
import { openSqliteStore } from './sqlite-store.ts';
import { knownMigrationNames } from './migrations/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagegate-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = (): string => join(dir, `nested/dir/db-${++n}.sqlite`);

storeContract('sqlite file', () => openSqliteStore({ file: freshFile() }));
storeContract('sqlite :memory:', () => openSqliteStore({ file: ':memory:' }));
storeContract('sqlite file, durability normal', () => openSqliteStore({ file: freshFile(), durability: 'normal' }));

/** edit the file behind the store's back, as an operator or a newer stagegate could */
function raw(file: string, fn: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

describe('openSqliteStore', () => {
  test('creates the directory, uses WAL, and reopening keeps data and migrates nothing twice', async () => {
    const file = freshFile();
    const s1 = await openSqliteStore({ file });
    assert.equal(s1.kind, 'sqlite');
    await s1.read.releases.insert(release('checkout', '1.0.0'));
    await s1.close();
    await s1.close();
    assert.ok(existsSync(file));
    const s2 = await openSqliteStore({ file });
    assert.equal(await s2.read.releases.count(), 1);
    await s2.close();
    raw(file, (db) => {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(db.prepare('select name from kysely_migration').all(), knownMigrationNames().map((name) => ({ name })));
    });
  });

  test('a database written by a newer stagegate is refused before anything changes', async () => {
    const file = freshFile();
    await (await openSqliteStore({ file })).close();
    raw(file, (db) => db.prepare("insert into kysely_migration (name, timestamp) values ('0002-future', '2030-01-01')").run());
    await rejectsWith(() => openSqliteStore({ file }), 'conflict', /0002-future/, /newer stagegate/);
    await assert.rejects(openSqliteStore({ file }), (e) => isDomainError(e) && e.details.file === file);
  });

  test('a path that is not a database is refused with the path named', async () => {
    const notDb = join(dir, 'not-a-db.sqlite');
    writeFileSync(notDb, 'this is not sqlite, just text that is long enough to have a header '.repeat(20));
    await rejectsWith(() => openSqliteStore({ file: notDb }), 'unavailable', /not-a-db\.sqlite/);
    const aDir = join(dir, 'a-directory');
    mkdirSync(aDir);
    await rejectsWith(() => openSqliteStore({ file: aDir }), 'unavailable', /a-directory/);
    await rejectsWith(() => openSqliteStore({ file: freshFile(), durability: 'off' as never }), 'invalid_input', /durability/);
  });

  test('values changed behind the store are refused when read, not trusted', async () => {
    const file = freshFile();
    const s = await openSqliteStore({ file });
    const r = release('checkout', '1.0.0');
    await s.read.releases.insert(r);
    for (const id of ['p1', 'p2', 'p3']) await s.read.promotions.insert(promotion(id, r, 'dev'));
    raw(file, (db) => {
      db.prepare("update promotions set gates = '[{\"gate\":\"x\"}]' where id = 'p1'").run();
      db.prepare("update promotions set gates = 'not json' where id = 'p2'").run();
      db.prepare("update promotions set state = 'Teleported' where id = 'p3'").run();
      db.prepare("update release_subjects set kind = 'binary' where position = 0").run();
    });
    await rejectsWith(() => s.read.promotions.get('p1'), 'internal', /p1 gates: 0\.passed/);
    await rejectsWith(() => s.read.promotions.get('p2'), 'internal', /not JSON/);
    await rejectsWith(() => s.read.promotions.get('p3'), 'internal', /Teleported/);
    await rejectsWith(() => s.read.promotions.list({}), 'internal', /promotions row/);
    await rejectsWith(() => s.read.releases.get(r.id), 'internal', /kind/);
    await s.close();
  });
});

describe('sqlite transactions', () => {
  test('a nested transaction or a store.read call inside a transaction fails instead of deadlocking', async () => {
    const s = await openSqliteStore({ file: ':memory:' });
    await rejectsWith(() => s.transaction(async () => s.transaction(async () => 1)), 'internal', /inside store\.transaction/);
    await rejectsWith(
      () => s.transaction(async (tx) => {
        await tx.audit.appendEntry(auditEntry(0));
        return s.read.audit.size();
      }),
      'internal',
      /store\.read\.audit\.size/,
    );
    assert.equal(await s.read.audit.size(), 0, 'the outer transaction rolled back');
    assert.equal(await s.transaction(async (tx) => tx.audit.size()), 0);
    await s.close();
  });

  test('control: the same 50 writers without transactions do collide (the serialization test has teeth)', async () => {
    const s = await openSqliteStore({ file: ':memory:' });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, async () => {
        const size = await s.read.audit.size();
        await new Promise((resolve) => setImmediate(resolve));
        await s.read.audit.appendEntry(auditEntry(size));
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    assert.ok(failed.length > 0);
    assert.ok(failed.every((r) => isDomainError(r.reason) && r.reason.code === 'conflict'));
    assert.equal(await s.read.audit.size(), 50 - failed.length);
    await s.close();
  });

  test('a read outside waits for a running transaction and sees only committed state', async () => {
    const s = await openSqliteStore({ file: ':memory:' });
    let release1: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release1 = resolve;
    });
    const tx = s.transaction(async (t) => {
      await t.audit.appendEntry(auditEntry(0));
      await gate;
    });
    const read = s.read.audit.size();
    release1();
    await tx;
    assert.equal(await read, 1);
    await s.close();
  });
});
