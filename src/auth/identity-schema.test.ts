import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import {
  checkIdentities,
  type Identities,
  identitiesSchema,
  isAllowedIssuerUrl,
  parsePrincipalId,
  templateClaims,
  resolvePrincipal,
} from './identity-schema.ts';

const parse = (input: unknown): Identities => identitiesSchema.parse(input);

const github = {
  name: 'github',
  issuer: 'https://token.actions.githubusercontent.com',
  audience: 'stagegate',
  jwksUrl: 'https://token.actions.githubusercontent.com/.well-known/jwks',
  principal: 'workload:github:{repository}',
  roles: ['releaser'],
  require: { repository_owner: 'my-org' },
};

const sample = (): Identities =>
  parse({
    users: [
      { name: 'alice', roles: ['developer'], groups: ['payments'] },
      { name: 'bob', roles: [] },
      { name: 'carol', roles: ['viewer'] },
    ],
    groups: [
      { name: 'payments', roles: ['releaser'], members: ['user:bob'] },
      { name: 'engineering', roles: ['viewer'], members: ['group:payments', 'service:ci'] },
      { name: 'approvers', roles: ['approver'], members: ['group:engineering', 'user:carol'] },
      { name: 'empty' },
    ],
    serviceAccounts: [{ name: 'ci', roles: ['developer'] }],
    oidc: [github],
  });

