import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DomainError } from '../../domain/errors.ts';
import { canonicalBytes, configDigest, effectiveConfigFromSource } from './effective-config.ts';
import { layerManifest } from './layer.ts';
import { parseManifestYaml } from './manifest-yaml.ts';
import type { ManifestSource } from './sources.ts';

const y = (file: string, text: string) => parseManifestYaml(text, file);
const memory = (files: Record<string, string>): ManifestSource => ({
  label: 'mem',
  files: Object.keys(files).sort(),
  read: async (n) => files[n] ?? assert.fail(`no ${n}`),
});

const BASE = `config:
  currency: EUR
  timeoutMs: 3000
  hosts: [a, b]
runtime:
  replicas: 1
  resources: {cpu: 250m, memory: 256Mi}
secrets:
  DB_PASSWORD: db_password
`;

function rejects(fn: () => unknown, ...parts: (string | RegExp)[]): DomainError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    for (const p of parts) (typeof p === 'string' ? assert.ok(e.message.includes(p), `"${p}" not in: ${e.message}`) : assert.match(e.message, p));
    return e;
  }
  return assert.fail('expected an error');
}

describe('layering', () => {
  test('base alone: every leaf comes from base', () => {
    const r = layerManifest({ base: y('base.yaml', BASE) });
    assert.equal(r.origins['/config/currency'], 'base');
    assert.equal(r.origins['/config/hosts/1'], 'base');
    assert.deepEqual(Object.values(r.origins).filter((o) => o !== 'base'), []);
  });

  test('a merge patch sets, adds and removes keys, with origins', () => {
    const r = layerManifest(
      { base: y('base.yaml', BASE), overlay: y('prod.yaml', 'runtime:\n  replicas: 3\n  resources: {memory: 512Mi}\nconfig:\n  timeoutMs: null\n  hosts: [c]\n  region: eu-west-1\n') },
      { overlay: 'prod.yaml' },
    );
    const doc = r.document as { runtime: { replicas: number; resources: Record<string, string> }; config: Record<string, unknown> };
    assert.equal(doc.runtime.replicas, 3);
    assert.deepEqual(doc.runtime.resources, { cpu: '250m', memory: '512Mi' });
    assert.equal(doc.config['timeoutMs'], undefined);
    assert.deepEqual(doc.config['hosts'], ['c']);
    assert.equal(r.origins['/runtime/replicas'], 'overlay:prod.yaml');
    assert.equal(r.origins['/runtime/resources/cpu'], 'base');
    assert.equal(r.origins['/runtime/resources/memory'], 'overlay:prod.yaml');
    assert.equal(r.origins['/config/hosts/0'], 'overlay:prod.yaml');
    assert.equal(r.origins['/config/hosts/1'], undefined);
    assert.equal(r.origins['/config/region'], 'overlay:prod.yaml');
    assert.equal(r.origins['/config/timeoutMs'], undefined);
    assert.equal(r.origins['/config/currency'], 'base');
  });

  test('an overlay value equal to the base still shows the overlay as its origin', () => {
    const r = layerManifest({ base: y('base.yaml', BASE), overlay: y('s.yaml', 'runtime: {replicas: 1}\n') }, { overlay: 's.yaml' });
    assert.equal(r.origins['/runtime/replicas'], 'overlay:s.yaml');
  });

  test('RFC 6902 operations after the merge patch, origins per op index', () => {
    const patch = `- {op: test, path: /runtime/replicas, value: 3}
- {op: add, path: /config/hosts/0, value: first}
- {op: remove, path: /config/currency}
- {op: copy, from: /runtime/resources/cpu, path: /runtime/cpuLimit}
- {op: move, from: /config/hosts, path: /routing}
`;
    const bad = layerManifest.bind(null, { base: y('base.yaml', BASE), overlay: y('prod.yaml', 'runtime: {replicas: 3}\n'), patch: y('prod.patch.yaml', patch) }, { overlay: 'prod.yaml', patch: 'prod.patch.yaml' });
    // move into /routing would make /routing an array: the effective document is refused, naming the op
    const e = rejects(bad, '/routing', 'patch:prod.patch.yaml#4');
    assert.match(e.details.fix ?? '', /patch:prod\.patch\.yaml#4/);
    const ok = patch.replace('- {op: move, from: /config/hosts, path: /routing}\n', '- {op: move, from: /config/hosts, path: /routing/hosts}\n').replace('/routing/hosts', '/routing/hosts');
    const r = layerManifest({ base: y('base.yaml', BASE.replace('runtime:', 'routing: {}\nruntime:')), overlay: y('prod.yaml', 'runtime: {replicas: 3}\n'), patch: y('prod.patch.yaml', ok) }, { overlay: 'prod.yaml', patch: 'prod.patch.yaml' });
    const doc = r.document as { config: Record<string, unknown>; routing: { hosts: string[] }; runtime: Record<string, unknown> };
    assert.deepEqual(doc.routing.hosts, ['first', 'a', 'b']);
    assert.equal(doc.config['currency'], undefined);
    assert.equal(doc.runtime['cpuLimit'], '250m');
    assert.equal(r.origins['/routing/hosts/0'], 'patch:prod.patch.yaml#4');
    assert.equal(r.origins['/runtime/cpuLimit'], 'patch:prod.patch.yaml#3');
    assert.equal(r.origins['/runtime/replicas'], 'overlay:prod.yaml');
  });

  test('a failed test op names file, line, op index, pointer and fix; nothing is applied', () => {
    const base = y('base.yaml', BASE);
    const before = JSON.stringify(base.data);
    const e = rejects(
      () => layerManifest({ base, patch: y('prod.patch.yaml', '- {op: replace, path: /runtime/replicas, value: 9}\n- {op: test, path: /config/currency, value: USD}\n') }),
      'prod.patch.yaml:2:3',
      'operation #1 (test /config/currency)',
      'nothing was applied',
    );
    assert.equal(e.details['pointer'], '/config/currency');
    assert.match(e.details.fix ?? '', /test/);
    assert.equal(JSON.stringify(base.data), before);
  });

  test('a missing path, a bad array index and a missing from are clear errors', () => {
    const base = y('base.yaml', BASE);
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: replace, path: /config/nope/x, value: 1}\n') }), 'operation #0', '/config/nope/x', 'does not exist');
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: add, path: /config/hosts/7, value: z}\n') }), 'operation #0', 'past the end');
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: move, from: /config/gone, path: /config/x}\n') }), 'operation #0', '/config/gone');
  });

  test('invalid JSON Pointers are refused before anything is applied', () => {
    const base = y('base.yaml', BASE);
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: add, path: config/x, value: 1}\n') }), 'not a JSON Pointer', 'start with "/"');
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: add, path: /config/a~2b, value: 1}\n') }), 'not a JSON Pointer', '~0');
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: copy, from: "x", path: /config/y}\n') }), 'operation #0', 'not a JSON Pointer');
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: remove, path: ""}\n') }), 'whole document');
  });

  test('malformed operations and unknown sections are refused with the allowed list', () => {
    const base = y('base.yaml', BASE);
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: frobnicate, path: /config}\n') }), 'p.yaml:1:', 'not a JSON Patch');
    rejects(() => layerManifest({ base, patch: y('p.yaml', 'op: add\n') }), 'not a JSON Patch');
    rejects(() => layerManifest({ base: y('base.yaml', 'config: {}\nsecretz: {}\n') }), 'base.yaml:2:1', 'unknown section "secretz"', 'allowed: config, runtime, routing, network, dependencies, flags, secrets, observability');
    rejects(() => layerManifest({ base, overlay: y('prod.yaml', 'runtim: {replicas: 2}\n') }), 'prod.yaml:1:1', 'unknown section "runtim"');
    rejects(() => layerManifest({ base: y('base.yaml', 'config: 3\n') }), 'base.yaml:1:1', 'at /config:');
    rejects(() => layerManifest({ base, patch: y('p.yaml', '- {op: add, path: /extra, value: {}}\n') }), 'unknown section extra', 'patch:p.yaml#0');
  });

  test('secrets are references, dependencies are semver ranges', () => {
    rejects(() => layerManifest({ base: y('base.yaml', 'secrets:\n  DB_PASSWORD: {value: hunter2}\n') }), '/secrets/DB_PASSWORD');
    rejects(() => layerManifest({ base: y('base.yaml', 'dependencies:\n  platform:\n    node: banana\n') }), 'base.yaml:3:5', 'semver');
    rejects(() => layerManifest({ base: y('base.yaml', 'dependencies:\n  servicez: {}\n') }), '/dependencies');
  });

  test('bounds: nesting depth, prototype keys, non-finite numbers', () => {
    let deep = 'x';
    for (let i = 0; i < 20; i++) deep = `{a: ${deep}}`;
    rejects(() => layerManifest({ base: y('base.yaml', `config: ${deep}\n`) }), 'deeper than 16');
    rejects(() => layerManifest({ base: y('base.yaml', 'config:\n  __proto__: {x: 1}\n') }), '__proto__');
    rejects(() => layerManifest({ base: y('base.yaml', 'config: {x: .inf}\n') }), 'finite');
  });
});

