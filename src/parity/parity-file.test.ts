import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { parse } from 'yaml';
import { DomainError } from '../domain/errors.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parityAuditFindings } from './audit-findings.ts';
import { parityJsonSchemaText, parseParityFile } from './parity-file.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const known = { environments: ['dev', 'staging', 'prod'], services: ['checkout'] };
const good = `allow:
  - id: smaller-staging
    path: /checkout/runtime/replicas
    environments: [staging, prod]
    reason: staging runs fewer replicas
    owner: team-sre
    expires: "2027-01-31"
  - id: any-observability
    path: /*/observability/~0odd~1key
    environments: "*"
    services: [checkout]
    reason: retention differs on purpose
    owner: team-obs
    expires: 2027-06-30
secretAgeToleranceDays: 7
`;

function problem(text: string): DomainError {
  try {
    parseParityFile(text, 'parity.yaml', known);
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return e;
  }
  assert.fail('parseParityFile accepted bad input');
}

describe('parity.yaml', () => {
  test('a good file: pointers decoded, wildcards kept, dates as given', () => {
    const r = parseParityFile(good, 'parity.yaml', known);
    assert.equal(r.secretAgeToleranceDays, 7);
    assert.deepEqual(r.allow[1]?.pattern, ['*', 'observability', '~odd/key']);
    assert.deepEqual(r.allow[0]?.environments, ['staging', 'prod']);
    assert.equal(r.allow[1]?.expires, '2027-06-30');
  });

  test('an invalid pointer names the rule, the position and the fix', () => {
    const e = problem(good.replace('/checkout/runtime/replicas', '/checkout/run~time'));
    assert.match(e.message, /parity\.yaml:3:11: allow\[0\]\.path: rule smaller-staging: path is not a JSON Pointer: .*"~" not followed by 0 or 1/);
    assert.match(e.message, /fix: escape a literal "~" as ~0/);
    assert.equal(e.details.line, 3);
    const rel = problem(good.replace('/checkout/runtime/replicas', 'checkout/runtime'));
    assert.match(rel.message, /does not start with "\/" — fix: write it as a JSON Pointer: \/checkout\/runtime/);
  });

  test('reason and owner are required; expires must be a real date', () => {
    const e = problem(good.replace('    reason: staging runs fewer replicas\n', '').replace('    owner: team-obs\n', '').replace('2027-06-30', '2027-02-30'));
    assert.match(e.message, /3 problems/);
    assert.match(e.message, /allow\[0\]\.reason: /);
    assert.match(e.message, /allow\[1\]\.owner: /);
    assert.match(e.message, /allow\[1\]\.expires: not a real calendar date/);
    assert.match(problem(good.replace('reason: staging runs fewer replicas', "reason: '  '")).message, /a reason is required/);
  });

  test('unknown environments and services, duplicate ids, the same environment twice, unknown fields', () => {
    const e = problem(good.replace('[staging, prod]', '[stagin, stagin]').replace('services: [checkout]', 'services: [cart]').replace('id: any-observability', 'id: smaller-staging'));
    assert.match(e.message, /environment "stagin" is not in the project — fix: use one of dev, staging, prod/);
    assert.match(e.message, /the pair names stagin twice/);
    assert.match(e.message, /service "cart" is not in the project/);
    assert.match(e.message, /rule id "smaller-staging" is used twice/);
    assert.match(problem(`${good}extra: 1\n`).message, /Unrecognized key/);
    assert.match(problem('allow: [').message, /^parity\.yaml:1:/);
  });

  test('property: any text either parses or fails with a DomainError naming parity.yaml', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseParityFile(text, 'parity.yaml', known);
          return true;
        } catch (e) {
          return e instanceof DomainError && e.message.startsWith('parity.yaml');
        }
      }),
    );
  });

  test('schema/parity.schema.json is the generated schema, and ajv agrees with the loader', async () => {
    const text = await readFile(path.join(root, 'schema', 'parity.schema.json'), 'utf8');
    assert.equal(text, parityJsonSchemaText(), 'regenerate: npx tsx -e "import(\'./src/parity/parity-file.ts\').then(m => process.stdout.write(m.parityJsonSchemaText()))" > schema/parity.schema.json');
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(text));
    assert.equal(validate(parse(good)), true, JSON.stringify(validate.errors));
    for (const bad of [good.replace('/checkout/runtime/replicas', '/a~2'), good.replace('    owner: team-sre\n', ''), good.replace('"2027-01-31"', 'soon')]) {
      assert.equal(validate(parse(bad)), false, bad);
      assert.throws(() => parseParityFile(bad, 'parity.yaml', known), DomainError);
    }
  });

  test('manifest audit: an expired rule is a finding with its line; a broken file is one finding', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-parity-audit-'));
    try {
      const project = { baseDir: dir, environments: known.environments.map((name) => ({ name })), services: [{ name: 'checkout' }] };
      assert.deepEqual(await parityAuditFindings(project, new Date('2026-01-01T00:00:00Z')), [], 'no parity.yaml: nothing');
      writeFileSync(path.join(dir, 'parity.yaml'), good);
      const [f, ...rest] = await parityAuditFindings(project, new Date('2027-02-01T00:00:00Z'));
      assert.equal(rest.length, 0);
      assert.equal(f?.kind, 'expired-parity-rule');
      assert.equal(f?.line, 2);
      assert.match(f?.message ?? '', /allowed difference smaller-staging \(\/checkout\/runtime\/replicas, owner team-sre\) expired on 2027-01-31/);
      writeFileSync(path.join(dir, 'parity.yaml'), 'allow:\n  - id: x\n');
      const [broken] = await parityAuditFindings(project, new Date());
      assert.equal(broken?.kind, 'invalid-parity-file');
      assert.match(broken?.message ?? '', /allow\[0\]\.path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
