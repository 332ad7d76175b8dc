import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PROJECT_SCHEMA_ID, projectJsonSchema, projectJsonSchemaText } from './json-schema.ts';

test('schema/stagegate.schema.json is up to date (regenerate: npm run schema)', () => {
  const committed = readFileSync(new URL('../../schema/stagegate.schema.json', import.meta.url), 'utf8');
  assert.equal(committed, projectJsonSchemaText());
});

test('the JSON Schema is draft 2020-12, strict, and carries the bounds', () => {
  const s = projectJsonSchema() as {
    $schema: string; $id: string; title: string; additionalProperties: boolean; required: string[];
    properties: { environments: { maxItems: number; items: { additionalProperties: boolean; properties: { minSoak: { type: string; pattern: string } } } } };
  };
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(s.$id, PROJECT_SCHEMA_ID);
  assert.equal(s.title, 'stagegate project file');
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.required, ['apiVersion', 'project', 'keys', 'services', 'targets', 'environments']);
  const envs = s.properties.environments;
  assert.equal(envs.maxItems, 64);
  assert.equal(envs.items.additionalProperties, false);
  // durations are strings in the file (they become milliseconds only after parsing)
  assert.equal(envs.items.properties.minSoak.type, 'string');
  assert.ok(new RegExp(envs.items.properties.minSoak.pattern).test('1h30m'));
});