describe('malformed YAML', () => {
  test('syntax errors, duplicate keys, tags and extra documents give file:line:col', () => {
    rejects(() => parseManifestYaml('config:\n  a: [1, 2\n', 'base.yaml'), /^base\.yaml:\d+:\d+: YAML/);
    const dup = rejects(() => parseManifestYaml('config:\n  a: 1\n  a: 2\n', 'base.yaml'), 'base.yaml:3:3');
    assert.match(dup.details.fix ?? '', /remove one/);
    rejects(() => parseManifestYaml('config: !!binary abc\n', 'base.yaml'), 'base.yaml:1:');
    rejects(() => parseManifestYaml('config: {}\n---\nconfig: {}\n', 'base.yaml'), 'base.yaml:2:1');
    rejects(() => parseManifestYaml('x'.repeat(1024 * 1024 + 1), 'big.yaml'), 'larger than');
  });
});

describe('effective config and digest', () => {
  test('env without overlay equals base; overlay and patch files are picked by name', async () => {
    const src = memory({ 'base.yaml': BASE, 'prod.yaml': 'runtime: {replicas: 3}\n', 'prod.patch.yaml': '- {op: replace, path: /config/currency, value: USD}\n' });
    const base = await effectiveConfigFromSource(src, 'checkout', 'base');
    const dev = await effectiveConfigFromSource(src, 'checkout', 'dev');
    const prod = await effectiveConfigFromSource(src, 'checkout', 'prod');
    assert.equal(dev.digest, base.digest);
    assert.notEqual(prod.digest, base.digest);
    assert.equal(prod.origins['/config/currency'], 'patch:prod.patch.yaml#0');
    assert.equal(prod.digest, configDigest(prod.document));
    assert.match(prod.digest, /^sha256:[a-f0-9]{64}$/);
    await assert.rejects(effectiveConfigFromSource(memory({ 'prod.yaml': '' }), 'checkout', 'prod'), /no base\.yaml/);
    await assert.rejects(effectiveConfigFromSource(src, 'checkout', '../prod'), /not a valid name/);
  });

  // reserved keys (__proto__, constructor, prototype) are refused at any depth: tested above, kept out here
  const reserved = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && Object.entries(v).some(([k, x]) => ['__proto__', 'constructor', 'prototype'].includes(k) || reserved(x));
  const json = fc.jsonValue({ maxDepth: 4 }).filter((v) => JSON.stringify(v) !== undefined && !reserved(v));
  const section = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), json, { maxKeys: 5 });

  test('property: the digest does not depend on key order or YAML layout', () => {
    fc.assert(
      fc.property(section, (config) => {
        const doc = { config };
        const reversed = { config: Object.fromEntries(Object.entries(config).reverse()) };
        const a = layerManifest({ base: y('a.yaml', stringify(doc)) });
        const b = layerManifest({ base: y('b.yaml', JSON.stringify(reversed)) });
        assert.equal(configDigest(a.document), configDigest(b.document));
      }),
      { numRuns: 150 },
    );
  });

  test('property: merge-patch results are canonical-stable and every leaf has an origin', () => {
    fc.assert(
      fc.property(section, fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.oneof(json, fc.constant(null)), { maxKeys: 5 }), (config, patch) => {
        const r = layerManifest({ base: y('base.yaml', stringify({ config })), overlay: y('o.yaml', stringify({ config: patch })) }, { overlay: 'o.yaml' });
        const text = canonicalBytes(r.document);
        // canonical bytes re-parse to the same canonical bytes, and the layering is idempotent
        assert.equal(canonicalBytes(JSON.parse(text)), text);
        const again = layerManifest({ base: y('x.yaml', text), overlay: y('o.yaml', stringify({ config: patch })) }, { overlay: 'o.yaml' });
        assert.equal(canonicalBytes(again.document), text);
        for (const o of Object.values(r.origins)) assert.ok(o === 'base' || o === 'overlay:o.yaml');
        for (const k of Object.keys(patch)) if (patch[k] !== null && typeof patch[k] !== 'object') assert.equal(r.origins[`/config/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`], 'overlay:o.yaml');
      }),
      { numRuns: 150 },
    );
  });
});

