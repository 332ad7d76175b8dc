/** The published JSON Schema (schema/stagegate.schema.json) agrees with the zod loader on the same fixtures. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { repoRoot } from './helpers/fixture.ts';

const schema = JSON.parse(await readFile(path.join(repoRoot, 'schema', 'stagegate.schema.json'), 'utf8'));
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
const example = parse(await readFile(path.join(repoRoot, 'examples', 'shop', 'stagegate.yaml'), 'utf8'));

test('the example project is valid against the JSON Schema', () => {
  assert.equal(validate(example), true, JSON.stringify(validate.errors));
});

test('the JSON Schema refuses what the loader refuses: unknown fields, wrong types, bad names', () => {
  const cases: Array<(d: any) => void> = [
    (d) => {
      d.extra = 1;
    },
    (d) => {
      d.environments[0].tier = 'production';
    },
    (d) => {
      d.environments[0].name = 'Dev!';
    },
    (d) => {
      d.targets['local-exec'].deploy = 'node deploy.js';
    },
    (d) => {
      d.services[0].unknown = true;
    },
    (d) => {
      d.environments[2].minSoak = 'ten seconds';
    },
  ];
  for (const mutate of cases) {
    const d = structuredClone(example);
    mutate(d);
    assert.equal(validate(d), false, `accepted: ${mutate.toString()}`);
  }
});
