import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateX25519Identity } from 'age-encryption';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { parseIdentityFile } from './identity-file.ts';
import { parseSopsConfig, recipientsFor } from './sops-config.ts';

const A = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const B = 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg';
const R = 'age1yt3tfqlfrwdwx0z0ynwplcy6qk6ul38ds7c8enwmzkh4vdm4sa9qme6ws2';
const F = '/p/.sops.yaml';

const throwsDomain = (fn: () => unknown, re: RegExp, field?: string) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.match(e.message, re);
    assert.equal(e.details.file, F);
    if (field) assert.equal(e.details.field, field);
    assert.ok(e.details.fix, 'every error says what to do');
    return true;
  });

describe('.sops.yaml', () => {
  test('first matching rule wins; paths are relative to the config folder; comma, space and list forms', () => {
    const c = parseSopsConfig(
      `creation_rules:\n  - path_regex: ^secrets/prod/\n    age: "${A}, ${R}"\n  - path_regex: ^secrets/\n    age: >-\n      ${B}\n      ${R}\n  - age: [${A}]\n`,
      F,
    );
    assert.deepEqual(recipientsFor(c, '/p/secrets/prod/checkout.sops.yaml').recipients, [A, R]);
    assert.equal(recipientsFor(c, '/p/secrets/prod/checkout.sops.yaml').rule.index, 0);
    assert.deepEqual(recipientsFor(c, '/p/secrets/staging/checkout.sops.yaml').recipients, [B, R]);
    assert.deepEqual(recipientsFor(c, '/p/other/x.yaml').recipients, [A]); // no path_regex: matches all
  });

  test('no matching rule: names the file path and says how to add one', () => {
    const c = parseSopsConfig(`creation_rules:\n  - path_regex: ^secrets/prod/\n    age: ${A}\n`, F);
    throwsDomain(() => recipientsFor(c, '/p/secrets/dev/checkout.sops.yaml'), /no creation rule matches secrets\/dev\/checkout\.sops\.yaml/, 'creation_rules');
  });

  test('a bad path_regex names the rule and the pattern', () => {
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - age: ${A}\n  - path_regex: "^secrets/(prod"\n    age: ${A}\n`, F), /creation_rules\[1\]\.path_regex "\^secrets\/\(prod" is not a valid regular expression/, 'creation_rules[1].path_regex');
    // RE2 has no backreferences (sops uses Go's regexp): refused rather than silently different
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - path_regex: "(a)\\\\1"\n    age: ${A}\n`, F), /path_regex/);
  });

  test('bad recipients, unsupported keys, empty and malformed files', () => {
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - age: age1nope\n`, F), /creation_rules\[0\]\.age: "age1nope" is not an age X25519 recipient/, 'creation_rules[0].age');
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - age: " , "\n`, F), /lists 0 recipients/);
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - path_regex: x\n`, F), /creation_rules\[0\]\.age/);
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - age: ${A}\n    pgp: ABCD\n`, F), /pgp is not supported/);
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - age: ${A}\n    encrypted_regex: ^data$\n`, F), /encrypted_regex is not supported/);
    throwsDomain(() => parseSopsConfig(`creation_rules: []\n`, F), /non-empty creation_rules/, 'creation_rules');
    throwsDomain(() => parseSopsConfig(`{}\n`, F), /non-empty creation_rules/);
    throwsDomain(() => parseSopsConfig(`creation_rules:\n  - age: [\n`, F), /is not valid YAML/);
    throwsDomain(() => parseSopsConfig(`a: &x 1\nb: *x\ncreation_rules:\n  - age: ${A}\n`, F), /aliases are not supported/);
  });

  test('property: any text gives a config or a DomainError naming the file', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('creation_rules:\n  - age: ', 'creation_rules:\n  - path_regex: ').chain((p) => fc.string({ maxLength: 80 }).map((s) => p + s))), (text) => {
        try {
          parseSopsConfig(text, F);
        } catch (e) {
          assert.ok(e instanceof DomainError, String(e));
          assert.equal(e.details.file, F);
        }
      }),
    );
  });
});

describe('age identity files', () => {
  test('identities, comments and blank lines', async () => {
    const id = await generateX25519Identity();
    assert.deepEqual(parseIdentityFile(`# created: now\n# public key: ${A}\n\n${id}\n`, 'k.txt'), [id]);
  });
  test('a bad line is named by number, never echoed', () => {
    assert.throws(
      () => parseIdentityFile(`# c\nAGE-SECRET-KEY-1SECRETISH\n`, 'k.txt'),
      (e: unknown) => e instanceof DomainError && e.details.line === 2 && /k\.txt:2/.test(e.message) && !e.message.includes('SECRETISH'),
    );
    assert.throws(() => parseIdentityFile('# only comments\n', 'k.txt'), /holds no age identity/);
  });
});
