import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { driftReport, parseObservation } from './drift.ts';
import type { EnvironmentSnapshot } from './snapshot.ts';

const now = new Date('2026-11-26T12:00:00Z');
const d = (c: string) => `sha256:${c.repeat(64)}`;
const declared: EnvironmentSnapshot = {
  environment: 'prod',
  services: {
    checkout: {
      release: { id: d('1'), version: '1.2.0', digests: { 'server.js': d('a'), 'config/base.yaml': d('b'), 'registry/checkout': d('c') }, images: ['registry/checkout'] },
      config: { runtime: { replicas: 3 }, config: { pool: 10 } },
      secrets: {},
    },
  },
  flags: { 'new-ui': { state: 'DISABLED', defaultVariant: 'off', variantsDigest: 'v', targetingDigest: null } },
};
const honest = { services: { checkout: { version: '1.2.0', digests: { 'server.js': d('a'), 'config/base.yaml': d('b') }, config: { runtime: { replicas: 3 } }, flags: { 'new-ui': { state: 'DISABLED' } } } } };

describe('driftReport', () => {
  test('an honest observation: no findings (an image the target cannot hash is not drift)', () => {
    const r = driftReport(declared, honest, { now });
    assert.deepEqual(r.findings, []);
    assert.equal(r.servicesChecked, 1);
  });

  test('a lying observation: same version, other bytes -> a digest finding naming both digests', () => {
    const lying = structuredClone(honest);
    lying.services.checkout.digests['server.js'] = d('e');
    const [f, ...rest] = driftReport(declared, lying, { now }).findings;
    assert.equal(rest.length, 0);
    assert.equal(f?.path, '/checkout/release/digests/server.js');
    assert.equal(f?.declared, d('a'));
    assert.equal(f?.observed, d('e'));
    assert.match(f?.message ?? '', /hashes to sha256:e+, but the signed release checkout@1\.2\.0 has sha256:a+/);
  });

  test('version, extra and missing files, config, flags, unknown and missing services', () => {
    const o = structuredClone(honest) as { services: Record<string, { version?: string; digests?: Record<string, string>; config?: { runtime: { replicas: number } }; flags?: Record<string, { state: string }> }> };
    const c = o.services['checkout']!;
    c.version = '1.3.0-hotfix';
    c.digests!['debug.js'] = d('f');
    delete c.digests!['config/base.yaml'];
    c.config!.runtime.replicas = 1;
    c.flags!['new-ui']!.state = 'ENABLED';
    o.services['cart'] = { version: '0.1.0' };
    const paths = driftReport(declared, o, { now }).findings.map((f) => `${f.kind} ${f.path}`);
    assert.equal(paths.length, 6);
    for (const want of ['unknown /cart', 'version /checkout/release/version', 'digest /checkout/release/digests/config~1base.yaml', 'digest /checkout/release/digests/debug.js', 'config /checkout/runtime/replicas', 'flag /_flags/new-ui/state']) {
      assert.ok(paths.includes(want), `${want} in ${paths.join(', ')}`);
    }
    const gone = driftReport(declared, { services: {} }, { now }).findings;
    assert.equal(gone[0]?.kind, 'missing');
    assert.match(gone[0]?.message ?? '', /reports nothing running/);
  });

  test('a failed deploy that changed nothing: the last Succeeded release (the alternate) is accepted', () => {
    const newer = structuredClone(declared);
    newer.services['checkout']!.release = { id: d('2'), version: '1.3.0', digests: { 'server.js': d('9') } };
    assert.equal(driftReport(newer, honest, { now }).findings.length, 3);
    assert.deepEqual(driftReport(newer, honest, { now, alternate: declared }).findings, []);
    const tampered = structuredClone(honest);
    tampered.services.checkout.digests['server.js'] = d('e');
    assert.equal(driftReport(newer, tampered, { now, alternate: declared }).findings[0]?.path, '/checkout/release/version', 'matching neither: reported against the newest deploy');
  });

  test('services being deployed are skipped; an observation error is a state, not findings', () => {
    assert.equal(driftReport(declared, { services: {} }, { now, skip: new Set(['checkout']) }).findings.length, 0);
    const r = driftReport(declared, { error: 'observe command timed out' }, { now });
    assert.equal(r.error, 'observe command timed out');
    assert.deepEqual(r.findings, []);
  });
});

describe('parseObservation', () => {
  test('garbage is a clear error, never a throw', () => {
    const notJson = parseObservation('<html>oops', 'observe command of target t');
    assert.ok(!notJson.ok && /did not print JSON/.test(notJson.error));
    const wrong = parseObservation(JSON.stringify({ services: { checkout: { digests: { 'a.js': 'md5:x' } } } }), 'observe');
    assert.ok(!wrong.ok && /\/services\/checkout\/digests\/a\.js: a digest is sha256:/.test(wrong.error));
    const big = parseObservation(`{"services":{},"x":"${'a'.repeat(1024 * 1024)}"}`, 'observe');
    assert.ok(!big.ok && /more than 1048576 bytes/.test(big.error));
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => typeof parseObservation(s, 'o').ok === 'boolean'));
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => typeof parseObservation(JSON.stringify(v), 'o').ok === 'boolean'));
  });
});
