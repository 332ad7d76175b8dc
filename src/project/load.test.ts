import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DomainError, isDomainError } from '../domain/errors.ts';
import { loadProject, parseProject } from './load.ts';
import type { ProjectProblem } from './load.ts';

const pem = (type: 'ec' | 'ed25519' | 'rsa', curve = 'P-256') => {
  const opts = type === 'ec' ? { namedCurve: curve } : type === 'rsa' ? { modulusLength: 2048 } : {};
  const { publicKey, privateKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
  return {
    pub: String(publicKey.export({ type: 'spki', format: 'pem' })),
    priv: String(privateKey.export({ type: 'pkcs8', format: 'pem' })),
  };
};
const p256 = pem('ec');
const files: Record<string, string> = {
  '/p/keys/ci.pub': p256.pub,
  '/p/keys/ed.pub': pem('ed25519').pub,
  '/p/keys/k1.pub': pem('ec', 'secp256k1').pub,
  '/p/keys/priv.pem': p256.priv,
  '/p/keys/junk.pub': 'hello\n',
};
const readFile = async (path: string) => {
  const f = files[path];
  if (f === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return f;
};

const valid = `apiVersion: stagegate.dev/v1
project: shop
keys:
  - name: ci
    publicKey: keys/ci.pub
services:
  - name: checkout
targets:
  local-exec:
    type: exec
    deploy: ["node", "deploy.js"]
environments:
  - name: dev
    tier: dev
    target: local-exec
    trustedKeys: [ci]
  - name: staging
    tier: staging
    target: local-exec
    trustedKeys: [ci]
    requires: [dev]
  - name: prod
    tier: prod
    target: local-exec
    trustedKeys: [ci]
    requires: [staging]
    minSoak: 1m
`;
const parse = (text: string) => parseProject(text, { file: 'stagegate.yaml', baseDir: '/p', readFile });
/** Replace `from` (must occur once) in the valid file. */
const edit = (from: string, to: string) => {
  assert.equal(valid.split(from).length, 2, `"${from}" must occur once`);
  return valid.replace(from, to);
};
async function problemsOf(text: string): Promise<ProjectProblem[]> {
  const e = await parse(text).then(
    () => assert.fail('expected the project to be rejected'),
    (err: unknown) => err,
  );
  assert.ok(isDomainError(e));
  assert.equal(e.code, 'invalid_input');
  const problems = e.details.problems as ProjectProblem[];
  for (const p of problems) assert.ok(e.message.includes(`${p.file}:${p.line}:${p.column}: ${p.field}: ${p.message} — fix: ${p.fix}`));
  return problems;
}
async function oneProblem(text: string, want: { line: number; column: number; field: string; message: RegExp; fix: RegExp }) {
  const problems = await problemsOf(text);
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 1));
  const p = problems[0]!;
  assert.deepEqual([p.file, p.line, p.column, p.field], ['stagegate.yaml', want.line, want.column, want.field]);
  assert.match(p.message, want.message);
  assert.match(p.fix, want.fix);
}

