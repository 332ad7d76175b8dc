import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { base64url, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { DomainError } from '../domain/errors.ts';
import { createSessionIssuer, MAX_TOKEN_BYTES, SESSION_TYP, type SessionIssuer, type SessionVerifyResult } from './session.ts';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ISS = 'https://stagegate.example';
const AUD = 'https://stagegate.example/api';
const T0 = Date.parse('2026-03-01T12:00:00Z');

function fixture(opts: { key?: KeyObject; previousPublicKeys?: KeyObject[] } = {}) {
  let now = T0;
  const key = opts.key ?? p256();
  const clock = () => new Date(now);
  const advance = (seconds: number) => {
    now += seconds * 1000;
  };
  return { key, clock, advance, make: () => createSessionIssuer({ key, issuer: ISS, audience: AUD, clock, ...(opts.previousPublicKeys ? { previousPublicKeys: opts.previousPublicKeys } : {}) }) };
}

const alice = { kind: 'user' as const, name: 'alice', roles: ['developer'], groups: ['payments'] };

const refused = (r: SessionVerifyResult, reason: string) => {
  assert.equal(r.ok, false, `expected refusal ${reason}`);
  if (!r.ok) assert.equal(r.reason, reason, r.detail);
};

async function issueOne(s: SessionIssuer, ttlSeconds = 600) {
  return s.issue({ principal: alice, scopes: ['api'], ttlSeconds });
}

/** sign arbitrary header/payload with a key (for forging tokens the issuer would never make) */
async function forge(key: KeyObject | Uint8Array, header: Record<string, unknown>, payload: Record<string, unknown>) {
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

describe('session issuer', () => {
  test('issues an ES256 JWT with iss, sub, aud, scope, jti, exp and verifies it', async () => {
    const f = fixture();
    const s = await f.make();
    const t = await issueOne(s);
    const h = decodeProtectedHeader(t.token);
    assert.equal(h.alg, 'ES256');
    assert.equal(h.typ, SESSION_TYP);
    assert.equal(h.kid, s.kid);
    const c = decodeJwt(t.token);
    assert.equal(c.iss, ISS);
    assert.equal(c.sub, 'user:alice');
    assert.equal(c.aud, AUD);
    assert.equal(c.scope, 'api');
    assert.equal(c.jti, t.jti);
    assert.equal(c.exp, T0 / 1000 + 600);
    assert.equal(t.expiresAt.getTime(), T0 + 600_000);
    const r = await s.verify(t.token, { audience: AUD, requiredScope: 'api' });
    assert.ok(r.ok);
    assert.deepEqual(r.principal, { kind: 'user', name: 'alice', id: 'user:alice', roles: ['developer'], groups: ['payments'], credential: `session:${t.jti}`, scopes: ['api'] });
    assert.equal(r.jti, t.jti);
  });

  test('jti is random per token', async () => {
    const s = await fixture().make();
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) ids.add((await issueOne(s)).jti);
    assert.equal(ids.size, 100);
  });

  test('refuses a ttl over 15 minutes, under 1 second, or fractional', async () => {
    const s = await fixture().make();
    for (const ttl of [901, 3600, 0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(issueOne(s, ttl), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && e.details.field === 'ttlSeconds', String(ttl));
    }
    assert.ok((await issueOne(s, 900)).token);
  });

  test('refuses malformed scopes, principals and reserved extra claims', async () => {
    const s = await fixture().make();
    await assert.rejects(s.issue({ principal: alice, scopes: [], ttlSeconds: 60 }), DomainError);
    await assert.rejects(s.issue({ principal: alice, scopes: ['a b'], ttlSeconds: 60 }), DomainError);
    await assert.rejects(s.issue({ principal: alice, scopes: ['API'], ttlSeconds: 60 }), DomainError);
    await assert.rejects(s.issue({ principal: { kind: 'admin' as 'user', name: 'x' }, scopes: ['api'], ttlSeconds: 60 }), DomainError);
    await assert.rejects(s.issue({ principal: { ...alice, roles: ['Admin'] }, scopes: ['api'], ttlSeconds: 60 }), DomainError);
    for (const k of ['sub', 'exp', 'scope', 'roles', 'aud']) {
      await assert.rejects(s.issue({ principal: alice, scopes: ['api'], ttlSeconds: 60, extraClaims: { [k]: 'x' } }), DomainError, k);
    }
  });

  test('refuses a key that is not EC P-256 private', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const pub = createPublicKey(p256());
    for (const key of [rsa, p384, pub]) {
      await assert.rejects(createSessionIssuer({ key, issuer: ISS, audience: AUD, clock: () => new Date() }), DomainError);
    }
  });

  test('expired tokens are refused; 30 s of clock skew is tolerated, not more', async () => {
    const f = fixture();
    const s = await f.make();
    const t = await issueOne(s, 60);
    f.advance(60 + 29);
    assert.ok((await s.verify(t.token, { audience: AUD })).ok, 'within skew');
    f.advance(2);
    refused(await s.verify(t.token, { audience: AUD }), 'expired');
  });

  test('a token from the future (clock skew over 30 s) is refused', async () => {
    const f = fixture();
    const s = await f.make();
    const t = await issueOne(s, 60);
    f.advance(-29);
    assert.ok((await s.verify(t.token, { audience: AUD })).ok, 'within skew');
    f.advance(-2);
    refused(await s.verify(t.token, { audience: AUD }), 'not_yet_valid');
  });

  test('a token signed by another key is refused (forged)', async () => {
    const s = await fixture().make();
    const other = await fixture().make();
    const t = await issueOne(other);
    refused(await s.verify(t.token, { audience: AUD }), 'unknown_key');
    // same kid as ours, other key: the signature check fails
    const c = decodeJwt(t.token);
    const forged = await forge(p256(), { alg: 'ES256', typ: SESSION_TYP, kid: s.kid }, c);
    refused(await s.verify(forged, { audience: AUD }), 'bad_signature');
  });

  test('a tampered payload is refused', async () => {
    const s = await fixture().make();
    const t = await issueOne(s);
    const [h, p, sig] = t.token.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
    claims.roles = ['admin'];
    const tampered = `${h}.${base64url.encode(JSON.stringify(claims))}.${sig}`;
    refused(await s.verify(tampered, { audience: AUD }), 'bad_signature');
  });

  test('wrong audience and wrong issuer are refused', async () => {
    const f = fixture();
    const s = await f.make();
    const t = await issueOne(s);
    refused(await s.verify(t.token, { audience: 'https://other.example' }), 'wrong_audience');
    const deploy = await s.issue({ principal: alice, scopes: ['api'], ttlSeconds: 60, audience: `${AUD}#deploy` });
    refused(await s.verify(deploy.token, { audience: AUD }), 'wrong_audience');
    const otherIssuer = await createSessionIssuer({ key: f.key, issuer: 'https://evil.example', audience: AUD, clock: f.clock });
    refused(await s.verify((await issueOne(otherIssuer)).token, { audience: AUD }), 'wrong_issuer');
  });

  test('alg none is refused', async () => {
    const s = await fixture().make();
    const t = await issueOne(s);
    const c = decodeJwt(t.token);
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${enc({ alg, typ: SESSION_TYP, kid: s.kid })}.${enc(c)}.`;
      const r = await s.verify(unsigned, { audience: AUD });
      assert.equal(r.ok, false, alg);
      if (!r.ok) assert.ok(['wrong_algorithm', 'malformed'].includes(r.reason), `${alg}: ${r.reason}`);
    }
  });

  test('HS256 signed with the public key (as PEM or as JWK text) is refused', async () => {
    const f = fixture();
    const s = await f.make();
    const c = decodeJwt((await issueOne(s)).token);
    const pub = createPublicKey(f.key);
    const secrets = [
      new TextEncoder().encode(pub.export({ type: 'spki', format: 'pem' }) as string),
      new TextEncoder().encode(JSON.stringify(s.jwks().keys[0])),
      new Uint8Array(pub.export({ type: 'spki', format: 'der' })),
    ];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS384']) {
        const t = await forge(secret, { alg, typ: SESSION_TYP, kid: s.kid }, c);
        refused(await s.verify(t, { audience: AUD }), 'wrong_algorithm');
      }
    }
  });

  test('ES384 / RS256 tokens are refused even with a valid-looking header', async () => {
    const s = await fixture().make();
    const c = decodeJwt((await issueOne(s)).token);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    refused(await s.verify(await forge(rsa, { alg: 'RS256', typ: SESSION_TYP, kid: s.kid }, c), { audience: AUD }), 'wrong_algorithm');
  });

  test('another JWT type signed with our key (e.g. an ID token) is not a session', async () => {
    const f = fixture();
    const s = await f.make();
    const c = decodeJwt((await issueOne(s)).token);
    for (const typ of [undefined, 'JWT', 'at+jwt']) {
      const header = typ ? { alg: 'ES256', kid: s.kid, typ } : { alg: 'ES256', kid: s.kid };
      refused(await s.verify(await forge(f.key, header, c), { audience: AUD }), 'wrong_type');
    }
  });

  test('a token signed by our key with a lifetime over 15 minutes is refused', async () => {
    const f = fixture();
    const s = await f.make();
    const c = decodeJwt((await issueOne(s)).token);
    const long = await forge(f.key, { alg: 'ES256', typ: SESSION_TYP, kid: s.kid }, { ...c, exp: (c.iat as number) + 3600 });
    refused(await s.verify(long, { audience: AUD }), 'bad_claims');
    const noJti = await forge(f.key, { alg: 'ES256', typ: SESSION_TYP, kid: s.kid }, { ...c, jti: undefined });
    refused(await s.verify(noJti, { audience: AUD }), 'bad_claims');
    const badSub = await forge(f.key, { alg: 'ES256', typ: SESSION_TYP, kid: s.kid }, { ...c, sub: 'admin' });
    refused(await s.verify(badSub, { audience: AUD }), 'bad_claims');
    const kindMismatch = await forge(f.key, { alg: 'ES256', typ: SESSION_TYP, kid: s.kid }, { ...c, kind: 'service' });
    refused(await s.verify(kindMismatch, { audience: AUD }), 'bad_claims');
  });

  test('a missing scope is refused; a present one passes', async () => {
    const s = await fixture().make();
    const t = await s.issue({ principal: alice, scopes: ['read', 'deploy:prm_0011223344556677'], ttlSeconds: 60 });
    refused(await s.verify(t.token, { audience: AUD, requiredScope: 'api' }), 'missing_scope');
    refused(await s.verify(t.token, { audience: AUD, requiredScope: 'deploy:prm_other' }), 'missing_scope');
    refused(await s.verify(t.token, { audience: AUD, requiredScope: 'deploy' }), 'missing_scope');
    assert.ok((await s.verify(t.token, { audience: AUD, requiredScope: 'read' })).ok);
  });

  test('revoked tokens are refused (sync and async hooks); the hook sees the jti', async () => {
    const s = await fixture().make();
    const t = await issueOne(s);
    const seen: string[] = [];
    refused(
      await s.verify(t.token, {
        audience: AUD,
        isRevoked: (jti) => {
          seen.push(jti);
          return true;
        },
      }),
      'revoked',
    );
    assert.deepEqual(seen, [t.jti]);
    refused(await s.verify(t.token, { audience: AUD, isRevoked: async (j) => j === t.jti }), 'revoked');
    assert.ok((await s.verify(t.token, { audience: AUD, isRevoked: async () => false })).ok);
  });

  test('jwks() publishes only the public key, and key rotation keeps earlier tokens valid', async () => {
    const oldKey = p256();
    const f1 = fixture({ key: oldKey });
    const s1 = await f1.make();
    const t = await issueOne(s1);
    const jwk = s1.jwks().keys[0]!;
    assert.equal(jwk.kty, 'EC');
    assert.equal(jwk.crv, 'P-256');
    assert.equal(jwk.alg, 'ES256');
    assert.equal(jwk.kid, s1.kid);
    assert.equal((jwk as { d?: string }).d, undefined, 'no private part');
    const s2 = await fixture({ previousPublicKeys: [createPublicKey(oldKey)] }).make();
    assert.equal(s2.jwks().keys.length, 2);
    assert.ok((await s2.verify(t.token, { audience: AUD })).ok, 'old token verifies with the previous key');
    const s3 = await fixture().make();
    refused(await s3.verify(t.token, { audience: AUD }), 'unknown_key');
  });

  test('oversized and malformed input is refused without throwing', async () => {
    const s = await fixture().make();
    const t = await issueOne(s);
    refused(await s.verify(`${t.token}${'A'.repeat(MAX_TOKEN_BYTES)}`, { audience: AUD }), 'malformed');
    for (const junk of ['', 'a', 'a.b', 'a.b.c.d', `${t.token} `, `Bearer ${t.token}`, '...', 'é.é.é']) {
      refused(await s.verify(junk, { audience: AUD }), 'malformed');
    }
  });

  test('property: verify never throws and accepts nothing but what was issued', async () => {
    const s = await fixture().make();
    const t = await issueOne(s);
    const [h, p, sig] = t.token.split('.') as [string, string, string];
    const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{0,120}$/);
    const mutated = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.tuple(b64, b64, b64).map((parts) => parts.join('.')),
      b64.map((x) => `${h}.${p}.${x}`),
      b64.map((x) => `${h}.${x}.${sig}`),
      b64.map((x) => `${x}.${p}.${sig}`),
      fc.nat(t.token.length - 1).map((i) => t.token.slice(0, i) + (t.token[i] === 'A' ? 'B' : 'A') + t.token.slice(i + 1)),
    );
    await fc.assert(
      fc.asyncProperty(mutated, async (x) => {
        const r = await s.verify(x, { audience: AUD });
        if (r.ok) assert.equal(x.split('.').slice(0, 2).join('.'), `${h}.${p}`, 'only the issued header and payload verify');
      }),
      { numRuns: 400 },
    );
  });
});
