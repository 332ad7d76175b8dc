import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { create } from 'tar';
import { readArtifactTexts } from './artifact-texts.ts';
import { candidateValues, findHardcodedValues } from './hardcoded.ts';

const doc = { config: { paymentsUrl: 'http://payments.internal:8080', currency: 'EUR', retries: 3, enabled: true, bigLimit: 123456789, nested: { region: 'eu-west-1-zone-b' } }, secrets: { DB_PASSWORD: 'db_password_ref' } };

test('candidates: strings of 8+ characters and numbers of 8+ digits from the config section only', () => {
  assert.deepEqual(candidateValues(doc).map((c) => c.pointer).sort(), ['/config/bigLimit', '/config/nested/region', '/config/paymentsUrl']);
});

test('findHardcodedValues names file, line, column and pointer', () => {
  const found = findHardcodedValues([{ name: 'src/app.js', text: "const a = 1;\nfetch('http://payments.internal:8080/pay');\n" }, { name: 'clean.js', text: 'EUR 3 true' }], doc);
  assert.deepEqual(found, [{ pointer: '/config/paymentsUrl', file: 'src/app.js', line: 2, column: 8, value: 'http://payments.internal:8080' }]);
  assert.deepEqual(findHardcodedValues([{ name: 'x', text: 'nothing here' }], doc), []);
});

test('readArtifactTexts unpacks tarballs in memory and skips binary files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-hc-'));
  try {
    mkdirSync(path.join(dir, 'pkg', 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'pkg', 'src', 'config.js'), "export const region = 'eu-west-1-zone-b';\n");
    writeFileSync(path.join(dir, 'pkg', 'logo.bin'), Buffer.from([0, 1, 2, 0x65, 0x75]));
    await create({ gzip: true, file: path.join(dir, 'app.tgz'), cwd: path.join(dir, 'pkg') }, ['src', 'logo.bin']);
    writeFileSync(path.join(dir, 'plain.txt'), 'limit=123456789\n');
    const texts = await readArtifactTexts([
      { name: 'app.tgz', path: path.join(dir, 'app.tgz') },
      { name: 'plain.txt', path: path.join(dir, 'plain.txt') },
      { name: 'missing', path: path.join(dir, 'missing') },
    ]);
    assert.deepEqual(texts.map((t) => t.name).sort(), ['app.tgz!src/config.js', 'plain.txt']);
    const found = findHardcodedValues(texts, doc);
    assert.deepEqual(found.map((f) => `${f.file}:${f.line}:${f.column} ${f.pointer}`).sort(), ['app.tgz!src/config.js:1:24 /config/nested/region', 'plain.txt:1:7 /config/bigLimit']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