describe('hostile input', () => {
  const onlyDomainErrors = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof DomainError, `not a DomainError: ${String(e)}`);
    }
  };
  test('property: any text as a manifest file fails only with a DomainError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        onlyDomainErrors(() => layerManifest({ base: parseManifestYaml(text, 'base.yaml') }));
      }),
      { numRuns: 300 },
    );
  });
  test('property: any JSON as overlay or patch fails only with a DomainError, and never changes the base', () => {
    const base = y('base.yaml', BASE);
    const before = JSON.stringify(base.data);
    const op = fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test'), path: fc.constantFrom('/config/currency', '/config/hosts/0', '/config/hosts/-', '/runtime', '/nope/x', '/', '', 'x', '/config/a~1b'), from: fc.constantFrom('/config/timeoutMs', '/x'), value: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['op', 'path'] });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.array(op, { maxLength: 5 }), (overlay, patch) => {
        onlyDomainErrors(() => layerManifest({ base, overlay: { file: 'o.yaml', data: overlay, locate: () => ({ line: 1, column: 1 }) } }));
        onlyDomainErrors(() => layerManifest({ base, patch: { file: 'p.yaml', data: patch, locate: () => ({ line: 1, column: 1 }) } }));
        assert.equal(JSON.stringify(base.data), before);
      }),
      { numRuns: 300 },
    );
  });
});
