/**
 * Property tests over the HTTP API: whatever the body, path, query or Authorization header, the
 * server answers < 500, every error is JSON with a code from the closed list, and it stays alive.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { App } from '../src/app.ts';
import { bundleToJson, toBundle } from '../src/crypto/bundle.ts';
import { signDsse } from '../src/crypto/dsse.ts';
import { keyIdOf } from '../src/crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE } from '../src/crypto/statement.ts';
import { errorCodes } from '../src/domain/errors.ts';
import { ADMIN_TOKEN, type Fixture, makeFixture, makeRelease, startApp } from './helpers/fixture.ts';

const RUNS = 200;
let fx: Fixture;
let app: App;
let port: number;
let bundle: any;
let statement: any;

interface Answer {
  status: number;
  text: string;
  contentType: string;
}

/** node:http keeps the path exactly as given (fetch would normalize it) */
function send(method: string, path: string, opts: { body?: string; auth?: string | null } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? `Bearer ${ADMIN_TOKEN}` : opts.auth;
  if (auth !== null) headers['authorization'] = auth;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function assertSane(a: Answer, what: string): void {
  assert.ok(a.status >= 200 && a.status < 500, `${what}: status ${a.status}: ${a.text.slice(0, 300)}`);
  if (a.status >= 400) {
    assert.match(a.contentType, /application\/json/, what);
    const body = JSON.parse(a.text) as { error: { code: string; message: string; details: unknown } };
    assert.ok((errorCodes as readonly string[]).includes(body.error.code), `${what}: code ${body.error.code}`);
    assert.notEqual(body.error.code, 'internal', what);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(typeof body.error.details, 'object');
  }
}

async function healthy(): Promise<void> {
  const h = await send('GET', '/healthz', { auth: null });
  assert.equal(h.status, 200);
}

/** every path to a leaf or branch of a JSON value */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [prefix, ...keys.flatMap((k) => paths((v as Record<string | number, unknown>)[k], [...prefix, k]))];
}

/** replace (or delete, when `value` is undefined) the value at one path of a copy */
function mutate(v: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let node = copy;
  for (const k of at.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
/** a path segment: arbitrary text percent-encoded, or raw printable ASCII (may hold broken % escapes) */
const segment = fc.oneof(fc.string({ maxLength: 60 }).map(encodeURIComponent), fc.string({ unit: printable, maxLength: 60 }).map((s) => s.replace(/[?#]/g, '%')));
const name = fc.oneof(fc.constantFrom('checkout', 'nope', 'dev', 'staging', 'prod', ''), fc.string({ maxLength: 80 }));
const jsonBody = fc.oneof(fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }));

before(async () => {
  fx = await makeFixture();
  let url: string;
  ({ app, url } = await startApp(fx, { authMaxFailures: 1_000_000 })); // sends hundreds of bad tokens on purpose: test/sessions.test.ts covers the limiter
  port = Number(new URL(url).port);
  const rel = await makeRelease(fx, '1.0.0');
  bundle = JSON.parse(rel.bundleJson);
  statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
});
after(async () => {
  await app.close();
  fx.cleanup();
});

describe('API bodies', () => {
  test('POST /v1/promotions: any body', async () => {
    const shaped = fc.record({ service: name, version: fc.oneof(fc.constant('2.0.0'), fc.string({ maxLength: 140 })), environment: name }, { requiredKeys: [] }).map((o) => JSON.stringify(o));
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonBody, shaped), async (body) => assertSane(await send('POST', '/v1/promotions', { body }), body)),
      { numRuns: RUNS },
    );
    await healthy();
  });
  test('POST /v1/promotions/<id>/abort and POST /v1/tokens: any body', async () => {
    const shaped = fc.record({ name, actor: fc.oneof(fc.constant('user:x'), fc.string({ maxLength: 90 })), role: fc.oneof(fc.constantFrom('viewer', 'root'), fc.string()), reason: fc.string() }, { requiredKeys: [] });
    const id = fc.stringMatching(/^prm_[a-f0-9]{16}$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonBody, shaped.map((o) => JSON.stringify(o))), id, async (body, prm) => {
        assertSane(await send('POST', `/v1/promotions/${prm}/abort`, { body }), body);
        assertSane(await send('POST', '/v1/tokens', { body }), body);
      }),
      { numRuns: RUNS },
    );
    await healthy();
  });
  test('POST /v1/releases: any body, and a real bundle with one part replaced or removed', async () => {
    const mutated = fc
      .tuple(fc.nat(), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }), fc.boolean())
      .map(([i, value, asString]) => {
        const all = paths(bundle);
        const b = mutate(bundle, all[i % all.length]!, value);
        return JSON.stringify({ bundle: asString ? JSON.stringify(b) ?? '' : b });
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonBody, jsonBody.map((b) => `{"bundle":${JSON.stringify(b)}}`), mutated), async (body) =>
        assertSane(await send('POST', '/v1/releases', { body }), body.slice(0, 300)),
      ),
      { numRuns: RUNS },
    );
    await healthy();
  });
  test('POST /v1/releases: signed statements with one part replaced (the parser behind the signature)', async () => {
    const key = createPrivateKey(await readFile(fx.keyFile, 'utf8'));
    const keyId = keyIdOf(createPublicKey(key));
    const all = paths(statement);
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.option(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: printable, maxLength: 40 })), { nil: undefined }), async (i, value) => {
        const s = mutate(statement, all[i % all.length]!, value);
        const signed = bundleToJson(toBundle(signDsse(INTOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(s) ?? 'null'), key, keyId), keyId));
        const a = await send('POST', '/v1/releases', { body: JSON.stringify({ bundle: signed }) });
        assertSane(a, String(JSON.stringify(s)).slice(0, 300));
        if (a.status < 300) {
          const r = JSON.parse(a.text) as { release: { service: string; version: string } };
          assert.match(r.release.service, /^[a-z][a-z0-9-]{0,62}$/);
          assert.match(r.release.version, /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/);
        }
      }),
      { numRuns: RUNS },
    );
    await healthy();
  });
});

