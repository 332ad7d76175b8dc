/**
 * Bad input against a real server: every refusal is a 4xx with {error: {code, message, details}},
 * lands in the audit log as a denial, and changes nothing else (releases, promotions, blobs, files).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleToJson, toBundle } from '../src/crypto/bundle.ts';
import { signDsse } from '../src/crypto/dsse.ts';
import { generateSigningKey, keyIdOf } from '../src/crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE } from '../src/crypto/statement.ts';
import { errorCodes } from '../src/domain/errors.ts';
import type { App } from '../src/app.ts';
import { ADMIN_TOKEN as ADMIN, api, type Fixture, makeFixture, makeRelease, push, startApp } from './helpers/fixture.ts';

type Call = ReturnType<typeof api>;
type Res = Awaited<ReturnType<Call>>;
type Release = Awaited<ReturnType<typeof makeRelease>>;

let fx: Fixture;
let app: App;
let url: string;
let call: Call;
let rel: Release;

/** every file under the fixture folder with its size, except the database (the audit log lives there) */
function files(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!/^stagegate\.db/.test(e.name)) out.push(`${path.relative(fx.dir, p)} ${statSync(p).size}`);
    }
  };
  walk(fx.dir);
  return out.sort();
}

/** every read is itself audited, so the log size is read last (its own allow decision included) */
async function snapshot() {
  const releases = await call('GET', '/v1/releases?limit=1000');
  const promotions = await call('GET', '/v1/promotions?limit=1000');
  const tokens = await call('GET', '/v1/tokens');
  const audit = await call('GET', '/v1/audit/entries?limit=1');
  return {
    auditSize: audit.json.size as number,
    state: { releases: releases.json.releases, promotions: promotions.json.promotions, tokens: tokens.json.tokens, files: files() },
  };
}

async function lastEntry(size: number): Promise<any> {
  const r = await call('GET', `/v1/audit/entries?from=${size - 1}&limit=1`);
  return r.json.entries[0].entry;
}

function assertError(r: Res, status: number, code: string, message?: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.ok(errorCodes.includes(r.json?.error?.code), r.text);
  assert.equal(r.json.error.code, code);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 10, r.text);
  assert.equal(typeof r.json.error.details, 'object');
  if (message) assert.match(r.json.error.message, message);
}

/** run a bad request: expect the error, a denied audit entry last, nothing else changed */
async function refused(
  send: () => Promise<Res>,
  want: { status: number; code: string; message?: RegExp; action?: string; fix?: boolean; audited?: boolean },
): Promise<{ res: Res; entry: any }> {
  const before = await snapshot();
  const res = await send();
  assertError(res, want.status, want.code, want.message);
  if (want.fix !== false) assert.ok(res.json.error.details.fix || res.json.error.details.field, `no fix or field in ${res.text}`);
  // the request's own entries: from the size before to the size now, less this read's allow decision
  const sizeNow = (await call('GET', '/v1/audit/entries?limit=1')).json.size as number;
  const added = sizeNow - 1 - before.auditSize;
  let entry: any;
  if (want.audited !== false) {
    // the denial is the last of them; before it at most the guard's recorded allow decision
    assert.ok(added === 1 || added === 2, `expected the denial (and at most one authorization decision) in the audit log, got ${added} entries`);
    entry = await lastEntry(before.auditSize + added);
    assert.equal(entry.outcome, 'denied');
    if (want.action) assert.equal(entry.action, want.action);
  }
  const afterState = await snapshot();
  assert.deepEqual(afterState.state, before.state, 'a refusal changed state');
  return { res, entry };
}

/** sign an edited copy of the release statement with the project's trusted key */
async function resign(edit: (statement: any) => void): Promise<string> {
  const statement = JSON.parse(Buffer.from(JSON.parse(rel.bundleJson).dsseEnvelope.payload, 'base64').toString('utf8'));
  edit(statement);
  const key = createPrivateKey(await readFile(fx.keyFile, 'utf8'));
  const keyId = keyIdOf(createPublicKey(key));
  return bundleToJson(toBundle(signDsse(INTOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key, keyId), keyId));
}

