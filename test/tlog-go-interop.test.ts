/**
 * Interop: Go's sumdb/note and sumdb/tlog (an independent implementation) verify our signed
 * checkpoint, every inclusion proof and consistency proofs. Needs Debian's golang-go and
 * golang-golang-x-mod-dev (.ci/run installs them); skipped, saying so, where they are missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { api, makeFixture, makeRelease, push, repoRoot, startApp } from './helpers/fixture.ts';

const GOPATH = '/usr/share/gocode';
const haveGo = spawnSync('go', ['version']).status === 0 && existsSync(path.join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog'));

function goCheck(input: unknown) {
  return spawnSync('go', ['run', path.join(repoRoot, 'test/interop/tlogcheck/main.go')], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    env: { ...process.env, GOPATH, GO111MODULE: 'off', GOCACHE: mkdtempSync(path.join(tmpdir(), 'gocache-')), GOFLAGS: '' },
    timeout: 120_000,
  });
}

test('Go sumdb/note and sumdb/tlog verify our checkpoint and proofs', { skip: haveGo ? false : 'go or golang-golang-x-mod-dev not installed (apt-get install golang-go golang-golang-x-mod-dev)', timeout: 180_000 }, async () => {
  const fx = await makeFixture();
  const s = await startApp(fx);
  try {
    const call = api(s.url, s.token);
    for (const v of ['1.0.0', '1.0.1', '1.0.2', '1.0.3']) await push(call, await makeRelease(fx, v));
    await call('POST', '/v1/promotions', { service: 'nope', version: '1', environment: 'dev' });
    const midSize = (await call('GET', '/v1/audit/entries?limit=1')).json.size;
    const midRoot = (await call('GET', `/v1/audit/proof?index=0&size=${midSize}`)).json.rootHash;
    for (const v of ['2.0.0', '2.0.1']) await push(call, await makeRelease(fx, v));
    const checkpoint = (await call('GET', '/v1/audit/checkpoint')).text;
    const verifierKey = (await call('GET', '/v1/audit/key')).text.trim();
    const size = Number(checkpoint.split('\n')[1]);
    const entries = (await call('GET', `/v1/audit/entries?from=0&limit=1000`)).json.entries;
    const { encodeEntry } = await import('../src/audit/entry.ts');
    const inclusion = [];
    for (let i = 0; i < size; i++) {
      const p = (await call('GET', `/v1/audit/proof?index=${i}&size=${size}`)).json;
      inclusion.push({ ...p, leafData: encodeEntry(entries[i].entry) });
    }
    const consistency = [(await call('GET', `/v1/audit/consistency?from=${midSize}&to=${size}`)).json];
    assert.equal(consistency[0].root1, midRoot);
    const ok = goCheck({ verifierKey, checkpoint, inclusion, consistency });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), `ok ${size + 1}`);

    // and Go refuses a forged proof and a checkpoint under another key
    const bad = structuredClone(inclusion);
    bad[1]!.proof[0] = Buffer.alloc(32, 7).toString('base64');
    assert.notEqual(goCheck({ verifierKey, checkpoint, inclusion: bad, consistency: [] }).status, 0);
    const { generateNoteKey } = await import('../src/audit/note.ts');
    const other = generateNoteKey(verifierKey.split('+')[0]!).verifierKey;
    assert.notEqual(goCheck({ verifierKey: other, checkpoint, inclusion, consistency }).status, 0);
  } finally {
    await s.app.close();
    fx.cleanup();
  }
});