describe('identitiesSchema', () => {
  test('parses a full section and defaults subjectClaim to sub', () => {
    const ids = sample();
    assert.equal(ids.oidc?.[0]?.subjectClaim, 'sub');
    assert.equal(ids.users?.length, 3);
  });

  test('every list and the section itself are optional', () => {
    assert.deepEqual(parse({}), {});
  });

  test('is strict: unknown fields are refused', () => {
    assert.throws(() => parse({ users: [{ name: 'alice', roles: [], admin: true }] }));
    assert.throws(() => parse({ people: [] }));
    assert.throws(() => parse({ oidc: [{ ...github, extra: 1 }] }));
  });

  test('names follow /^[a-z][a-z0-9._-]{0,62}$/', () => {
    for (const good of ['a', 'alice', 'a.b_c-d', `a${'b'.repeat(62)}`]) assert.doesNotThrow(() => parse({ users: [{ name: good, roles: [] }] }), good);
    for (const bad of ['', 'Alice', '1a', '-a', 'a b', 'a:b', `a${'b'.repeat(63)}`, 'ä']) {
      assert.throws(() => parse({ users: [{ name: bad, roles: [] }] }), bad);
    }
  });

  test('members are user:, service: or group: references', () => {
    assert.doesNotThrow(() => parse({ groups: [{ name: 'g', members: ['user:a', 'service:b', 'group:c'] }] }));
    for (const bad of ['a', 'workload:x', 'user:', 'user:A', 'role:admin', 'user:a:b']) {
      assert.throws(() => parse({ groups: [{ name: 'g', members: [bad] }] }), bad);
    }
  });

  test('lists are bounded', () => {
    const roles = Array.from({ length: 33 }, (_, i) => `r${i}`);
    assert.throws(() => parse({ users: [{ name: 'a', roles }] }));
    const require = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`c${i}`, 'v']));
    assert.throws(() => parse({ oidc: [{ ...github, require }] }));
    assert.throws(() => parse({ oidc: [{ ...github, audience: 'x'.repeat(257) }] }));
  });

  test('issuer and jwksUrl: https, or plain http on loopback only', () => {
    const ok = ['https://token.actions.githubusercontent.com', 'https://gitlab.example.com/', 'https://idp.example.com:8443/realms/ci', 'http://127.0.0.1:5556', 'http://localhost/dex', 'http://[::1]:9000/'];
    const bad = [
      'http://example.com',
      'http://127.0.0.1.nip.io',
      'http://localhost.example.com',
      'http://10.0.0.1',
      'https://user:pw@idp.example.com',
      'https://idp.example.com/?x=1',
      'https://idp.example.com/#frag',
      'ftp://idp.example.com',
      'https://',
      'https://idp example.com',
      `https://a.example.com/${'x'.repeat(520)}`,
    ];
    for (const u of ok) {
      assert.equal(isAllowedIssuerUrl(u), true, u);
      assert.doesNotThrow(() => parse({ oidc: [{ ...github, issuer: u, jwksUrl: u }] }), u);
    }
    for (const u of bad) {
      assert.equal(isAllowedIssuerUrl(u), false, u);
      assert.throws(() => parse({ oidc: [{ ...github, issuer: u }] }), u);
      assert.throws(() => parse({ oidc: [{ ...github, jwksUrl: u }] }), u);
    }
  });

  test('property: isAllowedIssuerUrl never throws and accepts exactly https hosts and loopback http', () => {
    const host = fc.oneof(
      fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'example.com', '127.0.0.2', 'localhost.evil', '0.0.0.0', 'idp.example.com'),
      fc.stringMatching(/^[a-z0-9.-]{1,20}$/),
    );
    const gen = fc.record({
      scheme: fc.constantFrom('https', 'http', 'HTTP', 'ftp', 'javascript'),
      userinfo: fc.constantFrom('', 'u@', 'u:p@'),
      host,
      port: fc.constantFrom('', ':443', ':8080', ':99999999'),
      path: fc.constantFrom('', '/', '/a/b', '/.well-known/jwks', '/a b', '/?q', '/#f'),
    });
    fc.assert(
      fc.property(gen, ({ scheme, userinfo, host, port, path }) => {
        const u = `${scheme}://${userinfo}${host}${port}${path}`;
        let expected = false;
        try {
          const p = new URL(u);
          expected =
            userinfo === '' &&
            !path.includes('?') &&
            !path.includes('#') &&
            !path.includes(' ') &&
            port !== ':99999999' &&
            ((scheme === 'https' && /^[A-Za-z0-9.-]+$/.test(host)) || (scheme === 'http' && ['127.0.0.1', 'localhost', '[::1]'].includes(p.hostname) && p.hostname === host));
        } catch {
          expected = false;
        }
        assert.equal(isAllowedIssuerUrl(u), expected, u);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (s) => {
        assert.equal(typeof isAllowedIssuerUrl(s), 'boolean');
      }),
    );
  });

  test('principal templates start with workload: and use {claim} placeholders', () => {
    for (const good of ['workload:github:{repository}', 'workload:gitlab:{project_path}@{ref}', 'workload:fixed']) {
      assert.doesNotThrow(() => parse({ oidc: [{ ...github, principal: good }] }), good);
    }
    for (const bad of ['user:{sub}', 'github:{repository}', 'workload:{', 'workload:{a b}', 'workload:A', 'workload:', 'workload:{}', 'service:ci']) {
      assert.throws(() => parse({ oidc: [{ ...github, principal: bad }] }), bad);
    }
    assert.deepEqual(templateClaims('workload:gitlab:{project_path}@{ref}'), ['project_path', 'ref']);
  });

  test('its JSON Schema (for stagegate.schema.json) agrees with zod on good and bad sections', () => {
    const validate = new Ajv2020({ strict: false }).compile(z.toJSONSchema(identitiesSchema, { target: 'draft-2020-12', io: 'input' }));
    const good = [{}, { users: [{ name: 'a', roles: ['viewer'] }] }, { oidc: [github] }, { groups: [{ name: 'g', members: ['user:a', 'group:h'] }] }, { oidc: [{ ...github, issuer: 'http://127.0.0.1:8080/x' }] }];
    const bad = [
      { users: [{ name: 'A', roles: [] }] },
      { users: [{ name: 'a' }] },
      { extra: [] },
      { groups: [{ name: 'g', members: ['role:x'] }] },
      { oidc: [{ ...github, issuer: 'http://example.com' }] },
      { oidc: [{ ...github, principal: 'user:{sub}' }] },
      { oidc: [{ ...github, require: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`c${i}`, 'v'])) }] },
      { oidc: [{ ...github, require: { 'bad claim': 'v' } }] },
    ];
    for (const g of good) {
      assert.equal(identitiesSchema.safeParse(g).success, true, JSON.stringify(g));
      assert.equal(validate(g), true, `${JSON.stringify(g)}: ${JSON.stringify(validate.errors)}`);
    }
    for (const b of bad) {
      assert.equal(identitiesSchema.safeParse(b).success, false, JSON.stringify(b));
      assert.equal(validate(b), false, JSON.stringify(b));
    }
  });

  test('property: parsing never throws anything but a ZodError', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), (x) => {
        const r = identitiesSchema.safeParse(x);
        assert.equal(typeof r.success, 'boolean');
      }),
    );
    const entry = fc.record({ name: fc.string({ maxLength: 70 }), roles: fc.array(fc.string({ maxLength: 10 }), { maxLength: 40 }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (users) => {
        const r = identitiesSchema.safeParse({ users });
        const valid = users.every((u) => /^[a-z][a-z0-9._-]{0,62}$/.test(u.name) && u.roles.length <= 32 && u.roles.every((x) => /^[a-z][a-z0-9._-]{0,62}$/.test(x)));
        assert.equal(r.success, valid);
      }),
    );
  });
});

