/**
 * Workload identity against a REAL OIDC issuer on loopback: node:http serves the discovery document
 * and a JWKS with an RS256 and an ES256 key; ID tokens are signed with jose's SignJWT. The verifier
 * fetches the JWKS over HTTP exactly as it would from GitHub or GitLab.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { base64url, exportJWK, type JWK, SignJWT } from 'jose';
import { identitiesSchema, type OidcIssuerConfig } from '../src/auth/identity-schema.ts';
import { createOidcVerifier, discoverJwksUrl, type OidcVerifierOptions, type OidcVerifyResult } from '../src/auth/oidc.ts';
import { DomainError } from '../src/domain/errors.ts';

type Mode = 'ok' | 'error500' | 'hang' | 'huge' | 'redirect' | 'not-json';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  key: KeyObject;
  jwk: JWK;
}

async function newKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  return { kid, alg, key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

interface Issuer {
  url: string;
  jwksUrl: string;
  keys: SigningKey[];
  mode: Mode;
  jwksFetches: number;
  /** add a key under a new kid; with `retire`, drop the earlier ones from the JWKS */
  rotate(alg: 'RS256' | 'ES256', retire: boolean): Promise<SigningKey>;
  close(): Promise<void>;
  server: Server;
}

async function startIssuer(): Promise<Issuer> {
  const state = { keys: [await newKey('RS256'), await newKey('ES256')], mode: 'ok' as Mode, jwksFetches: 0 };
  let base = '';
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'], response_types_supported: ['id_token'], subject_types_supported: ['public'] }));
      return;
    }
    if (req.url === '/jwks') {
      state.jwksFetches += 1;
      switch (state.mode) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
          return;
        case 'error500':
          res.writeHead(500);
          res.end('oops');
          return;
        case 'hang':
          return; // never answers
        case 'huge':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk), padding: 'x'.repeat(400 * 1024) }));
          return;
        case 'redirect':
          res.writeHead(302, { location: 'http://127.0.0.1:1/jwks' });
          res.end();
          return;
        case 'not-json':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('<html>maintenance</html>');
          return;
      }
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url: base,
    jwksUrl: `${base}/jwks`,
    get keys() {
      return state.keys;
    },
    get mode() {
      return state.mode;
    },
    set mode(m: Mode) {
      state.mode = m;
    },
    get jwksFetches() {
      return state.jwksFetches;
    },
    set jwksFetches(n: number) {
      state.jwksFetches = n;
    },
    async rotate(alg, retire) {
      const k = await newKey(alg);
      state.keys = retire ? [k] : [...state.keys, k];
      return k;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const T0 = Date.parse('2026-03-01T12:00:00Z');
const now = T0 / 1000;
const clock = () => new Date(T0);

const goodClaims = (iss: string): Record<string, unknown> => ({
  iss,
  aud: 'stagegate',
  sub: 'repo:my-org/app:ref:refs/heads/main',
  repository: 'my-org/app',
  repository_owner: 'my-org',
  ref: 'refs/heads/main',
  iat: now - 60,
  nbf: now - 60,
  exp: now + 240,
});

async function sign(k: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT', ...header }).sign(k.key);
}

function config(issuer: Issuer, over: Record<string, unknown> = {}): OidcIssuerConfig {
  const parsed = identitiesSchema.parse({
    oidc: [
      {
        name: 'ci',
        issuer: issuer.url,
        audience: 'stagegate',
        jwksUrl: issuer.jwksUrl,
        principal: 'workload:github:{repository}',
        roles: ['developer', 'releaser'],
        require: { repository_owner: 'my-org' },
        ...over,
      },
    ],
  });
  return parsed.oidc![0]!;
}

const opts = (o: Partial<OidcVerifierOptions> = {}): OidcVerifierOptions => ({ clock, fetchTimeoutMs: 1000, cooldownMs: 0, ...o });

function refused(r: OidcVerifyResult, reason: string): string {
  assert.equal(r.ok, false, `expected refusal: ${reason}`);
  if (r.ok) return '';
  assert.equal(r.reason, reason, r.detail);
  return r.detail;
}

describe('OIDC workload identity against a local issuer', () => {
  let issuer: Issuer;
  let rs: SigningKey;
  let es: SigningKey;
  before(async () => {
    issuer = await startIssuer();
    rs = issuer.keys[0]!;
    es = issuer.keys[1]!;
  });
  after(async () => {
    await issuer.close();
  });

  test('discovery names the JWKS; an issuer mismatch in the document is refused', async () => {
    assert.equal(await discoverJwksUrl(issuer.url, { fetchTimeoutMs: 1000 }), issuer.jwksUrl);
    await assert.rejects(discoverJwksUrl(`${issuer.url}/`, { fetchTimeoutMs: 1000 }), (e: unknown) => e instanceof DomainError && /names issuer/.test(e.message));
    await assert.rejects(discoverJwksUrl('http://example.com', { fetchTimeoutMs: 1000 }), DomainError);
  });

  test('a good RS256 token maps to its principal and the configured roles', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    const r = await v.verify(await sign(rs, goodClaims(issuer.url)));
    assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
    assert.deepEqual(r.principal, { kind: 'workload', name: 'github:my-org/app' });
    assert.deepEqual(r.roles, ['developer', 'releaser']);
    assert.equal(r.subject, 'repo:my-org/app:ref:refs/heads/main');
    assert.equal(r.issuerName, 'ci');
    assert.deepEqual(r.resolved, {
      kind: 'workload',
      name: 'github:my-org/app',
      id: 'workload:github:my-org/app',
      roles: ['developer', 'releaser'],
      groups: [],
      credential: `oidc:${issuer.url}`,
      scopes: [],
    });
  });

  test('a good ES256 token is accepted too', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    assert.ok((await v.verify(await sign(es, goodClaims(issuer.url)))).ok);
  });

  test('wrong audience is refused', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), aud: 'someone-else' })), 'wrong_audience');
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), aud: undefined })), 'wrong_audience');
    // an audience list containing ours is accepted (RFC 7519 4.1.3)
    assert.ok((await v.verify(await sign(rs, { ...goodClaims(issuer.url), aud: ['x', 'stagegate'] }))).ok);
  });

  test('expired tokens, and tokens issued too long ago, are refused', async () => {
    const v = createOidcVerifier([config(issuer)], opts({ maxTokenAgeSeconds: 600 }));
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), iat: now - 600, exp: now - 31 })), 'expired');
    // within the 30 s skew
    assert.ok((await v.verify(await sign(rs, { ...goodClaims(issuer.url), iat: now - 300, exp: now - 29 }))).ok);
    const old = refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), iat: now - 700, exp: now + 3600 })), 'expired');
    assert.match(old, /iat/);
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), nbf: now + 120 })), 'not_yet_valid');
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), exp: undefined })), 'bad_claims');
  });

  test('an unknown kid is refused after one refetch of the JWKS', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    assert.ok((await v.verify(await sign(rs, goodClaims(issuer.url)))).ok);
    const before = issuer.jwksFetches;
    const stranger = { ...(await newKey('RS256')), kid: 'no-such-kid' };
    refused(await v.verify(await sign(stranger, goodClaims(issuer.url))), 'unknown_key');
    assert.equal(issuer.jwksFetches, before + 1, 'refetched once to look for a rotated key');
  });

  test('a flood of unknown kids refetches the JWKS at most once per cooldown', async () => {
    const v = createOidcVerifier([config(issuer)], opts({ cooldownMs: 30_000 }));
    assert.ok((await v.verify(await sign(rs, goodClaims(issuer.url)))).ok);
    const before = issuer.jwksFetches;
    const stranger = await newKey('ES256');
    for (let i = 0; i < 25; i++) refused(await v.verify(await sign({ ...stranger, kid: `k${i}` }, goodClaims(issuer.url))), 'unknown_key');
    assert.ok(issuer.jwksFetches - before <= 1, `${issuer.jwksFetches - before} refetches`);
  });

  test('a token from another issuer is refused, and so is another issuer key claiming ours', async () => {
    const other = await startIssuer();
    try {
      const v = createOidcVerifier([config(issuer)], opts());
      refused(await v.verify(await sign(other.keys[0]!, goodClaims(other.url))), 'unknown_issuer');
      // their key, our iss, their kid: not in our JWKS
      refused(await v.verify(await sign(other.keys[0]!, goodClaims(issuer.url))), 'unknown_key');
      // their key, our iss, our kid: the signature does not verify
      refused(await v.verify(await sign({ ...other.keys[0]!, kid: rs.kid }, goodClaims(issuer.url))), 'bad_signature');
      refused(await v.verify(await sign({ ...other.keys[1]!, kid: es.kid }, goodClaims(issuer.url))), 'bad_signature');
      // a lookalike issuer string (trailing slash) is another issuer
      refused(await v.verify(await sign(rs, goodClaims(`${issuer.url}/`))), 'unknown_issuer');
    } finally {
      await other.close();
    }
  });

  test('a tampered signature or payload is refused', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    for (const k of [rs, es]) {
      const t = await sign(k, goodClaims(issuer.url));
      const [h, p, s] = t.split('.') as [string, string, string];
      const sig = Buffer.from(base64url.decode(s));
      sig[10]! ^= 0x01;
      refused(await v.verify(`${h}.${p}.${base64url.encode(sig)}`), 'bad_signature');
      const claims = { ...goodClaims(issuer.url), repository: 'my-org/prod-secrets' };
      refused(await v.verify(`${h}.${base64url.encode(JSON.stringify(claims))}.${s}`), 'bad_signature');
      refused(await v.verify(`${h}.${p}.`), 'bad_signature');
    }
  });

  test('alg none, HS256 with the public key, and other algorithms are refused', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    refused(await v.verify(`${enc({ alg: 'none', kid: rs.kid })}.${enc(goodClaims(issuer.url))}.`), 'wrong_algorithm');
    const hs = await new SignJWT(goodClaims(issuer.url)).setProtectedHeader({ alg: 'HS256', kid: rs.kid }).sign(new TextEncoder().encode(JSON.stringify(rs.jwk)));
    refused(await v.verify(hs), 'wrong_algorithm');
    const ps = await new SignJWT(goodClaims(issuer.url)).setProtectedHeader({ alg: 'PS256', kid: rs.kid }).sign(rs.key);
    refused(await v.verify(ps), 'wrong_algorithm');
    // an RS256 key presented as ES256 (alg/key confusion)
    const confused = `${enc({ alg: 'ES256', kid: rs.kid })}.${enc(goodClaims(issuer.url))}.${base64url.encode(randomBytes(64))}`;
    const r = await v.verify(confused);
    assert.equal(r.ok, false);
  });

  test('a require claim mismatch is refused, and so is a missing one', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    const d1 = refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository_owner: 'evil-org', repository: 'evil-org/app' })), 'claim_mismatch');
    assert.match(d1, /repository_owner must be "my-org", is "evil-org"/);
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository_owner: undefined })), 'claim_mismatch');
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository_owner: ['my-org'] })), 'claim_mismatch');
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository_owner: 'My-Org' })), 'claim_mismatch');
  });

  test('claims the principal template needs must be present and plain', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository: undefined })), 'bad_claims');
    // a colon would let one claim impersonate another part of the name
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository: 'my-org/app:admin' })), 'bad_claims');
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository: { a: 1 } })), 'bad_claims');
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), sub: undefined })), 'bad_claims');
  });

  test('several configurations for one issuer: the first that accepts wins, else the most telling refusal', async () => {
    const prodCfg = config(issuer, { name: 'prod-deployers', require: { repository_owner: 'my-org', ref: 'refs/heads/main' }, roles: ['releaser'] });
    const devCfg = config(issuer, { name: 'any-branch', roles: ['developer'] });
    const v = createOidcVerifier([prodCfg, devCfg], opts());
    const main = await v.verify(await sign(rs, goodClaims(issuer.url)));
    assert.ok(main.ok);
    assert.equal(main.issuerName, 'prod-deployers');
    const branch = await v.verify(await sign(rs, { ...goodClaims(issuer.url), ref: 'refs/heads/feature' }));
    assert.ok(branch.ok);
    assert.equal(branch.issuerName, 'any-branch');
    assert.deepEqual(branch.roles, ['developer']);
    refused(await v.verify(await sign(rs, { ...goodClaims(issuer.url), repository_owner: 'x' })), 'claim_mismatch');
  });

  test('the JWKS endpoint down is a clear refusal, not a crash', async () => {
    const dead = await startIssuer();
    const token = await sign(dead.keys[0]!, goodClaims(dead.url));
    const cfg = config(dead);
    await dead.close();
    const v = createOidcVerifier([cfg], opts());
    const d = refused(await v.verify(token), 'jwks_unavailable');
    assert.match(d, /JWKS http:\/\/127\.0\.0\.1:\d+\/jwks/);
    assert.match(d, /ECONNREFUSED|fetch failed/);
  });

  for (const [mode, pattern] of [
    ['error500', /200 OK/],
    ['hang', /timed out after 300 ms/],
    ['huge', /over 262144 bytes/],
    ['redirect', /200 OK/],
    ['not-json', /JSON/],
  ] as const) {
    test(`a JWKS endpoint that misbehaves (${mode}) is a clear refusal`, async () => {
      const flaky = await startIssuer();
      try {
        flaky.mode = mode;
        const v = createOidcVerifier([config(flaky)], opts({ fetchTimeoutMs: 300 }));
        const t0 = performance.now();
        const d = refused(await v.verify(await sign(flaky.keys[0]!, goodClaims(flaky.url))), 'jwks_unavailable');
        assert.match(d, pattern);
        assert.ok(performance.now() - t0 < 3000);
        // and recovers when the endpoint does
        flaky.mode = 'ok';
        assert.ok((await v.verify(await sign(flaky.keys[0]!, goodClaims(flaky.url)))).ok);
      } finally {
        await flaky.close();
      }
    });
  }

  test('key rotation: a new kid is picked up; a retired key stops working', async () => {
    const rot = await startIssuer();
    try {
      const v = createOidcVerifier([config(rot)], opts({ cooldownMs: 0 }));
      const oldKey = rot.keys[0]!;
      assert.ok((await v.verify(await sign(oldKey, goodClaims(rot.url)))).ok);
      const fetched = rot.jwksFetches;
      const added = await rot.rotate('ES256', false);
      assert.ok((await v.verify(await sign(added, goodClaims(rot.url)))).ok, 'new kid accepted');
      assert.equal(rot.jwksFetches, fetched + 1, 'one refetch for the new kid');
      assert.ok((await v.verify(await sign(oldKey, goodClaims(rot.url)))).ok, 'old kid still published');
      const replaced = await rot.rotate('RS256', true);
      assert.ok((await v.verify(await sign(replaced, goodClaims(rot.url)))).ok, 'replacement accepted');
      refused(await v.verify(await sign(oldKey, goodClaims(rot.url))), 'unknown_key');
      refused(await v.verify(await sign(added, goodClaims(rot.url))), 'unknown_key');
    } finally {
      await rot.close();
    }
  });

  test('oversized and garbage tokens are refused before any network use', async () => {
    const v = createOidcVerifier([config(issuer)], opts());
    const before = issuer.jwksFetches;
    const big = await sign(rs, { ...goodClaims(issuer.url), pad: 'x'.repeat(9000) });
    const d = refused(await v.verify(big), 'malformed');
    assert.match(d, /8192/);
    for (const junk of ['', 'x', 'a.b.c', `${'A'.repeat(10)}.${'B'.repeat(10)}.`, 'eyJhbGciOiJSUzI1NiJ9.e30']) refused(await v.verify(junk), 'malformed');
    assert.equal(issuer.jwksFetches, before);
  });

  test('the verifier refuses configurations with plain http off loopback', () => {
    const cfg = { ...config(issuer), jwksUrl: 'http://example.com/jwks' };
    assert.throws(() => createOidcVerifier([cfg], opts()), DomainError);
  });
});
