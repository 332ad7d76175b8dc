import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { identitiesSchema, parsePrincipalId } from './identity-schema.ts';
import { CLAIM_VALUE_RE, createOidcVerifier, renderPrincipal } from './oidc.ts';

const cfg = identitiesSchema.parse({
  oidc: [
    {
      name: 'gh',
      issuer: 'https://token.actions.githubusercontent.com',
      audience: 'stagegate',
      jwksUrl: 'http://127.0.0.1:9/jwks',
      principal: 'workload:github:{repository}',
      roles: ['releaser'],
    },
  ],
}).oidc!;

describe('renderPrincipal', () => {
  test('fills placeholders from claims', () => {
    assert.deepEqual(renderPrincipal('workload:github:{repository}', { repository: 'my-org/app' }), { ok: true, principal: { kind: 'workload', name: 'github:my-org/app' } });
    assert.deepEqual(renderPrincipal('workload:gitlab:{project_id}@{ref}', { project_id: 42, ref: 'main' }), { ok: true, principal: { kind: 'workload', name: 'gitlab:42@main' } });
    assert.deepEqual(renderPrincipal('workload:fixed', {}), { ok: true, principal: { kind: 'workload', name: 'fixed' } });
  });

  test('missing, structured, inherited or unsafe claim values are refused', () => {
    for (const claims of [{}, { repository: '' }, { repository: 'a:b' }, { repository: 'a b' }, { repository: ['x'] }, { repository: 1.5 }, { repository: null }, { repository: 'x'.repeat(129) }, { repository: '{x}' }]) {
      assert.equal(renderPrincipal('workload:github:{repository}', claims as Record<string, unknown>).ok, false, JSON.stringify(claims));
    }
    assert.equal(renderPrincipal('workload:x:{toString}', {}).ok, false, 'prototype properties are not claims');
    assert.equal(renderPrincipal('workload:x:{constructor}', {}).ok, false);
  });

  test('property: never throws; a rendered name parses back; distinct claims give distinct names', () => {
    const value = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._/@-]{1,20}$/), fc.string({ maxLength: 20 }), fc.integer(), fc.constant(undefined));
    fc.assert(
      fc.property(value, value, value, value, (a1, b1, a2, b2) => {
        const t = 'workload:ci:{a}:{b}';
        const r1 = renderPrincipal(t, { a: a1, b: b1 });
        const r2 = renderPrincipal(t, { a: a2, b: b2 });
        const plain = (v: unknown) => (typeof v === 'string' && CLAIM_VALUE_RE.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v) && CLAIM_VALUE_RE.test(String(v)));
        assert.equal(r1.ok, plain(a1) && plain(b1));
        if (r1.ok) assert.deepEqual(parsePrincipalId(`workload:${r1.principal.name}`), r1.principal);
        if (r1.ok && r2.ok && r1.principal.name === r2.principal.name) {
          assert.equal(String(a1), String(a2));
          assert.equal(String(b1), String(b2));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('createOidcVerifier without a network', () => {
  const v = createOidcVerifier(cfg, { clock: () => new Date(), fetchTimeoutMs: 200 });
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  test('refuses unknown issuers and wrong algorithms before fetching anything', async () => {
    const unknown = await v.verify(`${enc({ alg: 'RS256' })}.${enc({ iss: 'https://evil.example' })}.c2ln`);
    assert.deepEqual(unknown.ok ? undefined : unknown.reason, 'unknown_issuer');
    for (const alg of ['none', 'HS256', 'RS512', 'EdDSA', 42]) {
      const r = await v.verify(`${enc({ alg })}.${enc({ iss: cfg[0]!.issuer })}.c2ln`);
      assert.deepEqual(r.ok ? undefined : r.reason, 'wrong_algorithm', String(alg));
    }
  });

  test('the JWKS being unreachable is a refusal with the reason', async () => {
    const r = await v.verify(`${enc({ alg: 'RS256', kid: 'k' })}.${enc({ iss: cfg[0]!.issuer, aud: 'stagegate' })}.c2ln`);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.reason, 'jwks_unavailable');
      assert.match(r.detail, /127\.0\.0\.1:9/);
    }
  });

  test('property: never throws on arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 })).map(([h, p]) => `${enc(h)}.${enc(p)}.c2ln`),
          fc.stringMatching(/^[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}$/),
        ),
        async (s) => {
          const r = await v.verify(s);
          assert.equal(r.ok, false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('bad options are refused', () => {
    assert.throws(() => createOidcVerifier(cfg, { clock: () => new Date(), fetchTimeoutMs: 0 }), DomainError);
    assert.throws(() => createOidcVerifier(cfg, { clock: () => new Date(), fetchTimeoutMs: 600_000 }), DomainError);
  });
});
