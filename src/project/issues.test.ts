import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { projectFileSchema } from './schema.ts';
import { formatFieldPath, issueProblems, typeName } from './issues.ts';

test('formatFieldPath', () => {
  assert.equal(formatFieldPath([]), '(top level)');
  assert.equal(formatFieldPath(['environments', 2, 'requires', 0]), 'environments[2].requires[0]');
  assert.equal(formatFieldPath(['targets', 'local-exec', 'env', 'A_B']), 'targets.local-exec.env.A_B');
  assert.equal(formatFieldPath(['targets', 'a b']), 'targets["a b"]');
});

test('typeName uses YAML words', () => {
  assert.deepEqual([[], {}, 'x', 1, true, null, undefined].map(typeName), ['a list', 'a mapping', 'a string', 'a number', 'a boolean', 'null (empty value)', 'nothing']);
});

test('property: every zod issue on any input maps to problems with a message and a fix', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('apiVersion', 'project', 'keys', 'services', 'targets', 'environments', 'x'), fc.jsonValue())), (data) => {
      const r = projectFileSchema.safeParse(data);
      if (r.success) return;
      for (const issue of r.error.issues) {
        const problems = issueProblems(issue, data);
        assert.ok(problems.length >= 1);
        for (const p of problems) assert.ok(p.message.length > 0 && p.fix.length > 0, JSON.stringify(p));
      }
    }),
    { numRuns: 500 },
  );
});

test('a mapping with a toString key where a string belongs gives a problem, not a crash', () => {
  const data = { apiVersion: { toString: [] } };
  const r = projectFileSchema.safeParse(data);
  assert.equal(r.success, false);
  for (const issue of r.success ? [] : r.error.issues) assert.ok(issueProblems(issue, data).length >= 1);
});
