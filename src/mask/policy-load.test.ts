import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../domain/errors.ts';
import { compilePointers } from './json-walk.ts';
import { parsePolicy } from './policy-load.ts';
import { createPrf } from './prf.ts';

const problems = (text: string): string => {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (e) {
    assert.ok(e instanceof DomainError && e.code === 'invalid_input');
    return e.message;
  }
  assert.fail('expected the policy to be refused');
};

describe('parsePolicy', () => {
  test('short and long forms, defaults', () => {
    const { policy } = parsePolicy(
      'format: csv\nfields:\n  email: email\n  phone: { method: phone, countryCodeDigits: 2 }\n  tier: { fixed: gold }\n  gone: drop\n  id: { method: id, prefixes: [cus_], scope: customer }\n',
      'p.yaml',
    );
    assert.equal(policy.default, 'error');
    assert.equal(policy.format, 'csv');
    assert.equal(policy.delimiter, ',');
    assert.deepEqual(policy.fields.get('email'), { method: 'email', domain: 'example.com', length: 12 });
    assert.deepEqual(policy.fields.get('phone'), { method: 'phone', countryCodeDigits: 2 });
    assert.deepEqual(policy.fields.get('tier'), { method: 'fixed', value: 'gold' });
    assert.deepEqual(policy.fields.get('gone'), { method: 'drop' });
    assert.deepEqual(policy.fields.get('id'), { method: 'id', prefixes: ['cus_'], scope: 'customer' });
    assert.deepEqual([...policy.fields.keys()], ['email', 'phone', 'tier', 'gone', 'id']);
  });
  test('each problem with file:line:col, field and fix, all at once', () => {
    const m = problems('default: deny\nfields:\n  a: emial\n  b: { method: phone, countryCode: 2 }\n  c: { method: email, length: 2 }\n  d: [1]\n');
    assert.match(m, /5 problems/);
    assert.match(m, /p\.yaml:1:10: default: must be one of "error", "keep", "drop"/);
    assert.match(m, /p\.yaml:3:6: fields\["a"\]: unknown method "emial" — fix: use one of email, phone, id, name, text, keep, drop, null/);
    assert.match(m, /p\.yaml:4:23: fields\["b"\]\["countryCode"\]: unknown option\(s\) `countryCode`/);
    assert.match(m, /p\.yaml:5:31: fields\["c"\]\["length"\]: .*6/);
    assert.match(m, /p\.yaml:6:6: fields\["d"\]: expected a method name or a mapping/);
  });
  test('YAML syntax, empty file, missing or empty fields, unknown top-level keys', () => {
    assert.match(problems('fields:\n  a: [email\n'), /p\.yaml:\d+:\d+: \(yaml\)/);
    assert.match(problems(''), /the policy is empty/);
    assert.match(problems('default: keep\n'), /missing required field `fields`/);
    assert.match(problems('fields: {}\n'), /`fields` is empty/);
    assert.match(problems('fields: { a: keep }\nfeilds: {}\n'), /p\.yaml:2:1: feilds: unknown option\(s\) `feilds`/);
    assert.match(problems('fields:\n  a: keep\n  a: drop\n'), /p\.yaml:3:3: \(yaml\).*[Uu]nique|duplicate/i);
    assert.match(problems('csv: { delimiter: ";;" }\nfields: { a: keep }\n'), /csv\["delimiter"\]/);
    assert.match(problems('fields:\n  a: null\n  b:\n'), /p\.yaml:2:6: fields\["a"\]: no method .* — fix: .*write "null" in quotes/);
  });
});

describe('JSON Pointers in the policy', () => {
  const prf = createPrf(Buffer.alloc(32, 1));
  const pointerProblems = (fields: string) => {
    try {
      compilePointers(parsePolicy(`fields:\n${fields}`, 'p.yaml'), prf);
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('expected the pointers to be refused');
  };
  test('overlapping pointers are refused with the line of the later one', () => {
    assert.match(pointerProblems('  /customer: keep\n  /customer/email: email\n'), /p\.yaml:3:3: .*\/customer\/email overlaps \/customer/);
    assert.match(pointerProblems('  /a/b: keep\n  /a: drop\n'), /p\.yaml:3:3: .*\/a overlaps a longer pointer/);
    assert.match(pointerProblems('  /items/*/sku: keep\n  /items/0/name: name\n'), /mixes an array index with `\*`/);
  });
  test('bad escapes and the root pointer are refused; CSV column names are skipped', () => {
    assert.match(pointerProblems('  /a~2b: keep\n'), /~ that is not ~0 or ~1/);
    const root = compilePointers(parsePolicy('fields:\n  email: email\n  /a~1b/~0c: keep\n  /items/*/x: keep\n', 'p.yaml'), prf);
    assert.deepEqual([...root.children.keys()], ['a/b', 'items']);
    assert.ok(root.children.get('a/b')?.children.get('~c')?.rule);
    assert.ok(root.children.get('items')?.star?.children.get('x')?.rule);
  });
});