describe('parseProject', () => {
  test('normalizes a valid file: ms durations, PEM keys, defaults', async () => {
    const p = await parse(valid);
    assert.equal(p.project, 'shop');
    assert.deepEqual(p.environments.map((e) => [e.name, e.requires, e.minSoakMs]), [
      ['dev', [], 0],
      ['staging', ['dev'], 0],
      ['prod', ['staging'], 60_000],
    ]);
    assert.equal(p.targets['local-exec']?.timeoutMs, 300_000);
    const t = p.targets['local-exec'];
    assert.deepEqual(t?.type === 'exec' ? t.env : undefined, {});
    assert.equal(p.keys[0]?.publicKeyPem, p256.pub);
    assert.equal(p.keys[0]?.source, '/p/keys/ci.pub');
    assert.match(p.digest, /^sha256:[a-f0-9]{64}$/);
  });
  test('accepts an inline PEM key', async () => {
    const inline = p256.pub.trim().replace(/\n/g, '\n      ');
    const p = await parse(edit('publicKey: keys/ci.pub', `publicKey: |\n      ${inline}`));
    assert.equal(p.keys[0]?.source, 'inline');
  });
  test('unknown field: names the allowed fields and the closest one', () =>
    oneProblem(edit('    tier: staging\n', '    tier: staging\n    requirs: [dev]\n'), {
      line: 19, column: 5, field: 'environments[1].requirs',
      message: /unknown field `requirs`; allowed fields: name, tier, target, trustedKeys, requires, minSoak/,
      fix: /did you mean `requires`\?/,
    }));
  test('wrong type: expected vs got', () =>
    oneProblem(edit('deploy: ["node", "deploy.js"]', 'deploy: node deploy.js'), {
      line: 11, column: 13, field: 'targets.local-exec.deploy', message: /expected a list, got a string/, fix: /list of arguments/,
    }));
  test('missing required field points at the mapping that lacks it', () =>
    oneProblem(edit('    tier: dev\n', ''), {
      line: 13, column: 5, field: 'environments[0].tier', message: /missing required field `tier`/, fix: /add `tier:`/,
    }));
  test('bad YAML syntax gives the position of the error', () =>
    oneProblem(edit('trustedKeys: [ci]\n  - name: staging', 'trustedKeys: [ci\n  - name: staging'), {
      line: 17, column: 3, field: '(yaml)', message: /end with a \]/, fix: /YAML syntax/,
    }));
  test('duplicate YAML keys are refused', () =>
    oneProblem(edit('project: shop\n', 'project: shop\nproject: shop2\n'), {
      line: 3, column: 1, field: '(yaml)', message: /unique/i, fix: /remove one/,
    }));
  test('unknown environment in requires suggests the closest', () =>
    oneProblem(edit('requires: [staging]', 'requires: [stagin]'), {
      line: 26, column: 16, field: 'environments[2].requires[0]', message: /unknown environment "stagin"; known: dev, staging, prod/,
      fix: /did you mean "staging"/,
    }));
  test('a cycle names its path', () =>
    oneProblem(edit('    tier: dev\n', '    tier: dev\n    requires: [prod]\n'), {
      line: 15, column: 16, field: 'environments[0].requires[0]', message: /cycle: dev -> prod -> staging -> dev/,
      fix: /only require environments above/,
    }));
  test('requiring a later environment is refused', () =>
    oneProblem(edit('requires: [dev]', 'requires: [prod]').replace('requires: [staging]', 'requires: [dev]'), {
      line: 21, column: 16, field: 'environments[1].requires[0]', message: /"staging" requires "prod", which comes later/,
      fix: /move "prod" above "staging"/,
    }));
  test('minSoak without requires', () =>
    oneProblem(edit('    tier: dev\n', '    tier: dev\n    minSoak: 5m\n'), {
      line: 15, column: 14, field: 'environments[0].minSoak', message: /nothing to soak/, fix: /requires/,
    }));
  test('unknown target and trusted key', async () => {
    const problems = await problemsOf(edit('  - name: dev\n    tier: dev\n    target: local-exec\n    trustedKeys: [ci]', '  - name: dev\n    tier: dev\n    target: lokal-exec\n    trustedKeys: [cx]'));
    assert.deepEqual(problems.map((p) => [p.line, p.column, p.field]), [[15, 13, 'environments[0].target'], [16, 19, 'environments[0].trustedKeys[0]']]);
    assert.match(problems[0]!.fix, /did you mean "local-exec"/);
    assert.match(problems[1]!.message, /unknown key "cx"; known: ci/);
  });
  test('missing key file names the key and the file', () =>
    oneProblem(edit('keys/ci.pub', 'keys/gone.pub'), {
      line: 5, column: 16, field: 'keys[0].publicKey', message: /key "ci" file keys\/gone.pub not found \(looked for \/p\/keys\/gone.pub\)/,
      fix: /stagegate keys generate --out keys --name ci/,
    }));
  for (const [file, why] of [['ed.pub', /ed25519 key, not ECDSA P-256/], ['k1.pub', /EC secp256k1 key, not ECDSA P-256/], ['junk.pub', /not a PEM public key/], ['priv.pem', /PRIVATE key/]] as const)
    test(`refuses key ${file}`, () =>
      oneProblem(edit('keys/ci.pub', `keys/${file}`), { line: 5, column: 16, field: 'keys[0].publicKey', message: why, fix: /public key|P-256/ }));
  test('duplicate names in keys, services and environments', async () => {
    const text = edit('    publicKey: keys/ci.pub\n', '    publicKey: keys/ci.pub\n  - name: ci\n    publicKey: keys/ci.pub\n')
      .replace('  - name: checkout\n', '  - name: checkout\n  - name: checkout\n')
      .replace('  - name: staging\n', '  - name: dev\n');
    const problems = await problemsOf(text);
    assert.deepEqual(problems.map((p) => [p.line, p.column, p.field]).filter(([, , f]) => String(f).endsWith('.name')), [
      [6, 11, 'keys[1].name'],
      [10, 11, 'services[1].name'],
      [20, 11, 'environments[1].name'],
    ]);
    assert.ok(problems.every((p) => !p.field.endsWith('.name') || /duplicate name/.test(p.message)));
  });
  test('reports every problem at once, in file order', async () => {
    const text = edit('project: shop', 'project: Shop').replace('tier: prod', 'tier: production').replace('minSoak: 1m', 'minSoak: 1 minute');
    const problems = await problemsOf(text);
    assert.deepEqual(problems.map((p) => p.field), ['project', 'environments[2].tier', 'environments[2].minSoak']);
    assert.match(problems[0]!.message, /"Shop" is not a valid name/);
    assert.match(problems[1]!.fix, /dev, test, staging, prod/);
    assert.match(problems[2]!.fix, /30s, 10m/);
  });
  test('reserved env var names, bad target type, empty and non-mapping files', async () => {
    const env = await problemsOf(edit('    deploy: ["node", "deploy.js"]\n', '    deploy: ["node", "deploy.js"]\n    env: { STAGEGATE_SERVICE: x }\n'));
    assert.deepEqual(env.map((p) => [p.line, p.column, p.field]), [[12, 12, 'targets.local-exec.env.STAGEGATE_SERVICE']]);
    const type = await problemsOf(edit('type: exec', 'type: k8s'));
    assert.match(type[0]!.message, /unknown type "k8s"; supported: "exec"/);
    assert.match((await problemsOf(''))[0]!.message, /empty/);
    assert.match((await problemsOf('- a\n'))[0]!.message, /expected a mapping, got a list/);
  });
  test('bounds: file size and aliases', async () => {
    assert.match((await problemsOf(`# ${'x'.repeat(1024 * 1024)}\n`))[0]!.message, /larger than/);
    const bomb = ['a: &a [x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    assert.match((await problemsOf(bomb))[0]!.message, /alias|resource/i);
  });
  test('property: arbitrary text only ever fails with DomainError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: fc.constantFrom(...'ab:-[]{}&*!|>\'" \n#1'.split('')), maxLength: 200 })), async (text) => {
        await parse(text).catch((e: unknown) => assert.ok(e instanceof DomainError, String(e)));
      }),
      { numRuns: 400 },
    );
  });
  test('property: mutations of a valid file only ever fail with DomainError', async () => {
    const lines = valid.split('\n');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: lines.length - 1 }), fc.string({ maxLength: 30 }), async (i, junk) => {
        const text = lines.map((l, j) => (j === i ? l.replace(/:.*$/, `: ${junk}`) : l)).join('\n');
        await parse(text).catch((e: unknown) => assert.ok(e instanceof DomainError, String(e)));
      }),
      { numRuns: 300 },
    );
  });
});