const fails = (fn: () => unknown, re: RegExp, field?: string) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, 'invalid_input');
    assert.match(e.message, re);
    if (field) assert.equal(e.details.field, field);
    assert.ok(e.details.fix, 'says what to do');
    return true;
  });

describe('checkIdentities', () => {
  test('accepts a consistent section', () => {
    assert.doesNotThrow(() => checkIdentities(sample()));
  });

  test('names a group cycle and the membership that closes it', () => {
    const ids = parse({
      groups: [
        { name: 'a', members: ['group:b'] },
        { name: 'b', members: ['group:c'] },
        { name: 'c', members: ['group:a'] },
        { name: 'd', members: ['group:a'] },
      ],
    });
    assert.throws(
      () => checkIdentities(ids),
      (e: unknown) => {
        assert.ok(e instanceof DomainError);
        assert.match(e.message, /^group cycle: /);
        // every group of the cycle is named, and d (not on it) is not
        for (const g of ['a', 'b', 'c']) assert.match(e.message, new RegExp(`\\b${g}\\b`));
        assert.doesNotMatch(e.message, /\bd\b/);
        assert.match(String(e.details.field), /^identities\.groups\[[0-2]\]\.members\[0\]$/);
        return true;
      },
    );
  });

  test('a group that contains itself is a cycle', () => {
    fails(() => checkIdentities(parse({ groups: [{ name: 'a', members: ['group:a'] }] })), /group cycle: a -> a/, 'identities.groups[0].members[0]');
  });

  test('a two-group cycle is named in order', () => {
    fails(
      () =>
        checkIdentities(
          parse({
            groups: [
              { name: 'x', members: ['group:y'] },
              { name: 'y', members: ['group:x'] },
            ],
          }),
        ),
      /group cycle: (x -> y -> x|y -> x -> y)/,
    );
  });

  test('undeclared members and groups are refused with where they are', () => {
    fails(() => checkIdentities(parse({ groups: [{ name: 'g', members: ['user:nobody'] }] })), /member user:nobody, which is not declared/, 'identities.groups[0].members[0]');
    fails(() => checkIdentities(parse({ groups: [{ name: 'g', members: ['service:ghost'] }] })), /service:ghost/);
    fails(() => checkIdentities(parse({ groups: [{ name: 'g', members: ['group:h'] }] })), /group:h/);
    fails(() => checkIdentities(parse({ users: [{ name: 'a', roles: [], groups: ['nope'] }] })), /group "nope", which is not declared/, 'identities.users[0].groups[0]');
  });

  test('duplicate names are refused', () => {
    fails(() => checkIdentities(parse({ users: [{ name: 'a', roles: [] }, { name: 'a', roles: [] }] })), /users "a" is declared twice/, 'identities.users[1].name');
    fails(() => checkIdentities(parse({ oidc: [github, github] })), /oidc "github" is declared twice/);
    // a user and a service account may share a name: they are different principals
    assert.doesNotThrow(() => checkIdentities(parse({ users: [{ name: 'ci', roles: [] }], serviceAccounts: [{ name: 'ci', roles: [] }] })));
  });

  test('a chain of 1,000 nested groups neither overflows the stack nor loses roles', () => {
    const n = 1000;
    const groups = Array.from({ length: n }, (_, i) => ({ name: `g${i}`, roles: [`r${i}`], members: i === 0 ? ['user:deep'] : [`group:g${i - 1}`] }));
    const ids = parse({ users: [{ name: 'deep', roles: [] }], groups });
    const t0 = performance.now();
    const p = resolvePrincipal(ids, { kind: 'user', name: 'deep' }, 'token:x');
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(p?.roles.length, n);
    assert.equal(p?.groups.length, n);
    // and the cycle check also copes with a long cycle
    const cyclic = parse({ groups: groups.map((g, i) => (i === 0 ? { ...g, members: [`group:g${n - 1}`] } : g)) });
    fails(() => checkIdentities(cyclic), /group cycle: /);
  });
});

