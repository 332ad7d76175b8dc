import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../../domain/errors.ts';
import { buildPolicySet, defaultPolicyDir, loadPolicySet, policyDigest, schemaFileName } from './load.ts';

const tmp = await mkdtemp(path.join(tmpdir(), 'sg-cedar-load-'));
after(() => rm(tmp, { recursive: true, force: true }));
const schemaText = await readFile(path.join(defaultPolicyDir, schemaFileName), 'utf8');

const build = (files: Record<string, string>, schema = schemaText) =>
  buildPolicySet({ dir: '/p', isDefault: false, schemaFile: '/p/schema.cedarschema', schemaText: schema, files: new Map(Object.entries(files)) });

/** the DomainError a build throws */
function problemsOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DomainError, `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, 'invalid_input');
    return e;
  }
  assert.fail('expected the policy set to be refused');
}

const ok = 'permit (principal in Stagegate::Role::"viewer", action == Stagegate::Action::"release.read", resource);';

describe('loadPolicySet: the shipped defaults', () => {
  test('load, with @id names, effects, reasons and positions', async () => {
    const set = await loadPolicySet();
    assert.equal(set.isDefault, true);
    assert.deepEqual(set.warnings, []);
    const ids = set.policies.map((p) => p.id).sort();
    assert.deepEqual(ids, [
      'admin-all',
      'approver-decide',
      'approver-flags',
      'developer-flags-non-prod',
      'developer-promote-non-prod',
      'evaluate-flags',
      'forbid-breakglass-promote-without-admin',
      'forbid-non-human-decisions',
      'forbid-prod-flags-without-releaser',
      'forbid-prod-promote-without-releaser',
      'forbid-workload-credentials',
      'push-releases',
      'read-pipeline',
      'releaser-flags',
      'releaser-promote',
      'security-oversight',
      'self-service',
    ]);
    for (const p of set.policies) {
      assert.ok(p.reason && p.reason.length > 10, `${p.id} has a reason`);
      assert.equal(p.effect, p.id.startsWith('forbid-') ? 'forbid' : 'permit');
      const lines = (await readFile(p.file, 'utf8')).split('\n');
      assert.ok(lines[p.line - 1]?.startsWith(`@id("${p.id}")`), `${p.id} at ${p.file}:${p.line}`);
    }
    assert.match(set.digest, /^sha256:[0-9a-f]{64}$/);
  });

  test('a project folder without a schema uses the shipped schema; the loaded folder is named', async () => {
    const dir = path.join(tmp, 'proj');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'a.cedar'), ok);
    await writeFile(path.join(dir, 'notes.txt'), 'not policy');
    const set = await loadPolicySet({ dir });
    assert.equal(set.isDefault, false);
    assert.equal(set.schemaFile, path.join(defaultPolicyDir, schemaFileName));
    assert.deepEqual(set.policies.map((p) => p.id), ['a:0']);
  });

  test('a missing folder, an empty one and an oversized file are refused with a fix', async () => {
    await assert.rejects(loadPolicySet({ dir: path.join(tmp, 'nope') }), (e: unknown) => e instanceof DomainError && e.code === 'not_found' && !!e.details.fix);
    const empty = path.join(tmp, 'empty');
    await mkdir(empty, { recursive: true });
    await assert.rejects(loadPolicySet({ dir: empty }), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && /no \*\.cedar files/.test(e.message));
    const big = path.join(tmp, 'big');
    await mkdir(big, { recursive: true });
    await writeFile(path.join(big, 'huge.cedar'), `// ${'x'.repeat(300 * 1024)}\n${ok}`);
    await assert.rejects(loadPolicySet({ dir: big }), (e: unknown) => e instanceof DomainError && /over the limit/.test(e.message) && e.details.file === path.join(big, 'huge.cedar'));
  });
});