describe('API paths, queries and headers', () => {
  test('GET any path suffix', async () => {
    const prefix = fc.constantFrom('/', '/v1/', '/v1/releases/', '/v1/blobs/', '/v1/promotions/', '/v1/audit/', '/v1/tokens/', '/v1/status/');
    await fc.assert(
      fc.asyncProperty(prefix, fc.array(segment, { minLength: 1, maxLength: 3 }), async (p, segs) => {
        const path = `${p}${segs.join('/')}`;
        assertSane(await send('GET', path), path);
      }),
      { numRuns: RUNS * 2 },
    );
    await healthy();
  });
  test('GET routes with any query string', async () => {
    const route = fc.constantFrom('/v1/releases', '/v1/promotions', '/v1/audit/entries', '/v1/audit/proof', '/v1/audit/consistency', '/v1/audit/export', '/v1/status');
    const key = fc.oneof(fc.constantFrom('limit', 'from', 'to', 'index', 'size', 'service', 'environment'), segment);
    const value = fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom('9007199254740993', '1e3', '0x10', ''), segment);
    await fc.assert(
      fc.asyncProperty(route, fc.array(fc.tuple(key, value), { maxLength: 4 }), async (r, pairs) => {
        const path = `${r}?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
        assertSane(await send('GET', path), path);
      }),
      { numRuns: RUNS * 2 },
    );
    await healthy();
  });
  test('any Authorization header is 401 unless it is the admin token', async () => {
    const latin1 = fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));
    const header = fc.oneof(
      fc.string({ unit: latin1, maxLength: 300 }),
      fc.string({ unit: printable, maxLength: 120 }).map((s) => `Bearer ${s}`),
      fc.stringMatching(/^[A-Za-z0-9]{0,50}$/).map((s) => `Bearer sgt_testadmin0001_${s}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const a = await send('GET', '/v1/whoami', { auth: h });
        assertSane(a, h);
        assert.equal(a.status, h === `Bearer ${ADMIN_TOKEN}` ? 200 : 401, h);
      }),
      { numRuns: RUNS },
    );
    await healthy();
  });
});
