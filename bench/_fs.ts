import { openSync, writeSync, fsyncSync, fdatasyncSync, rmSync, mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
rmSync('/tmp/sg-fs', { recursive: true, force: true }); mkdirSync('/tmp/sg-fs');
const fd = openSync('/tmp/sg-fs/f', 'w'); const b = Buffer.alloc(4096, 1);
let t = performance.now(); for (let i = 0; i < 2000; i++) { writeSync(fd, b); fdatasyncSync(fd); } console.log('append+fdatasync us', (performance.now() - t) / 2000);
for (const sync of ['FULL', 'NORMAL']) {
  const db = new Database(`/tmp/sg-fs/${sync}.db`); db.pragma('journal_mode = WAL'); db.pragma(`synchronous = ${sync}`);
  db.exec('create table t (i integer primary key, e text)'); const ins = db.prepare('insert into t (e) values (?)');
  const tx = db.transaction(() => ins.run('x'.repeat(200)));
  t = performance.now(); for (let i = 0; i < 3000; i++) tx(); console.log(sync, 'raw sqlite 1 row/tx per s', 3000 / ((performance.now() - t) / 1000));
  db.close();
}
rmSync('/tmp/sg-fs', { recursive: true, force: true });
