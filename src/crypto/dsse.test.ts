import { createPublicKey, generateKeyPairSync, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { MAX_SIGNATURES, pae, parseDsseEnvelope, signDsse, verifyDsse } from './dsse.ts';
import type { DsseEnvelope } from './dsse.ts';
import { keyIdOf } from './keys.ts';

const vector = JSON.parse(readFileSync(new URL('../../../shared/vectors/dsse/protocol-example.json', import.meta.url), 'utf8')) as {
  payloadType: string;
  body: string;
  pae: string;
  key: { x: string; y: string; d: string };
  envelope: { payload: string; payloadType: string; signatures: Array<{ sig: string; keyid?: string }> };
};

const b64url = (dec: string) => Buffer.from(BigInt(dec).toString(16).padStart(64, '0'), 'hex').toString('base64url');
const jwk = { kty: 'EC', crv: 'P-256', x: b64url(vector.key.x), y: b64url(vector.key.y) };
const vectorPublic = createPublicKey({ key: jwk, format: 'jwk' });
const vectorPrivate = createPrivateKey({ key: { ...jwk, d: b64url(vector.key.d) }, format: 'jwk' });

function freshKey(): { privateKey: KeyObject; publicKey: KeyObject; keyid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, keyid: keyIdOf(publicKey) };
}

describe('DSSE spec vector', () => {
  test('PAE matches the spec', () => {
    assert.equal(pae(vector.payloadType, Buffer.from(vector.body)).toString('utf8'), vector.pae);
  });
  test('the spec envelope (raw r||s, no keyid) verifies', () => {
    const env = parseDsseEnvelope(vector.envelope, 'vector');
    const r = verifyDsse(env, new Map([['vector-key', vectorPublic]]));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.keyid, 'vector-key');
    assert.equal(r.payload.toString('utf8'), vector.body);
  });
  test('a signature of ours with the vector key verifies with the vector public key', () => {
    const env = signDsse(vector.payloadType, Buffer.from(vector.body), vectorPrivate, 'k');
    assert.ok(verifyDsse(env, new Map([['k', vectorPublic]])).ok);
  });
  test('the spec envelope with another body fails', () => {
    const env = parseDsseEnvelope({ ...vector.envelope, payload: Buffer.from('hello world!').toString('base64') }, 'vector');
    const r = verifyDsse(env, new Map([['vector-key', vectorPublic]]));
    assert.equal(r.ok, false);
  });
});

describe('sign and verify', () => {
  const k = freshKey();
  const keys = new Map([[k.keyid, k.publicKey]]);
  const env = signDsse('application/vnd.in-toto+json', Buffer.from('{"a":1}'), k.privateKey, k.keyid);

  test('signature is DER and verifies', () => {
    const sig = Buffer.from(env.signatures[0]?.sig ?? '', 'base64');
    assert.equal(sig[0], 0x30);
    const r = verifyDsse(env, keys, { payloadType: 'application/vnd.in-toto+json' });
    assert.ok(r.ok);
    assert.equal(r.keyid, k.keyid);
  });
  test('wrong payload type is refused', () => {
    const r = verifyDsse(env, keys, { payloadType: 'text/plain' });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /payload type/);
  });
  test('changed payload type fails (PAE binds it)', () => {
    assert.equal(verifyDsse({ ...env, payloadType: 'text/plain' }, keys).ok, false);
  });
  test('unknown key id fails with the key id named', () => {
    const other = freshKey();
    const r = verifyDsse(env, new Map([[other.keyid, other.publicKey]]));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /trusted key/);
  });
  test('same key id but another key fails', () => {
    const other = freshKey();
    const r = verifyDsse(env, new Map([[k.keyid, other.publicKey]]));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /altered/);
  });
  test('any flipped payload byte fails', () => {
    fc.assert(
      fc.property(fc.nat({ max: 6 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const p = Buffer.from(env.payload, 'base64');
        p[i] = (p[i] ?? 0) ^ x;
        return !verifyDsse({ ...env, payload: p.toString('base64') }, keys).ok;
      }),
      { numRuns: 30 },
    );
  });
  test('too many signatures is refused', () => {
    const sigs = Array.from({ length: MAX_SIGNATURES + 1 }, () => env.signatures[0] as { keyid: string; sig: string });
    assert.equal(verifyDsse({ ...env, signatures: sigs }, keys).ok, false);
    assert.throws(() => parseDsseEnvelope({ ...env, signatures: sigs }, 'x'), DomainError);
  });
  test('a second signature by a trusted key is enough', () => {
    const other = freshKey();
    const two: DsseEnvelope = { ...env, signatures: [{ keyid: other.keyid, sig: env.signatures[0]?.sig ?? '' }, ...env.signatures] };
    assert.ok(verifyDsse(two, keys).ok);
  });
  test('oversized payload is refused when signing', () => {
    assert.throws(() => signDsse('t', Buffer.alloc(1024 * 1024 + 1), k.privateKey, k.keyid), (e: unknown) => e instanceof DomainError && e.code === 'payload_too_large');
  });
});

describe('parseDsseEnvelope', () => {
  test('names the field that is wrong', () => {
    assert.throws(
      () => parseDsseEnvelope({ payload: 'aGk=', payloadType: 't', signatures: [{ sig: '!!' }] }, 'b.json', 'dsseEnvelope'),
      (e: unknown) => e instanceof DomainError && e.details.field === 'dsseEnvelope.signatures[0].sig',
    );
  });
  test('never throws anything but DomainError on arbitrary input, and verify never throws', () => {
    const k = freshKey();
    fc.assert(
      fc.property(fc.anything(), (v) => {
        try {
          const env = parseDsseEnvelope(v, 'x');
          verifyDsse(env, new Map([[k.keyid, k.publicKey]]));
          return true;
        } catch (e) {
          return e instanceof DomainError;
        }
      }),
    );
  });
  test('envelopes of random base64 parse and do not verify', () => {
    const k = freshKey();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 1, maxLength: 80 }), (p, s) => {
        const env = parseDsseEnvelope({ payload: Buffer.from(p).toString('base64url'), payloadType: 't', signatures: [{ sig: Buffer.from(s).toString('base64') }] }, 'x');
        return !verifyDsse(env, new Map([[k.keyid, k.publicKey]])).ok;
      }),
    );
  });
});

test('a long base64 field with one bad character is refused at once (no catastrophic backtracking)', () => {
  const started = Date.now();
  const env = { payload: `${'A'.repeat(50_000)}!`, payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: `${'B'.repeat(5000)}!` }] };
  assert.throws(() => parseDsseEnvelope(env, 'test'));
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
});