/** a raw request (fetch normalizes paths and may fail on an early 413) */
function raw(method: string, p: string, body: Buffer | string, headers: Record<string, string>): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, method, path: p, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: JSON.parse(text) });
      });
    });
    req.on('error', (e) => (req.headersSent ? undefined : reject(e)));
    req.end(body);
  });
}

const put = (digest: string, bytes = 'hello') => () => call('PUT', `/v1/blobs/${digest}`, bytes, { 'content-type': 'application/octet-stream' });

before(async () => {
  fx = await makeFixture();
  ({ app, url } = await startApp(fx));
  call = api(url, ADMIN);
  rel = await makeRelease(fx, '1.0.0');
  assert.equal((await push(call, rel)).status, 201);
});
after(async () => {
  await app.close();
  fx.cleanup();
});

describe('request bodies', () => {
  test('malformed JSON is 400 and audited', async () => {
    await refused(() => call('POST', '/v1/releases', '{"bundle": '), { status: 400, code: 'invalid_input', message: /not valid JSON/, action: 'release.push' });
    await refused(() => call('POST', '/v1/promotions', '[1,'), { status: 400, code: 'invalid_input', message: /not valid JSON/, action: 'promotion.request' });
  });
  test('unknown fields in push and promote bodies are named', async () => {
    await refused(() => call('POST', '/v1/releases', { bundle: rel.bundleJson, force: true }), { status: 400, code: 'invalid_input', message: /"force"/ });
    await refused(() => call('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev', skipGates: true }), {
      status: 400,
      code: 'invalid_input',
      message: /"skipGates"/,
      action: 'promotion.request',
    });
  });
  test('a body over 4 MiB is 413 and audited', async () => {
    const body = JSON.stringify({ bundle: 'x'.repeat(4 * 1024 * 1024 + 1) });
    const { entry } = await refused(() => raw('POST', '/v1/releases', body, { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }), {
      status: 413,
      code: 'payload_too_large',
    });
    assert.equal(entry.subject, 'POST /v1/releases');
  });
});

