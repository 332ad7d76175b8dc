import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isDomainError } from '../domain/errors.ts';
import { checkProjectGraph, closestName, editDistance, environmentOrder, findEnvironment, findService } from './graph.ts';
import type { Environment, Project } from './schema.ts';

const env = (name: string, requires: string[] = [], extra: Record<string, unknown> = {}) => ({
  name, tier: 'dev', target: 't', trustedKeys: ['ci'], requires, ...extra,
});
const file = (environments: unknown[]) => ({ keys: [{ name: 'ci' }], services: [{ name: 's' }], targets: { t: {} }, environments });

describe('checkProjectGraph', () => {
  test('a valid pipeline has no problems', () => {
    assert.deepEqual(checkProjectGraph(file([env('dev'), env('staging', ['dev']), env('prod', ['staging', 'dev'], { minSoak: '1m' })])), []);
  });
  test('self-requirement is a cycle', () => {
    const [p] = checkProjectGraph(file([env('dev', ['dev'])]));
    assert.deepEqual(p?.path, ['environments', 0, 'requires', 0]);
    assert.match(p?.message ?? '', /cycle: dev -> dev/);
  });
  test('two separate cycles are both reported; cycle edges are not also reported as "later"', () => {
    const problems = checkProjectGraph(file([env('a', ['b']), env('b', ['a']), env('c', ['d']), env('d', ['c'])]));
    assert.deepEqual(problems.map((p) => p.message), ['requires forms a cycle: a -> b -> a', 'requires forms a cycle: c -> d -> c']);
  });
  test('duplicates within requires and trustedKeys', () => {
    const problems = checkProjectGraph(file([env('dev'), { ...env('prod', ['dev', 'dev']), trustedKeys: ['ci', 'ci'] }]));
    assert.deepEqual(problems.map((p) => p.path.join('.')), ['environments.1.trustedKeys.1', 'environments.1.requires.1']);
  });
  test('unknown names list the known ones, with no suggestion when nothing is close', () => {
    const [p] = checkProjectGraph(file([env('dev'), env('prod', ['zzzzzz'])]));
    assert.match(p?.message ?? '', /unknown environment "zzzzzz"; known: dev, prod/);
    assert.match(p?.fix ?? '', /add "zzzzzz"/);
  });
  test('property: never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.anything(), (x) => Array.isArray(checkProjectGraph(x))));
    fc.assert(
      fc.property(fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd'), requires: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'x')) })), (envs) => {
        for (const p of checkProjectGraph(file(envs))) assert.equal(p.path[0], 'environments');
      }),
    );
  });
});

describe('names', () => {
  test('editDistance and closestName', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(closestName('stagin', ['dev', 'staging', 'prod']), 'staging');
    assert.equal(closestName('qa', ['dev', 'staging', 'prod']), undefined);
    fc.assert(fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (a, b) => editDistance(a, b) === editDistance(b, a)));
  });
  const project = {
    project: 'shop',
    services: [{ name: 'checkout', rules: {} }],
    environments: ['dev', 'staging', 'prod'].map((name) => ({ name }) as Environment),
  } satisfies Pick<Project, 'project' | 'services' | 'environments'>;
  test('environmentOrder and findEnvironment', () => {
    assert.deepEqual(environmentOrder(project), ['dev', 'staging', 'prod']);
    assert.equal(findEnvironment(project, 'prod').name, 'prod');
    assert.throws(
      () => findEnvironment(project, 'prd'),
      (e) => isDomainError(e) && e.code === 'not_found' && /did you mean "prod"\? known environments: dev, staging, prod/.test(e.details.fix ?? ''),
    );
  });
  test('findService', () => {
    assert.equal(findService(project, 'checkout').name, 'checkout');
    assert.throws(
      () => findService(project, 'cart'),
      (e) => isDomainError(e) && e.code === 'not_found' && /use one of: checkout/.test(e.details.fix ?? '') && Array.isArray(e.details.known),
    );
  });
});
