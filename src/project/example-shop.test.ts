// examples/shop is used by the demo and the end-to-end tests; this checks its scripts and service work.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const shop = fileURLToPath(new URL('../../examples/shop/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'stagegate-shop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const artifacts = join(tmp, 'artifacts');
mkdirSync(artifacts);
writeFileSync(join(artifacts, 'server.js'), 'console.log(1)\n');
const base = {
  PATH: process.env.PATH ?? '',
  STAGEGATE_SERVICE: 'checkout',
  STAGEGATE_VERSION: '1.0.0',
  STAGEGATE_ENVIRONMENT: 'staging',
  STAGEGATE_RELEASE_ID: `sha256:${'a'.repeat(64)}`,
  STAGEGATE_PROMOTION_ID: 'p1',
  STAGEGATE_ARTIFACTS_DIR: artifacts,
  STAGEGATE_STATE_DIR: join(tmp, 'state'),
};
const run = (script: string, env: Record<string, string>) =>
  spawnSync(process.execPath, [script], { cwd: shop, env, encoding: 'utf8', timeout: 10_000 });

test('deploy.js copies the artifacts and records current.json; verify.js checks it', () => {
  const d = run('deploy.js', base);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /deployed checkout@1.0.0 .* to staging/);
  const dest = join(tmp, 'state', 'staging', 'checkout');
  assert.equal(readFileSync(join(dest, 'server.js'), 'utf8'), 'console.log(1)\n');
  const current = JSON.parse(readFileSync(join(dest, 'current.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual([current.version, current.releaseId, current.promotionId], ['1.0.0', base.STAGEGATE_RELEASE_ID, 'p1']);
  assert.ok(!Number.isNaN(Date.parse(current.deployedAt ?? '')));
  assert.equal(run('verify.js', base).status, 0);

  const other = run('verify.js', { ...base, STAGEGATE_RELEASE_ID: `sha256:${'b'.repeat(64)}` });
  assert.equal(other.status, 1);
  assert.match(other.stderr, /staging runs sha256:a+, expected sha256:b+/);
  const demo = run('verify.js', { ...base, DEMO_FAIL_VERIFY: '1' });
  assert.equal(demo.status, 1);
  assert.match(demo.stderr, /DEMO_FAIL_VERIFY=1/);
  assert.match(run('verify.js', { ...base, STAGEGATE_ENVIRONMENT: 'prod' }).stderr, /cannot read .*current.json/);
  const missing = run('deploy.js', { PATH: base.PATH });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /STAGEGATE_SERVICE is not set/);
});

test('checkout/server.js serves /healthz on PORT', async () => {
  const child = spawn(process.execPath, ['checkout/server.js'], { cwd: shop, env: { PATH: base.PATH, PORT: '0', STAGEGATE_VERSION: '2.0.0' } });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        const m = /listening on :(\d+)/.exec(String(b));
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok', version: '2.0.0' });
    assert.match(await (await fetch(`http://127.0.0.1:${port}/`)).text(), /currency: EUR/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  } finally {
    child.kill('SIGTERM');
  }
});
