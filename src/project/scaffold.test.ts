import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { NAME_RE } from '../domain/ids.ts';
import { isDomainError } from '../domain/errors.ts';
import { loadProject } from './load.ts';
import { nameFromDir, scaffoldProject } from './scaffold.ts';

const root = mkdtempSync(join(tmpdir(), 'stagegate-init-'));
after(() => rmSync(root, { recursive: true, force: true }));
const writeKey = (dir: string) => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  mkdirSync(join(dir, 'keys'), { recursive: true });
  writeFileSync(join(dir, 'keys', 'ci.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
};

describe('scaffoldProject', () => {
  test('writes a project that loads once the key exists', async () => {
    const dir = join(root, 'My Shop');
    const r = await scaffoldProject({ dir });
    assert.equal(r.project, 'my-shop');
    assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)), ['stagegate.yaml', 'deploy.js', 'verify.js']);
    const e = await loadProject(dir).catch((x: unknown) => x);
    assert.ok(isDomainError(e) && /keys generate --out keys --name ci/.test(e.message), 'without a key it says how to make one');
    writeKey(dir);
    const p = await loadProject(dir);
    assert.deepEqual(p.environments.map((x) => [x.name, x.tier, x.requires, x.minSoakMs]), [
      ['dev', 'dev', [], 0],
      ['staging', 'staging', ['dev'], 0],
      ['prod', 'prod', ['staging'], 600_000],
    ]);
    assert.deepEqual(p.services, [{ name: 'app', rules: {} }]);
    const t = p.targets['local-exec'];
    assert.deepEqual(t?.type === 'exec' ? t.deploy : undefined, ['node', 'deploy.js']);
    const yaml = readFileSync(join(dir, 'stagegate.yaml'), 'utf8');
    for (const word of ['apiVersion', 'keys', 'services', 'targets', 'environments', 'minSoak', 'stagegate keys generate --out keys --name ci'])
      assert.ok(yaml.includes(`# ${word}`) || yaml.includes(word), word);
  });
  test('the scripts are the ones of examples/shop', async () => {
    const dir = join(root, 'scripts');
    await scaffoldProject({ dir, project: 'p', service: 'web' });
    for (const f of ['deploy.js', 'verify.js'])
      assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(new URL(`../../examples/shop/${f}`, import.meta.url), 'utf8'));
  });
  test('refuses to overwrite without force, and writes nothing then', async () => {
    const dir = join(root, 'existing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'stagegate.yaml'), 'mine\n');
    await assert.rejects(scaffoldProject({ dir }), (e: unknown) => isDomainError(e) && e.code === 'conflict' && /--force/.test(e.details.fix ?? ''));
    assert.equal(readFileSync(join(dir, 'stagegate.yaml'), 'utf8'), 'mine\n');
    assert.throws(() => readFileSync(join(dir, 'deploy.js')));
    await scaffoldProject({ dir, force: true });
    assert.match(readFileSync(join(dir, 'stagegate.yaml'), 'utf8'), /apiVersion: stagegate.dev\/v1/);
  });
  test('refuses invalid names', async () => {
    await assert.rejects(scaffoldProject({ dir: join(root, 'x'), service: 'Bad Name' }), /--service "Bad Name" is not a valid name/);
  });
  test('property: nameFromDir always gives a valid name', () => {
    fc.assert(fc.property(fc.string({ maxLength: 100 }).filter((s) => !s.includes('/') && !s.includes('\0')), (s) => NAME_RE.test(nameFromDir(join(root, s)))));
  });
});
