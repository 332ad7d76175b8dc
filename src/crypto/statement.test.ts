import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import {
  ANNOTATION,
  RELEASE_BUILD_TYPE,
  STAGEGATE_BUILDER_ID,
  artifactSubject,
  buildReleaseStatement,
  configSubject,
  imageSubject,
  parseProvenance,
  parseReleaseStatement,
  validateSubjectName,
} from './statement.ts';
import type { ReleaseSubject } from './statement.ts';

const hex = (c: string) => c.repeat(64);
const subjects: ReleaseSubject[] = [
  artifactSubject('checkout.tar.gz', `sha256:${hex('a')}`, 'checkout.tar.gz'),
  configSubject('app/settings.yaml', `sha256:${hex('b')}`, 'cfg'),
  imageSubject(`ghcr.io/acme/checkout:1.4.2@sha256:${hex('c')}`),
];
const isInvalid = (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && Boolean(e.details.fix);

describe('buildReleaseStatement', () => {
  test('default predicate, sorted subjects, annotations, canonical bytes', () => {
    const { bytes, statement } = buildReleaseStatement({ service: 'checkout', version: '1.4.2', subjects });
    const text = bytes.toString('utf8');
    assert.ok(!text.includes('\n') && !text.includes(': '));
    const parsed = JSON.parse(text);
    assert.deepEqual(JSON.parse(text), statement);
    assert.equal(parsed._type, 'https://in-toto.io/Statement/v1');
    assert.equal(parsed.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(parsed.subject.map((s: { name: string }) => s.name), ['checkout.tar.gz', 'config/app/settings.yaml', 'ghcr.io/acme/checkout']);
    assert.deepEqual(parsed.subject[2].digest, { sha256: hex('c') });
    assert.equal(parsed.subject[0].annotations[ANNOTATION.service], 'checkout');
    assert.deepEqual(parsed.predicate, {
      buildDefinition: { buildType: RELEASE_BUILD_TYPE, externalParameters: { service: 'checkout', version: '1.4.2' } },
      runDetails: { builder: { id: STAGEGATE_BUILDER_ID } },
    });
  });
  test('deterministic: same inputs in any order give the same bytes', () => {
    const a = buildReleaseStatement({ service: 'checkout', version: '1', subjects });
    const b = buildReleaseStatement({ service: 'checkout', version: '1', subjects: [...subjects].reverse() });
    assert.ok(a.bytes.equals(b.bytes));
  });
  test('round trip through parseReleaseStatement', () => {
    const { bytes } = buildReleaseStatement({ service: 'checkout', version: '1.4.2', subjects });
    const r = parseReleaseStatement(bytes);
    assert.equal(r.service, 'checkout');
    assert.equal(r.version, '1.4.2');
    assert.deepEqual(r.subjects.map((s) => [s.name, s.kind]), [['checkout.tar.gz', 'artifact'], ['config/app/settings.yaml', 'config'], ['ghcr.io/acme/checkout', 'image']]);
  });
  test('a given provenance is kept, with service/version added', () => {
    const provenance = parseProvenance(
      {
        buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1', externalParameters: { workflow: { ref: 'main' } } },
        runDetails: { builder: { id: 'https://github.com/actions/runner' }, metadata: { invocationId: 'run-1' }, extra: [1] },
      },
      'prov.json',
    );
    const { bytes } = buildReleaseStatement({ service: 'checkout', version: '2', subjects, provenance });
    const r = parseReleaseStatement(bytes);
    assert.deepEqual(r.predicate.buildDefinition.externalParameters, { workflow: { ref: 'main' }, service: 'checkout', version: '2' });
    assert.deepEqual((r.predicate.runDetails as Record<string, unknown>).extra, [1]);
  });
  test('provenance naming another version is refused', () => {
    const provenance = parseProvenance(
      { buildDefinition: { buildType: 'https://x.dev/t', externalParameters: { version: '9' } }, runDetails: { builder: { id: 'https://x.dev/b' } } },
      'prov.json',
    );
    assert.throws(() => buildReleaseStatement({ service: 'checkout', version: '2', subjects, provenance }), isInvalid);
  });
  test('refusals: duplicates, empty, bad service/version', () => {
    const dup = [...subjects, artifactSubject('checkout.tar.gz', `sha256:${hex('d')}`, 'other/checkout.tar.gz')];
    assert.throws(() => buildReleaseStatement({ service: 'checkout', version: '1', subjects: dup }), (e: unknown) => isInvalid(e) && /two subjects/.test((e as Error).message));
    assert.throws(() => buildReleaseStatement({ service: 'checkout', version: '1', subjects: [] }), isInvalid);
    assert.throws(() => buildReleaseStatement({ service: 'Checkout', version: '1', subjects }), isInvalid);
    assert.throws(() => buildReleaseStatement({ service: 'checkout', version: '../1', subjects }), isInvalid);
  });
  test('image tags alone are refused with the fix', () => {
    assert.throws(() => imageSubject('ghcr.io/acme/checkout:1.4.2'), (e: unknown) => isInvalid(e) && /pinned by digest/.test((e as Error).message));
  });
});

describe('subject names', () => {
  test('bad names are refused', () => {
    for (const n of ['', '../x', 'a/../b', '/etc/passwd', 'C:/x', 'a\\b', 'a\0b', 'a//b', './a', 'x'.repeat(1025)]) {
      assert.throws(() => validateSubjectName(n, 'here'), isInvalid, JSON.stringify(n));
    }
    assert.equal(validateSubjectName('config/a/b.yaml', 'here'), 'config/a/b.yaml');
  });
  test('property: accepted names never escape', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (n) => {
        try {
          validateSubjectName(n, 'p');
        } catch (e) {
          return isInvalid(e);
        }
        return !n.startsWith('/') && !n.split('/').includes('..') && !n.includes('\\') && !n.includes('\0');
      }),
    );
  });
});

