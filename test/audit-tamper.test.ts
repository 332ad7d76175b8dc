/** Editing any audit row or Merkle node in the database makes verification fail and name the entry. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { verifyExportedLog } from '../src/audit/log-verify.ts';
import { api, type Fixture, makeFixture, makeRelease, push, startApp } from './helpers/fixture.ts';

let fx: Fixture;
let url: string;
let token: string;
let close: () => Promise<void>;

before(async () => {
  fx = await makeFixture();
  const s = await startApp(fx);
  ({ url, token } = s);
  close = () => s.app.close();
  const call = api(url, token);
  for (const v of ['1.0.0', '1.0.1', '1.0.2']) await push(call, await makeRelease(fx, v));
  await call('POST', '/v1/promotions', { service: 'checkout', version: '9.9.9', environment: 'dev' }); // a denial
});
after(async () => {
  await close();
  fx.cleanup();
});

async function exportAndVerify(checkpoint: string, key: string) {
  const call = api(url, token);
  const exported = await call('GET', '/v1/audit/export');
  return verifyExportedLog({ logText: exported.text, checkpointNote: checkpoint, verifierKey: key });
}

test('an untouched log verifies online and offline', async () => {
  const call = api(url, token);
  const checkpoint = (await call('GET', '/v1/audit/checkpoint')).text;
  const key = (await call('GET', '/v1/audit/key')).text.trim();
  const r = await exportAndVerify(checkpoint, key);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal((await call('GET', '/v1/audit/verify')).json.ok, true);
});

test('editing each audit row is caught and the entry named, online and offline', async () => {
  const call = api(url, token);
  const checkpoint = (await call('GET', '/v1/audit/checkpoint')).text;
  const key = (await call('GET', '/v1/audit/key')).text.trim();
  const size = Number(checkpoint.split('\n')[1]);
  const db = new Database(path.join(fx.dataDir, 'stagegate.db'));
  try {
    for (const index of [0, Math.floor(size / 2), size - 1]) {
      const row = db.prepare('select entry from audit_entries where idx = ?').get(index) as { entry: string };
      db.prepare('update audit_entries set entry = ? where idx = ?').run(row.entry.replace(/"outcome":"[a-z]+"/, '"outcome":"allowed"').replace(/"time":"[^"]+"/, '"time":"2000-01-01T00:00:00.000Z"'), index);
      const offline = await exportAndVerify(checkpoint, key);
      assert.equal(offline.ok, false);
      assert.equal((offline as { index?: number }).index, index, JSON.stringify(offline));
      const online = (await call('GET', '/v1/audit/verify')).json;
      assert.equal(online.ok, false);
      assert.equal(online.index, index, JSON.stringify(online));
      db.prepare('update audit_entries set entry = ? where idx = ?').run(row.entry, index);
    }
    // a changed interior node is caught by the server's own check
    const node = db.prepare('select level, idx, hash from merkle_nodes where level = 1 limit 1').get() as { level: number; idx: number; hash: Buffer };
    const flipped = Buffer.from(node.hash);
    flipped[0] = flipped[0]! ^ 1;
    db.prepare('update merkle_nodes set hash = ? where level = ? and idx = ?').run(flipped, node.level, node.idx);
    assert.equal((await call('GET', '/v1/audit/verify')).json.ok, false);
    db.prepare('update merkle_nodes set hash = ? where level = ? and idx = ?').run(node.hash, node.level, node.idx);
    assert.equal((await call('GET', '/v1/audit/verify')).json.ok, true);
  } finally {
    db.close();
  }
});

test('a checkpoint signed by another key, or an edited checkpoint, does not verify', async () => {
  const call = api(url, token);
  const checkpoint = (await call('GET', '/v1/audit/checkpoint')).text;
  const key = (await call('GET', '/v1/audit/key')).text.trim();
  const lines = checkpoint.split('\n');
  lines[1] = String(Number(lines[1]) - 1);
  assert.equal((await exportAndVerify(lines.join('\n'), key)).ok, false);
  const { generateNoteKey } = await import('../src/audit/note.ts');
  const other = generateNoteKey(key.split('+')[0]!);
  assert.equal((await exportAndVerify(checkpoint, other.verifierKey)).ok, false);
});
