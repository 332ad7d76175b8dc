import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from './errors.ts';
import { IMAGE_REF_RE, isDigest, NAME_RE, parseImageRef, parseServiceVersion, VERSION_RE } from './ids.ts';

/** strings likely to hit the edges: the separators and characters the grammars care about */
const edgy = fc.string({ unit: fc.constantFrom('a', 'z', '0', '9', 'A', '-', '_', '.', '+', '@', ':', '/', '%', ' ', '\n', '\0', 'é', '..'), maxLength: 40 });
const anyString = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), edgy);

const hex64 = fc.stringMatching(/^[a-f0-9]{64}$/);
const name = fc.stringMatching(NAME_RE);
const version = fc.stringMatching(VERSION_RE);
const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}$/);
const repository = fc
  .tuple(component, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.array(component, { maxLength: 3 }))
  .map(([host, port, rest]) => [`${host}${port === undefined ? '' : `:${port}`}`, ...rest].join('/'));
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/);

/** run a parser: it returns, or throws a DomainError with a message and a fix; never anything else */
function outcome<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    assert.ok(e instanceof DomainError, `threw ${String(e)}`);
    assert.equal(e.code, 'invalid_input');
    assert.ok(e.message.length > 0 && e.message.length < 400);
    assert.ok(e.details.fix);
    return undefined;
  }
}

describe('parseServiceVersion', () => {
  test('never throws anything but DomainError; accepted inputs round-trip', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const r = outcome(() => parseServiceVersion(s));
        if (r) {
          assert.equal(`${r.service}@${r.version}`, s);
          assert.match(r.service, NAME_RE);
          assert.match(r.version, VERSION_RE);
        }
      }),
      { numRuns: 2000 },
    );
  });
  test('every valid service@version is accepted as written', () => {
    fc.assert(
      fc.property(name, version, (s, v) => {
        assert.deepEqual(parseServiceVersion(`${s}@${v}`), { service: s, version: v });
      }),
    );
  });
  test('refuses path characters, a missing version and a bad service, naming the input', () => {
    for (const s of ['checkout', 'checkout@', '@1.0.0', 'Checkout@1.0.0', 'checkout@../../x', 'checkout@1.0/2', 'checkout@1@2']) {
      assert.throws(() => parseServiceVersion(s), (e: unknown) => e instanceof DomainError && e.message.includes(s));
    }
  });
});

describe('parseImageRef', () => {
  test('never throws anything but DomainError; accepted inputs round-trip', () => {
    const nearRef = fc.tuple(fc.oneof(repository, anyString), fc.constantFrom('', ':v1', ':', '@', '@sha256:'), fc.oneof(hex64, anyString)).map(([r, sep, h]) => `${r}${sep}${h}`);
    fc.assert(
      fc.property(fc.oneof(anyString, nearRef), (s) => {
        const r = outcome(() => parseImageRef(s));
        if (r) {
          assert.equal(`${r.repository}${r.tag === undefined ? '' : `:${r.tag}`}@${r.digest}`, s);
          assert.ok(isDigest(r.digest));
        }
      }),
      { numRuns: 2000 },
    );
  });
  test('every well-formed pinned reference is accepted and split into its parts', () => {
    fc.assert(
      fc.property(repository, fc.option(tag, { nil: undefined }), hex64, (repo, t, hex) => {
        // `host:5000@sha256:...` is read as host:port (no tag); Docker reads it as name:tag. Left out
        // here: the two readings differ only for an all-digit tag on a repository without a path.
        fc.pre(!(t !== undefined && /^[0-9]+$/.test(t) && !repo.includes('/')));
        const ref = `${repo}${t === undefined ? '' : `:${t}`}@sha256:${hex}`;
        assert.deepEqual(parseImageRef(ref), { repository: repo, ...(t === undefined ? {} : { tag: t }), digest: `sha256:${hex}` });
      }),
    );
  });
  test('a tag alone is refused with the fix: pin by digest', () => {
    fc.assert(
      fc.property(repository, tag, (repo, t) => {
        assert.throws(
          () => parseImageRef(`${repo}:${t}`),
          (e: unknown) => e instanceof DomainError && /not pinned by digest/.test(e.message) && e.details.field === 'image' && /sha256/.test(e.details.fix ?? ''),
        );
      }),
    );
  });
  test('uppercase or short digests are refused', () => {
    assert.throws(() => parseImageRef(`registry.example.com/app@sha256:${'A'.repeat(64)}`), DomainError);
    assert.throws(() => parseImageRef('registry.example.com/app@sha256:abc'), DomainError);
  });
  test('long adversarial inputs are decided quickly (no catastrophic backtracking)', () => {
    for (const s of ['a'.repeat(20_000), `${'a.'.repeat(10_000)}!`, `${'a/'.repeat(10_000)}@sha256:x`, `${'a-'.repeat(10_000)}:${'b'.repeat(10_000)}`]) {
      const t0 = performance.now();
      IMAGE_REF_RE.test(s);
      outcome(() => parseImageRef(s));
      outcome(() => parseServiceVersion(s));
      assert.ok(performance.now() - t0 < 200, `slow on input of length ${s.length}`);
    }
  });
});
