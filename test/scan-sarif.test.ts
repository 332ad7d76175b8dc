/**
 * The SARIF output of `stagegate scan` against the required structure of SARIF 2.1.0 (OASIS,
 * sarif-schema-2.1.0.json): a subset schema written from the spec — sarifLog {version "2.1.0",
 * runs}, run {tool}, tool {driver}, toolComponent {name}, reportingDescriptor {id},
 * multiformatMessageString {text}, result {message}, message {text or id}, physicalLocation
 * {artifactLocation or address}, region lines and columns >= 1, level enum, uri-reference URIs.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { create as tarCreate } from 'tar';
import { toSarif } from '../src/secrets/scan/report.ts';
import { scanPath } from '../src/secrets/scan/scan-path.ts';
import { fakes } from '../src/secrets/scan/test-fakes.ts';

const message = {
  type: 'object',
  properties: { text: { type: 'string' }, markdown: { type: 'string' }, id: { type: 'string' }, arguments: { type: 'array', items: { type: 'string' } } },
  anyOf: [{ required: ['text'] }, { required: ['id'] }],
};
const multiformat = { type: 'object', properties: { text: { type: 'string' }, markdown: { type: 'string' } }, required: ['text'] };
const sarifSubset = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['version', 'runs'],
  properties: {
    $schema: { type: 'string', format: 'uri' },
    version: { enum: ['2.1.0'] },
    runs: { type: 'array', items: { $ref: '#/definitions/run' } },
  },
  definitions: {
    message,
    multiformat,
    run: {
      type: 'object',
      required: ['tool'],
      properties: {
        tool: { type: 'object', required: ['driver'], properties: { driver: { $ref: '#/definitions/toolComponent' } } },
        results: { type: 'array', items: { $ref: '#/definitions/result' } },
      },
    },
    toolComponent: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string' },
        informationUri: { type: 'string', format: 'uri' },
        rules: { type: 'array', uniqueItems: true, items: { $ref: '#/definitions/reportingDescriptor' } },
      },
    },
    reportingDescriptor: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, name: { type: 'string' }, shortDescription: { $ref: '#/definitions/multiformat' } },
    },
    result: {
      type: 'object',
      required: ['message'],
      properties: {
        ruleId: { type: 'string' },
        ruleIndex: { type: 'integer', minimum: -1 },
        level: { enum: ['none', 'note', 'warning', 'error'] },
        message: { $ref: '#/definitions/message' },
        locations: { type: 'array', items: { type: 'object', properties: { physicalLocation: { $ref: '#/definitions/physicalLocation' } } } },
        partialFingerprints: { type: 'object', additionalProperties: { type: 'string' } },
        properties: { type: 'object' },
      },
    },
    physicalLocation: {
      type: 'object',
      anyOf: [{ required: ['address'] }, { required: ['artifactLocation'] }],
      properties: {
        artifactLocation: { type: 'object', properties: { uri: { type: 'string', format: 'uri-reference' }, index: { type: 'integer', minimum: -1 } } },
        region: {
          type: 'object',
          properties: {
            startLine: { type: 'integer', minimum: 1 },
            startColumn: { type: 'integer', minimum: 1 },
            endLine: { type: 'integer', minimum: 1 },
            endColumn: { type: 'integer', minimum: 1 },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
// RFC 3986: no characters outside the URI set (a relative reference is resolved against a base)
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
ajv.addFormat('uri-reference', (s: string) => URI_CHARS.test(s) && !/%(?![0-9A-Fa-f]{2})/.test(s));
ajv.addFormat('uri', (s: string) => URI_CHARS.test(s) && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s));
const validate = ajv.compile(sarifSubset);
const check = (doc: unknown) => {
  const ok = validate(doc);
  return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
};

const dir = await mkdtemp(path.join(tmpdir(), 'sg-sarif-'));
after(() => rm(dir, { recursive: true, force: true }));
const aws = fakes.awsAccessKeyId();
const pat = fakes.githubPat();

describe('SARIF 2.1.0 output', () => {
  test('findings in plain files, odd file names and a tarball validate against the required structure', async () => {
    const tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'pkg', 'conf'), { recursive: true });
    await writeFile(path.join(tree, 'pkg', 'conf', 'prod.env'), `AWS_ACCESS_KEY_ID=${aws}\n`);
    await writeFile(path.join(tree, 'we ird#1?%.env'), `GITHUB_TOKEN=${pat}\n`);
    await tarCreate({ gzip: true, file: path.join(tree, 'app.tgz'), cwd: tree }, ['pkg']);
    const report = await scanPath(tree);
    const files = report.findings.map((f) => f.file).sort();
    assert.deepEqual(files, ['app.tgz!pkg/conf/prod.env', 'pkg/conf/prod.env', 'we ird#1?%.env']);
    const sarif = JSON.parse(JSON.stringify(toSarif(report.findings)));
    assert.deepEqual(check(sarif), []);
    const uris = sarif.runs[0].results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri).sort();
    assert.deepEqual(uris, ['app.tgz!pkg/conf/prod.env', 'pkg/conf/prod.env', 'we%20ird%231%3F%25.env']);
    assert.equal(decodeURIComponent(uris[2] as string), 'we ird#1?%.env');
    // every result points at a rule of the driver by index and id
    for (const r of sarif.runs[0].results) assert.equal(sarif.runs[0].tool.driver.rules[r.ruleIndex].id, r.ruleId);
    const text = JSON.stringify(sarif);
    assert.ok(!text.includes(aws) && !text.includes(pat) && !text.includes(aws.slice(4)), 'no secret in the SARIF');
  });

  test('a clean scan is a valid log with one run and no results', async () => {
    const clean = path.join(dir, 'clean');
    await mkdir(clean);
    await writeFile(path.join(clean, 'a.txt'), 'hello\n');
    const sarif = toSarif((await scanPath(clean)).findings);
    assert.deepEqual(check(sarif), []);
    assert.deepEqual(sarif.runs[0]?.results, []);
  });

  test('the subset schema is not vacuous: it refuses logs that break the required structure', () => {
    const good = toSarif([{ ruleId: 'r', description: 'd', file: 'a.env', line: 1, column: 1, match: 'ab…', secretHash: 'f'.repeat(64), entropy: 3 }]);
    assert.deepEqual(check(good), []);
    const broken: [string, (s: any) => void][] = [
      ['no version', (s) => delete s.version],
      ['version 2.0.0', (s) => (s.version = '2.0.0')],
      ['no runs', (s) => delete s.runs],
      ['run without tool', (s) => delete s.runs[0].tool],
      ['tool without driver', (s) => delete s.runs[0].tool.driver],
      ['driver without name', (s) => delete s.runs[0].tool.driver.name],
      ['rule without id', (s) => delete s.runs[0].tool.driver.rules[0].id],
      ['result without message', (s) => delete s.runs[0].results[0].message],
      ['message without text or id', (s) => (s.runs[0].results[0].message = { markdown: 'x' })],
      ['line 0', (s) => (s.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0)],
      ['level fatal', (s) => (s.runs[0].results[0].level = 'fatal')],
      ['uri with a space', (s) => (s.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = 'a b')],
      ['location without artifact', (s) => delete s.runs[0].results[0].locations[0].physicalLocation.artifactLocation],
    ];
    for (const [name, breakIt] of broken) {
      const doc = JSON.parse(JSON.stringify(good));
      breakIt(doc);
      assert.notDeepEqual(check(doc), [], `${name} should not validate`);
    }
  });
});