test('property: any JSON value at any field only ever fails with DomainError', async () => {
  const base = parseYaml(valid) as Record<string, unknown>;
  const paths = [['project'], ['keys'], ['keys', 0], ['keys', 0, 'publicKey'], ['services', 0], ['targets'], ['targets', 'local-exec'],
    ['targets', 'local-exec', 'deploy'], ['targets', 'local-exec', 'env'], ['environments'], ['environments', 1], ['environments', 1, 'requires'],
    ['environments', 2, 'minSoak'], ['environments', 0, 'trustedKeys']];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), async (path, value) => {
      const data = structuredClone(base);
      let cur = data as Record<string | number, unknown>;
      for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
      cur[path.at(-1)!] = value;
      await parse(stringifyYaml(data)).catch((e: unknown) => assert.ok(e instanceof DomainError, String(e)));
    }),
    { numRuns: 300 },
  );
});

describe('loadProject', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagegate-load-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test('loads examples/shop once its key exists (file or directory)', async () => {
    const shop = join(dir, 'shop');
    cpSync(new URL('../../examples/shop', import.meta.url), shop, { recursive: true });
    mkdirSync(join(shop, 'keys'));
    writeFileSync(join(shop, 'keys', 'ci.pub'), p256.pub);
    const p = await loadProject(shop);
    assert.deepEqual(p.environments.map((e) => e.name), ['dev', 'staging', 'prod']);
    assert.equal(p.baseDir, shop);
    assert.equal((await loadProject(join(shop, 'stagegate.yaml'))).digest, p.digest);
  });
  test('the committed example has no key: it fails naming the key file to generate', async () => {
    const e = await loadProject(new URL('../../examples/shop/stagegate.yaml', import.meta.url).pathname).catch((x: unknown) => x);
    assert.ok(isDomainError(e));
    assert.match(e.message, /stagegate.yaml:\d+:\d+: keys\[0\].publicKey: key "ci" file keys\/ci.pub not found/);
  });
  test('missing file and invalid UTF-8', async () => {
    await assert.rejects(loadProject(join(dir, 'nope.yaml')), (e: unknown) => isDomainError(e) && e.code === 'not_found' && /stagegate init/.test(e.details.fix ?? ''));
    writeFileSync(join(dir, 'bad.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe]));
    await assert.rejects(loadProject(join(dir, 'bad.yaml')), /not valid UTF-8/);
  });
});
