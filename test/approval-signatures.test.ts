/** Personal signatures on approvals: an environment can require them; the CLI's --sign-key makes them. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pae } from '../src/crypto/dsse.ts';
import { generateSigningKey, keyIdOf, writeKeyPair } from '../src/crypto/keys.ts';
import { api, cliPath, type Fixture, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

const run = promisify(execFile);
let fx: Fixture;
let url: string;
let close: () => Promise<void>;
const tokens: Record<string, string> = {};

before(async () => {
  fx = await makeFixture((y) =>
    y
      .replace('keys:\n  - name: ci\n    publicKey: keys/ci.pub', 'keys:\n  - name: ci\n    publicKey: keys/ci.pub\n  - name: alice-personal\n    publicKey: keys/alice.pub\n    owner: user:alice')
      .replace('    minSoak: 10s', '    approvals:\n      rules: [{users: [alice], count: 1}]\n      requireSignatures: true') +
      '\nidentities:\n  users:\n    - {name: alice, roles: [approver]}\n    - {name: carol, roles: [releaser]}\n',
  );
  await writeKeyPair(path.join(fx.projectDir, 'keys'), 'alice');
  const s = await startApp(fx);
  url = s.url;
  close = () => s.app.close();
  const admin = api(url, s.token);
  for (const who of ['alice', 'carol']) tokens[who] = (await admin('POST', '/v1/tokens', { name: who, actor: `user:${who}`, role: 'viewer' })).json.token;
  await push(admin, await makeRelease(fx, '1.0.0'));
  for (const env of ['dev', 'staging']) {
    const r = await api(url, tokens['carol'])('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: env });
    assert.equal((await waitTerminal(admin, r.json.promotion.id)).state, 'Succeeded');
  }
});
after(async () => {
  await close();
  fx.cleanup();
});

test('an environment that requires personal signatures refuses a plain approval, a foreign key and an edited statement, and takes --sign-key', async () => {
  const carol = api(url, tokens['carol']);
  const alice = api(url, tokens['alice']);
  const r = await carol('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'prod' });
  const id = r.json.promotion.id;
  for (let i = 0; i < 60 && (await carol('GET', `/v1/promotions/${id}`)).json.promotion.state !== 'AwaitingApproval'; i++) await new Promise((res) => setTimeout(res, 50));

  const plain = await alice('POST', `/v1/promotions/${id}/approvals`, { decision: 'approve', comment: 'ok' });
  assert.equal(plain.status, 403, plain.text);
  assert.match(plain.json.error.message, /requires each approver's personal signature/);

  const s = await alice('GET', `/v1/promotions/${id}/approval-statement?decision=approve&comment=ok`);
  assert.equal(s.status, 200, s.text);
  const pre = pae(s.json.payloadType, Buffer.from(s.json.payload, 'base64'));
  const stranger = createPrivateKey(generateSigningKey().privateKeyPem);
  const foreign = await alice('POST', `/v1/promotions/${id}/approvals`, {
    decision: 'approve',
    comment: 'ok',
    signed: { statement: s.json.statement, keyid: keyIdOf(createPublicKey(stranger)), sig: sign('sha256', pre, { key: stranger, dsaEncoding: 'der' }).toString('base64') },
  });
  assert.equal(foreign.status, 422, foreign.text);
  assert.match(foreign.json.error.message, /not a personal key of the approver/);

  const own = createPrivateKey(await readFile(path.join(fx.projectDir, 'keys', 'alice.key'), 'utf8'));
  const edited = await alice('POST', `/v1/promotions/${id}/approvals`, {
    decision: 'approve',
    comment: 'something else',
    signed: { statement: s.json.statement, keyid: keyIdOf(createPublicKey(own)), sig: sign('sha256', pre, { key: own, dsaEncoding: 'der' }).toString('base64') },
  });
  assert.equal(edited.status, 422, edited.text);

  // the server runs in this process: the CLI must run asynchronously (spawnSync would block the server)
  const cli = await run(process.execPath, [cliPath, 'approve', id, '--comment', 'signed by me', '--sign-key', path.join(fx.projectDir, 'keys', 'alice.key'), '--server', url, '--token', tokens['alice']!]);
  assert.match(cli.stdout, /approved prm_/);
  const done = await waitTerminal(carol, id);
  assert.equal(done.state, 'Succeeded', done.message);
});