describe('loadPolicySet: problems name file, line and column', () => {
  test('malformed Cedar', () => {
    const e = problemsOf(() => build({ '/p/bad.cedar': `${ok}\n\n// the next one lacks its condition body\npermit (principal, action, resource)\n  when { principal == };\n` }));
    assert.match(e.message, /\/p\/bad\.cedar:5:23: /);
    assert.deepEqual([e.details.file, e.details.line, e.details.column], ['/p/bad.cedar', 5, 23]);
  });

  test('a policy the schema refuses: unknown attribute, positioned in the right file and line (multi-byte text before it)', () => {
    const e = problemsOf(() =>
      build({
        '/p/a.cedar': ok,
        '/p/b.cedar': `// é ü ö\n${ok}\n@id("typo")\npermit (principal, action == Stagegate::Action::"promotion.request", resource)\nwhen { resource.teir == "prod" };`,
      }),
    );
    assert.match(e.message, /has 1 problem:\n\/p\/b\.cedar:5:8: .*attribute `teir`.*not found.*did you mean `tier`/);
  });

  test('every problem of every file is listed in one error', () => {
    const e = problemsOf(() =>
      build({
        '/p/one.cedar': 'permit (principal, action, resource) when { resource.nope };',
        '/p/two.cedar': 'permit (principal, action, resource',
        '/p/three.cedar': `@id("dup") ${ok}\n@id("dup") ${ok}`,
        '/p/four.cedar': 'permit (principal == ?principal, action, resource);',
        '/p/five.cedar': 'permit (principal, action, resource is Stagegate::Spaceship);',
      }),
    );
    const problems = e.details.problems as { file: string; line: number; column: number; message: string }[];
    const files = problems.map((p) => path.basename(p.file));
    assert.ok(files.includes('two.cedar') && files.includes('three.cedar') && files.includes('four.cedar'), files.join());
    assert.match(e.message, /three\.cedar:2:1: policy id "dup" is already used at \/p\/three\.cedar:1:1/);
    assert.match(e.message, /four\.cedar:1:22: .*template/);
    // schema validation waits until every file parses: then one and five are reported too
    const e2 = problemsOf(() =>
      build({ '/p/one.cedar': 'permit (principal, action, resource) when { resource.nope };', '/p/five.cedar': 'permit (principal, action, resource is Stagegate::Spaceship);' }),
    );
    assert.match(e2.message, /one\.cedar:1:45: /);
    assert.match(e2.message, /five\.cedar:1:40: .*Spaceship/);
  });

  test('schema problems point into the schema file; a schema must declare every action the authorizer asks about', () => {
    const e = problemsOf(() => build({ '/p/a.cedar': ok }, 'namespace Stagegate {\n  entity User in [Nope];\n}'));
    assert.match(e.message, /\/p\/schema\.cedarschema:2:19: .*Nope/);
    const e2 = problemsOf(() => build({ '/p/a.cedar': ok }, schemaText.replace(/action "session\.create"[^;]*;/, '')));
    assert.match(e2.message, /must declare action "session\.create"/);
    const e3 = problemsOf(() => build({ '/p/a.cedar': ok }, 'namespace Other { entity X; action "a" appliesTo { principal: X, resource: X }; }'));
    assert.match(e3.message, /no namespace Stagegate/);
  });

  test('@id must be printable and bounded', () => {
    const e = problemsOf(() => build({ '/p/a.cedar': `@id("${'x'.repeat(200)}") ${ok}` }));
    assert.match(e.message, /a\.cedar:1:1: policy id .* must be 1 to 128 printable characters/);
  });

  test('warnings (an impossible policy) are kept, not fatal', () => {
    const set = build({ '/p/a.cedar': `${ok}\npermit (principal, action == Stagegate::Action::"release.read", resource is Stagegate::Token);` });
    assert.equal(set.policies.length, 2);
    assert.ok(set.warnings.some((w) => w.startsWith('/p/a.cedar:2:1: ')), set.warnings.join('\n'));
  });

  test('property: arbitrary policy text never crashes the loader: a policy set or a DomainError', () => {
    const token = fc.constantFrom(
      'permit',
      'forbid',
      '(',
      ')',
      'principal',
      'action',
      'resource',
      ',',
      ';',
      '==',
      'in',
      'is',
      'when',
      'unless',
      '{',
      '}',
      '"',
      '"x"',
      '@id("p")',
      '@reason("r")',
      'Stagegate::Role::"admin"',
      'Stagegate::Action::"release.read"',
      'Stagegate::Promotion',
      'resource.tier',
      'context.breakGlass',
      '?principal',
      '//',
      '\n',
      ' ',
      'é',
      '\u0000',
    );
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.array(token, { maxLength: 40 }).map((a) => a.join(' ')));
    fc.assert(
      fc.property(text, text, (a, b) => {
        try {
          const set = build({ '/p/a.cedar': a, '/p/b.cedar': b });
          assert.ok(Array.isArray(set.policies));
        } catch (e) {
          assert.ok(e instanceof DomainError && e.code === 'invalid_input', String(e));
          assert.match(e.message, /\/p\/[ab]\.cedar:\d+:\d+: |\/p: /);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('policyDigest', () => {
  test('stable across loads and file order; changes on any edit of a policy or the schema', () => {
    const a = build({ '/p/a.cedar': ok, '/p/b.cedar': `@id("two") ${ok}` });
    const b = build({ '/p/b.cedar': `@id("two") ${ok}`, '/p/a.cedar': ok });
    assert.equal(a.digest, b.digest);
    assert.equal(policyDigest(a), a.digest);
    const edited = build({ '/p/a.cedar': ok.replace('viewer', 'admin'), '/p/b.cedar': `@id("two") ${ok}` });
    assert.notEqual(edited.digest, a.digest);
    const renamed = build({ '/p/a.cedar': ok, '/p/b.cedar': `@id("three") ${ok}` });
    assert.notEqual(renamed.digest, a.digest);
    const schemaEdited = build({ '/p/a.cedar': ok, '/p/b.cedar': `@id("two") ${ok}` }, `${schemaText}\n// a comment\n`);
    assert.notEqual(schemaEdited.digest, a.digest);
  });

  test('the shipped defaults have the same digest on every load', async () => {
    assert.equal((await loadPolicySet()).digest, (await loadPolicySet({ dir: defaultPolicyDir })).digest);
  });
});