describe('parseReleaseStatement', () => {
  const good = JSON.parse(buildReleaseStatement({ service: 'checkout', version: '1', subjects }).bytes.toString('utf8'));
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
  test('names the field that is wrong', () => {
    const bad = structuredClone(good);
    bad.subject[1].digest.sha256 = 'XYZ';
    assert.throws(() => parseReleaseStatement(enc(bad), 's.json'), (e: unknown) => isInvalid(e) && (e as DomainError).details.field === 'subject[1].digest.sha256');
  });
  test('mixed service annotations and mismatched predicate are refused', () => {
    const bad = structuredClone(good);
    bad.subject[1].annotations[ANNOTATION.version] = '2';
    assert.throws(() => parseReleaseStatement(enc(bad)), isInvalid);
    const bad2 = structuredClone(good);
    bad2.predicate.buildDefinition.externalParameters.service = 'other';
    assert.throws(() => parseReleaseStatement(enc(bad2)), isInvalid);
    const bad3 = structuredClone(good);
    bad3.subject[2].name = bad3.subject[0].name;
    assert.throws(() => parseReleaseStatement(enc(bad3)), isInvalid);
  });
  test('property: arbitrary bytes and JSON give a result or an invalid_input, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.jsonValue().map(enc)), (b) => {
        try {
          parseReleaseStatement(b);
          return true;
        } catch (e) {
          return isInvalid(e);
        }
      }),
    );
  });
  test('property: mutated good statements never throw anything but DomainError', () => {
    fc.assert(
      fc.property(fc.constantFrom('_type', 'subject', 'predicateType', 'predicate'), fc.jsonValue(), (key, value) => {
        try {
          parseReleaseStatement(enc({ ...good, [key]: value }));
          return true;
        } catch (e) {
          return isInvalid(e);
        }
      }),
    );
  });
});

describe('parseProvenance', () => {
  test('refuses non-URI builder ids and deep nesting', () => {
    assert.throws(
      () => parseProvenance({ buildDefinition: { buildType: 'x', externalParameters: {} }, runDetails: { builder: { id: 'b' } } }, 'p.json'),
      (e: unknown) => isInvalid(e) && (e as DomainError).details.field === 'buildDefinition.buildType',
    );
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { a: deep };
    assert.throws(
      () => parseProvenance({ buildDefinition: { buildType: 'https://a/b', externalParameters: { deep } }, runDetails: { builder: { id: 'https://b/c' } } }, 'p.json'),
      (e: unknown) => isInvalid(e) && /nests deeper/.test((e as Error).message),
    );
  });
  test('property: arbitrary JSON is accepted or refused with invalid_input', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      try {
        parseProvenance(v, 'p');
        return true;
      } catch (e) {
        return isInvalid(e);
      }
    }));
  });
});
