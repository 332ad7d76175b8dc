import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeRandomFile, MiB, secondsSince } from './util.ts';
const f = '/tmp/sg-diag.bin';
rmSync(f, { force: true });
const size = 256 * MiB;
await writeRandomFile(f, size);
async function t(label: string, fn: () => Promise<void>) {
  for (let i = 0; i < 2; i++) { const s = process.hrtime.bigint(); await fn(); console.log(label, (size / MiB / secondsSince(s)).toFixed(0), 'MiB/s'); }
}
const tap = (h: ReturnType<typeof createHash>) => new Transform({ transform(c: Buffer, _e, cb) { h.update(c); cb(null, c); } });
await t('readstream64k hash only', async () => { const h = createHash('sha256'); for await (const c of createReadStream(f)) h.update(c); h.digest(); });
await t('readstream4M hash only', async () => { const h = createHash('sha256'); for await (const c of createReadStream(f, { highWaterMark: 4 * MiB })) h.update(c); h.digest(); });
await t('readstream64k tap -> null', async () => { const h = createHash('sha256'); await pipeline(createReadStream(f), tap(h), new Writable({ write(_c, _e, cb) { cb(); } })); });
await t('readstream64k tap -> file', async () => { rmSync('/tmp/sg-diag.out', { force: true }); const h = createHash('sha256'); await pipeline(createReadStream(f), tap(h), createWriteStream('/tmp/sg-diag.out')); });
await t('readstream1M tap -> file', async () => { rmSync('/tmp/sg-diag.out', { force: true }); const h = createHash('sha256'); await pipeline(createReadStream(f, { highWaterMark: MiB }), tap(h), createWriteStream('/tmp/sg-diag.out', { highWaterMark: MiB })); });
await t('readstream4M tap -> file', async () => { rmSync('/tmp/sg-diag.out', { force: true }); const h = createHash('sha256'); await pipeline(createReadStream(f, { highWaterMark: 4 * MiB }), tap(h), createWriteStream('/tmp/sg-diag.out', { highWaterMark: 4 * MiB })); });
await t('readstream4M -> file (no hash)', async () => { rmSync('/tmp/sg-diag.out', { force: true }); await pipeline(createReadStream(f, { highWaterMark: 4 * MiB }), createWriteStream('/tmp/sg-diag.out', { highWaterMark: 4 * MiB })); });
rmSync(f, { force: true }); rmSync('/tmp/sg-diag.out', { force: true });
