/** End to end through the HTTP API: push, promote through the pipeline, gates, queue, status, audit. */
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, type Fixture, makeFixture, makeRelease, push, startApp, waitTerminal } from './helpers/fixture.ts';

describe('promotion flow', () => {
  let fx: Fixture;
  let stop: () => Promise<void>;
  let call: ReturnType<typeof api>;

  before(async () => {
    fx = await makeFixture((y) => y.replace('minSoak: 10s', 'minSoak: 1s'));
    const s = await startApp(fx);
    stop = () => s.app.close();
    call = api(s.url, s.token);
  });
  after(async () => {
    await stop();
    fx.cleanup();
  });

  const promote = async (version: string, environment: string) => {
    const r = await call('POST', '/v1/promotions', { service: 'checkout', version, environment });
    assert.equal(r.status, 202, r.text);
    return waitTerminal(call, r.json.promotion.id);
  };

  test('a signed release goes dev -> staging -> prod; skipping and short soak are refused', async () => {
    const rel = await makeRelease(fx, '1.0.0');
    const pushed = await push(call, rel);
    assert.equal(pushed.status, 201, pushed.text);
    assert.deepEqual(pushed.json.missingBlobs, []);

    const dev = await promote('1.0.0', 'dev');
    assert.equal(dev.state, 'Succeeded', dev.message);
    assert.ok(dev.gates.every((g: { passed: boolean }) => g.passed));

    const skip = await promote('1.0.0', 'prod');
    assert.equal(skip.state, 'Failed');
    const failed = skip.gates.filter((g: { passed: boolean }) => !g.passed);
    assert.equal(failed.length, 1);
    assert.equal(failed[0].gate, 'requires');
    assert.match(failed[0].message, /has not succeeded in staging.*stagegate promote checkout@1\.0\.0 --to staging/);

    assert.equal((await promote('1.0.0', 'staging')).state, 'Succeeded');
    const early = await promote('1.0.0', 'prod');
    assert.equal(early.state, 'Failed');
    assert.match(early.message, /soak.*try again in/);
    await new Promise((r) => setTimeout(r, 1100));
    const prod = await promote('1.0.0', 'prod');
    assert.equal(prod.state, 'Succeeded', prod.message);

    // what the target deployed is the verified release
    const current = JSON.parse(await readFile(path.join(fx.dataDir, 'target-state', 'prod', 'checkout', 'current.json'), 'utf8'));
    assert.equal(current.releaseId, rel.releaseId);

    const status = await call('GET', '/v1/status');
    const prodCell = status.json.status.find((c: { environment: string }) => c.environment === 'prod');
    assert.equal(prodCell.current.version, '1.0.0');
    assert.equal(prodCell.current.releaseId, rel.releaseId);
  });

  test('a swapped artifact is caught by the checksum gate, naming the artifact and both digests', async () => {
    const rel = await makeRelease(fx, '2.0.0');
    assert.equal((await push(call, rel)).status, 201);
    const art = rel.subjects.find((s) => s.kind === 'artifact')!;
    const hex = art.digest.slice(7);
    const blob = path.join(fx.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
    await chmod(blob, 0o644);
    await writeFile(blob, 'evil bytes');
    const p = await promote('2.0.0', 'dev');
    assert.equal(p.state, 'Failed');
    const bad = p.gates.find((g: { gate: string; passed: boolean }) => g.gate === 'checksums' && !g.passed);
    assert.equal(bad.subject, art.name);
    assert.ok(bad.message.includes(art.digest), bad.message);
    assert.match(bad.message, /hash to sha256:[a-f0-9]{64} but the release signed/);
  });

  test('a release signed by a key the environment does not trust fails the signature gate', async () => {
    // prod trusts only `ci`; add a second key trusted by dev only, sign with it
    const { writeKeyPair } = await import('../src/crypto/keys.ts');
    const fx2 = await makeFixture();
    try {
      const other = await writeKeyPair(path.join(fx2.projectDir, 'keys'), 'other');
      const yaml = (await readFile(fx2.projectFile, 'utf8'))
        .replace('keys:\n  - name: ci\n    publicKey: keys/ci.pub', 'keys:\n  - name: ci\n    publicKey: keys/ci.pub\n  - name: other\n    publicKey: keys/other.pub')
        .replace(/(- name: dev\n(?:.*\n)*?\s+trustedKeys: )\[ci\]/, '$1[ci, other]');
      await writeFile(fx2.projectFile, yaml);
      const s = await startApp(fx2);
      try {
        const c2 = api(s.url, s.token);
        const rel = await makeRelease(fx2, '1.0.0', { keyFile: other.privateKeyPath });
        assert.equal((await push(c2, rel)).status, 201);
        const r = await c2('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'dev' });
        assert.equal((await waitTerminal(c2, r.json.promotion.id)).state, 'Succeeded');
        const r2 = await c2('POST', '/v1/promotions', { service: 'checkout', version: '1.0.0', environment: 'staging' });
        const p = await waitTerminal(c2, r2.json.promotion.id);
        assert.equal(p.state, 'Failed');
        const sig = p.gates.find((g: { gate: string }) => g.gate === 'signature');
        assert.equal(sig.passed, false);
        assert.match(sig.message, /staging trusts keys \[ci\]/);
      } finally {
        await s.app.close();
      }
    } finally {
      fx2.cleanup();
    }
  });

  test('one active promotion per service and environment; the others wait in order', async () => {
    const a = await makeRelease(fx, '3.0.0');
    const b = await makeRelease(fx, '3.0.1');
    await push(call, a);
    await push(call, b);
    const r1 = await call('POST', '/v1/promotions', { service: 'checkout', version: '3.0.0', environment: 'dev' });
    const r2 = await call('POST', '/v1/promotions', { service: 'checkout', version: '3.0.1', environment: 'dev' });
    const second = await call('GET', `/v1/promotions/${r2.json.promotion.id}`);
    if (second.json.promotion.state === 'Pending') assert.equal(second.json.promotion.waitingBehind, r1.json.promotion.id);
    const p1 = await waitTerminal(call, r1.json.promotion.id);
    const p2 = await waitTerminal(call, r2.json.promotion.id);
    assert.equal(p1.state, 'Succeeded');
    assert.equal(p2.state, 'Succeeded');
    // order of transitions in the audit log: all of the first before any of the second's Gating
    const log = await call('GET', '/v1/audit/entries?from=0&limit=1000');
    const events = log.json.entries
      .filter((e: any) => e.entry.action === 'promotion.transition')
      .map((e: any) => `${e.entry.subject}:${e.entry.details.to}`);
    const firstDone = events.indexOf(`promotion:${p1.id}:Succeeded`);
    const secondGating = events.indexOf(`promotion:${p2.id}:Gating`);
    assert.ok(firstDone >= 0 && secondGating > firstDone, events.join('\n'));
  });

  test('rollback promotes the previous succeeded release through the gates; none earlier is a 404', async () => {
    const r = await call('POST', '/v1/rollbacks', { service: 'checkout', environment: 'dev' });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.promotion.version, '3.0.0');
    const p = await waitTerminal(call, r.json.promotion.id);
    assert.equal(p.state, 'Succeeded', p.message);
    assert.ok(p.gates.length >= 3, 'rollback ran the gates');
    const dev = (await call('GET', '/v1/status')).json.status.find((c: { environment: string }) => c.environment === 'dev');
    assert.equal(dev.current.version, '3.0.0');
    const none = await call('POST', '/v1/rollbacks', { service: 'checkout', environment: 'staging' });
    assert.equal(none.status, 404);
    assert.match(none.json.error.message, /no earlier release that succeeded in staging/);
  });

  test('promotion show records each step: exit code, duration, output tail', async () => {
    const list = await call('GET', '/v1/promotions?environment=prod&limit=5');
    const ok = list.json.promotions.find((p: { state: string }) => p.state === 'Succeeded');
    const shown = (await call('GET', `/v1/promotions/${ok.id}`)).json.promotion;
    assert.deepEqual(shown.steps.map((s: { step: string }) => s.step), ['deploy', 'verify']);
    for (const s of shown.steps) {
      assert.equal(s.status, 'succeeded');
      assert.equal(s.exitCode, 0);
      assert.ok(Number.isInteger(s.durationMs) && s.durationMs >= 0);
      assert.match(s.outputTail, /checkout@1\.0\.0/);
      assert.equal(s.data, undefined, 'runner data is not exposed');
    }
  });

  test('every transition is in the audit log, and the log verifies', async () => {
    const v = await call('GET', '/v1/audit/verify');
    assert.equal(v.json.ok, true, JSON.stringify(v.json));
    const log = await call('GET', '/v1/audit/entries?from=0&limit=1000');
    const actions = new Set(log.json.entries.map((e: any) => e.entry.action));
    for (const a of ['token.create', 'blob.upload', 'release.push', 'promotion.request', 'promotion.transition']) assert.ok(actions.has(a), a);
    const gated = log.json.entries.find((e: any) => e.entry.action === 'promotion.transition' && e.entry.details.from === 'Gating');
    assert.ok(Array.isArray(gated.entry.details.gates), 'gate results are in the audit entry');
  });
});