describe('signed releases', () => {
  test('a flipped signature byte is 422 signature_invalid', async () => {
    const b = JSON.parse(rel.bundleJson);
    const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
    sig[8] = (sig[8] ?? 0) ^ 1;
    b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    const { entry } = await refused(() => call('POST', '/v1/releases', { bundle: b }), { status: 422, code: 'signature_invalid', action: 'release.push' });
    assert.match(entry.subject, /^release:sha256:/);
  });
  test('a release signed by an unknown key is 422 and names the key', async () => {
    const other = generateSigningKey();
    const keyFile = path.join(fx.dir, 'other.key');
    await writeFile(keyFile, other.privateKeyPem);
    const r = await makeRelease(fx, '2.0.0', { keyFile });
    await refused(() => call('POST', '/v1/releases', { bundle: r.bundleJson }), { status: 422, code: 'signature_invalid', message: new RegExp(other.keyId.replace(/[+/]/g, '.')) });
  });
  test('a body that is not a Sigstore bundle is 400 naming the field', async () => {
    const { res } = await refused(() => call('POST', '/v1/releases', { bundle: { hello: 'world' } }), { status: 400, code: 'invalid_input', message: /Sigstore/ });
    assert.equal(res.json.error.details.field, 'mediaType');
    await refused(() => call('POST', '/v1/releases', { bundle: 'not json at all' }), { status: 400, code: 'invalid_input' });
  });
  test('a signed release of an unknown service is 404', async () => {
    const r = await makeRelease(fx, '1.0.0', { service: 'nope' });
    await refused(() => call('POST', '/v1/releases', { bundle: r.bundleJson }), { status: 404, code: 'not_found', message: /"nope"/ });
  });
  test('path tricks and bad versions inside a signed statement are refused', async () => {
    const trick = await resign((s) => {
      s.subject[0].name = '../../etc/passwd';
    });
    await refused(() => call('POST', '/v1/releases', { bundle: trick }), { status: 400, code: 'invalid_input', message: /"\.\." path segment/ });
    const version = await resign((s) => {
      for (const sub of s.subject) sub.annotations['stagegate.dev/version'] = '../../x';
      s.predicate.buildDefinition.externalParameters.version = '../../x';
    });
    await refused(() => call('POST', '/v1/releases', { bundle: version }), { status: 400, code: 'invalid_input', message: /version "\.\.\/\.\.\/x" is not valid/ });
  });
  test('the same version with other content is 409 naming both digests', async () => {
    const r = await makeRelease(fx, '1.0.0', { extra: ' other build' });
    const { res } = await refused(() => call('POST', '/v1/releases', { bundle: r.bundleJson }), { status: 409, code: 'conflict' });
    assert.ok(res.json.error.message.includes(rel.releaseId) && res.json.error.message.includes(r.releaseId), res.json.error.message);
  });
  test('an identical re-push is 200 and creates nothing', async () => {
    const before = await snapshot();
    const res = await call('POST', '/v1/releases', { bundle: rel.bundleJson });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.created, false);
    const sizeNow = (await call('GET', '/v1/audit/entries?limit=1')).json.size as number;
    // the push's allow decision and its `unchanged` entry, then this read's decision
    assert.equal(sizeNow, before.auditSize + 3);
    const decision = await lastEntry(before.auditSize + 1);
    assert.equal(decision.outcome, 'allowed');
    assert.deepEqual(decision.details.policies, ['admin-all']);
    const entry = await lastEntry(before.auditSize + 2);
    assert.equal(entry.outcome, 'succeeded');
    assert.deepEqual(entry.details, { unchanged: true });
    const afterState = await snapshot();
    assert.deepEqual(afterState.state, before.state);
  });
});

describe('promotions', () => {
  const promote = (body: Record<string, string>) => () => call('POST', '/v1/promotions', body);
  test('unknown environment, unknown service and a version never pushed are 404 with the fix', async () => {
    const env = await refused(promote({ service: 'checkout', version: '1.0.0', environment: 'qa' }), { status: 404, code: 'not_found', message: /"qa"/, action: 'promotion.request' });
    assert.match(env.res.json.error.details.fix, /dev, staging, prod/);
    const svc = await refused(promote({ service: 'cart', version: '1.0.0', environment: 'dev' }), { status: 404, code: 'not_found', message: /"cart"/ });
    assert.match(svc.res.json.error.details.fix, /checkout/);
    await refused(promote({ service: 'checkout', version: '9.9.9', environment: 'dev' }), { status: 404, code: 'not_found', message: /checkout@9\.9\.9/ });
  });
});

describe('blobs', () => {
  test('path tricks, uppercase and short hex in the digest are 400 and write nothing', async () => {
    for (const d of ['..%2F..%2Fetc%2Fpasswd', 'sha256:..%2F..%2Fx', `sha256:${'A'.repeat(64)}`, 'sha256:abc123', `sha512:${'a'.repeat(64)}`]) {
      await refused(put(d), { status: 400, code: 'invalid_input', action: 'blob.upload' });
    }
    // unnormalized dot segments on the wire
    const res = await raw('PUT', '/v1/blobs/sha256:../../x', 'hello', { authorization: `Bearer ${ADMIN}` });
    assert.ok(res.status >= 400 && res.status < 500, res.text);
    assert.ok(!files().some((f) => /(^|\/)(x|passwd) /.test(f)));
  });
  test('bytes that do not match the digest are 422 and no blob is stored', async () => {
    const { res } = await refused(put(`sha256:${'a'.repeat(64)}`), { status: 422, code: 'digest_mismatch', action: 'blob.upload', fix: false });
    assert.equal(res.json.error.details.expected, `sha256:${'a'.repeat(64)}`);
  });
});