describe('resolvePrincipal', () => {
  const ids = sample();

  test('a user holds its roles and those of every group it is in, nested groups flattened', () => {
    const bob = resolvePrincipal(ids, { kind: 'user', name: 'bob' }, 'token:abc');
    assert.deepEqual(bob, {
      kind: 'user',
      name: 'bob',
      id: 'user:bob',
      roles: ['approver', 'releaser', 'viewer'],
      groups: ['approvers', 'engineering', 'payments'],
      credential: 'token:abc',
      scopes: [],
    });
  });

  test('groups listed on the user count like member lists', () => {
    const alice = resolvePrincipal(ids, { kind: 'user', name: 'alice' }, 'session:j1');
    assert.deepEqual(alice?.roles, ['approver', 'developer', 'releaser', 'viewer']);
    assert.deepEqual(alice?.groups, ['approvers', 'engineering', 'payments']);
  });

  test('a user in no group holds only its own roles', () => {
    const carol = resolvePrincipal(ids, { kind: 'user', name: 'carol' }, 'token:c');
    assert.deepEqual(carol?.roles, ['approver', 'viewer']);
    assert.deepEqual(carol?.groups, ['approvers']);
    const plain = resolvePrincipal(parse({ users: [{ name: 'solo', roles: ['viewer'] }] }), { kind: 'user', name: 'solo' }, 't');
    assert.deepEqual(plain?.groups, []);
  });

  test('service accounts resolve through groups too', () => {
    const ci = resolvePrincipal(ids, { kind: 'service', name: 'ci' }, 'token:ci', [], ['api']);
    assert.deepEqual(ci?.roles, ['approver', 'developer', 'viewer']);
    assert.deepEqual(ci?.groups, ['approvers', 'engineering']);
    assert.deepEqual(ci?.scopes, ['api']);
  });

  test('just-in-time roles are added', () => {
    const carol = resolvePrincipal(ids, { kind: 'user', name: 'carol' }, 'token:c', ['admin']);
    assert.deepEqual(carol?.roles, ['admin', 'approver', 'viewer']);
  });

  test('unknown principals and workloads are undefined; kinds do not mix', () => {
    assert.equal(resolvePrincipal(ids, { kind: 'user', name: 'mallory' }, 't'), undefined);
    assert.equal(resolvePrincipal(ids, { kind: 'service', name: 'alice' }, 't'), undefined);
    assert.equal(resolvePrincipal(ids, { kind: 'user', name: 'ci' }, 't'), undefined);
    assert.equal(resolvePrincipal(ids, { kind: 'workload', name: 'github:org/repo' }, 't'), undefined);
    assert.equal(resolvePrincipal(ids, { kind: 'user', name: 'payments' }, 't'), undefined);
  });

  test('an inconsistent section throws on first use, too', () => {
    fails(() => resolvePrincipal(parse({ groups: [{ name: 'a', members: ['group:a'] }] }), { kind: 'user', name: 'x' }, 't'), /cycle/);
  });

  test('property: roles and groups equal a naive fixpoint over random acyclic group graphs', () => {
    const gen = fc.integer({ min: 1, max: 12 }).chain((ng) =>
      fc.record({
        ng: fc.constant(ng),
        // member edges only from lower to higher index: acyclic by construction
        edges: fc.array(fc.tuple(fc.nat(ng - 1), fc.nat(ng - 1)), { maxLength: 30 }),
        userIn: fc.array(fc.nat(ng - 1), { maxLength: 4 }),
        userVia: fc.array(fc.nat(ng - 1), { maxLength: 3 }),
        groupRoles: fc.array(fc.subarray(['a', 'b', 'c', 'd', 'e']), { minLength: ng, maxLength: ng }),
        userRoles: fc.subarray(['a', 'x']),
      }),
    );
    fc.assert(
      fc.property(gen, ({ ng, edges, userIn, userVia, groupRoles, userRoles }) => {
        const members: string[][] = Array.from({ length: ng }, () => []);
        const contains = new Set<string>();
        for (const [i, j] of edges) {
          if (i < j && !contains.has(`${j}>${i}`)) {
            contains.add(`${j}>${i}`);
            members[j]!.push(`group:g${i}`); // g_j contains g_i
          }
        }
        for (const j of new Set(userIn)) members[j]!.push('user:u');
        const ids = parse({
          users: [{ name: 'u', roles: userRoles, groups: [...new Set(userVia)].map((j) => `g${j}`) }],
          groups: members.map((m, j) => ({ name: `g${j}`, roles: groupRoles[j]!, members: m })),
        });
        // model: fixpoint of "in g_j if directly in it, or in some g_i that g_j contains"
        const inG = new Set<number>([...userIn, ...userVia]);
        for (let changed = true; changed; ) {
          changed = false;
          for (const k of contains) {
            const [j, i] = k.split('>').map(Number) as [number, number];
            if (inG.has(i) && !inG.has(j)) {
              inG.add(j);
              changed = true;
            }
          }
        }
        const roles = new Set<string>(userRoles);
        for (const j of inG) for (const r of groupRoles[j]!) roles.add(r);
        const p = resolvePrincipal(ids, { kind: 'user', name: 'u' }, 't');
        assert.deepEqual(p?.groups, [...inG].map((j) => `g${j}`).sort());
        assert.deepEqual(p?.roles, [...roles].sort());
      }),
      { numRuns: 500 },
    );
  });
});

describe('parsePrincipalId', () => {
  test('parses the three kinds', () => {
    assert.deepEqual(parsePrincipalId('user:alice'), { kind: 'user', name: 'alice' });
    assert.deepEqual(parsePrincipalId('service:ci'), { kind: 'service', name: 'ci' });
    assert.deepEqual(parsePrincipalId('workload:github:org/repo'), { kind: 'workload', name: 'github:org/repo' });
  });
  test('property: never throws; whatever parses prints back to the same text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('user:', 'user:A', 'group:x', 'workload: x', 'service:a'.padEnd(300, 'b'))), (s) => {
        const p = parsePrincipalId(s);
        if (p) assert.equal(`${p.kind}:${p.name}`, s);
      }),
      { numRuns: 3000 },
    );
  });
});