describe('routes and query parameters', () => {
  test('an unknown route is 404 and a wrong method is 4xx', async () => {
    await refused(() => call('GET', '/v1/nothing-here'), { status: 404, code: 'not_found' });
    await refused(() => call('DELETE', '/v1/releases'), { status: 400, code: 'invalid_input', message: /method DELETE/ });
  });
  test('query parameters out of range are 400 naming the parameter', async () => {
    for (const p of ['/v1/releases?limit=0', '/v1/releases?limit=abc', '/v1/promotions?limit=1001', '/v1/audit/entries?limit=-1', '/v1/releases?service=Bad_Name', '/v1/audit/proof?index=999999']) {
      const { res } = await refused(() => call('GET', p), { status: 400, code: 'invalid_input' });
      assert.ok(res.json.error.details.field, p);
    }
  });
  test('a bad release reference and broken percent-encoding are 400, not 500', async () => {
    await refused(() => call('GET', '/v1/releases/checkout@..%2F..'), { status: 400, code: 'invalid_input' });
    await refused(() => call('GET', '/v1/releases/%ZZ'), { status: 400, code: 'invalid_input' });
    await refused(put('sha256:%E0%A4%A'), { status: 400, code: 'invalid_input' });
  });
});

describe('authentication and authorization', () => {
  const sent: string[] = [];
  const as = (token: string | undefined, headers: Record<string, string> = {}) => () => {
    if (token) sent.push(token);
    return api(url, token)('GET', '/v1/releases', undefined, headers);
  };
  test('no, malformed, unknown and wrong-secret tokens are 401 auth.failed without the secret', async () => {
    const cases: Array<[() => Promise<Res>, RegExp]> = [
      [as(undefined), /no Authorization/],
      [as(undefined, { authorization: 'Basic dXNlcjpwYXNz' }), /malformed/],
      [as('sgt_short_x'), /malformed/],
      [as('sgt_unknownid01_SECRETsecretSECRETsecret0001'), /unknown token/],
      [as('sgt_testadmin0001_WRONGwrongWRONGwrongWRONG0002'), /unknown token or wrong secret/],
    ];
    for (const [send, reason] of cases) {
      const { entry } = await refused(send, { status: 401, code: 'unauthenticated', action: 'auth.failed' });
      assert.match(entry.details.reason, reason);
      assert.equal(entry.actor, 'anonymous');
      assert.ok(!JSON.stringify(entry).includes('SECRET') && !JSON.stringify(entry).includes('WRONG'), JSON.stringify(entry));
    }
  });
  test('a viewer gets 403 on push and promote, audited; a revoked token is 401', async () => {
    const created = await call('POST', '/v1/tokens', { name: 'val', actor: 'user:val', role: 'viewer' });
    assert.equal(created.status, 201, created.text);
    const viewer = api(url, created.json.token);
    sent.push(created.json.token);
    const push1 = await refused(() => viewer('POST', '/v1/releases', { bundle: rel.bundleJson }), { status: 403, code: 'forbidden', action: 'release.push' });
    assert.equal(push1.entry.actor, 'user:val');
    const prom = await refused(() => viewer('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' }), {
      status: 403,
      code: 'forbidden',
      action: 'promotion.request',
    });
    assert.match(prom.res.json.error.details.fix, /viewer/);
    assert.equal((await call('DELETE', `/v1/tokens/${created.json.record.id}`)).status, 200);
    const { entry } = await refused(() => viewer('GET', '/v1/releases'), { status: 401, code: 'unauthenticated', action: 'auth.failed' });
    assert.match(entry.details.reason, /revoked/);
  });
  test('no token secret appears in the audit export', async () => {
    const exported = await call('GET', '/v1/audit/export');
    assert.equal(exported.status, 200);
    for (const t of [ADMIN, ...sent]) {
      const secret = t.split('_')[2];
      if (secret && secret.length >= 10) assert.ok(!exported.text.includes(secret), `secret of ${t.slice(0, 16)}... leaked`);
    }
  });
});
