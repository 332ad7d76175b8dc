/** The `stagegate flags` commands against a real server (async execFile), and `flags validate` offline. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { App } from '../src/app.ts';
import { cliPath, type Fixture, makeFixture, startApp } from './helpers/fixture.ts';

const run = promisify(execFile);

describe('stagegate flags (CLI)', () => {
  let fx: Fixture;
  let app: App;
  let env: Record<string, string>;
  const cli = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [cliPath, ...args], { env, cwd: fx.dir });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, out: x.stdout, err: x.stderr };
    }
  };

  before(async () => {
    fx = await makeFixture();
    const s = await startApp(fx);
    app = s.app;
    env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', STAGEGATE_SERVER: s.url, STAGEGATE_TOKEN: s.token };
  });
  after(async () => {
    await app?.close();
    fx?.cleanup();
  });

  test('show, change --state/--set, changes, apply', async () => {
    const show = await cli('flags', 'show', 'staging');
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /^staging: version 1, sha256:[0-9a-f]{64}\n/);
    assert.match(show.out, /\n {2}new-checkout {2}ENABLED {2}default off {2}variants off, on {2}\(targeting\)\n/);
    const change = await cli('flags', 'change', 'staging', '--state', 'new-checkout=DISABLED', '--set', 'checkout-banner=holiday', '--reason', 'sale', '--json');
    assert.equal(change.code, 0, change.err);
    const c = JSON.parse(change.out).change;
    assert.deepEqual(c.patch, [
      { op: 'replace', path: '/flags/checkout-banner/defaultVariant', value: 'holiday' },
      { op: 'replace', path: '/flags/new-checkout/state', value: 'DISABLED' },
    ]);
    const list = await cli('flags', 'changes', 'staging', '--state', 'draft');
    assert.match(list.out, new RegExp(`${c.id} {2}staging {2}draft {2}base v1 {2}by user:admin {2}no approvals needed: sale`));
    const applied = await cli('flags', 'apply', c.id);
    assert.equal(applied.code, 0, applied.err);
    assert.match(applied.out, /applied flc_[0-9a-f]{16}: staging is now version 2/);
    assert.match((await cli('flags', 'show', 'staging')).out, /new-checkout {2}DISABLED/);
  });

  test('bad input: exit codes and messages that say what to do', async () => {
    const bad = await cli('flags', 'change', 'staging', '--state', 'new-checkout=OFF', '--reason', 'x');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /a state is ENABLED or DISABLED/);
    const patchFile = path.join(fx.dir, 'p.json');
    await writeFile(patchFile, JSON.stringify([{ op: 'test', path: '/flags/new-checkout/state', value: 'PAUSED' }, { op: 'remove', path: '/flags/new-checkout' }]));
    const stale = await cli('flags', 'change', 'staging', '--patch', patchFile, '--reason', 'x');
    assert.equal(stale.code, 2);
    assert.match(stale.err, /patch operation 0 at \/flags\/new-checkout\/state: test failed/);
    const unknown = await cli('flags', 'apply', 'flc_0000000000000000');
    assert.equal(unknown.code, 3, unknown.err);
    const notId = await cli('flags', 'approve', 'nope');
    assert.equal(notId.code, 2);
  });

  test('flags validate works offline and names the pointer', async () => {
    const good = await cli('flags', 'validate', path.join(fx.projectDir, 'flags', 'prod.flagd.json'));
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /is a valid flagd flag set with 4 flags/);
    const file = path.join(fx.dir, 'bad.flagd.json');
    await writeFile(file, JSON.stringify({ flags: { f: { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'a', targeting: { fractional: 'x' } } } }));
    const bad = await cli('flags', 'validate', file);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad\.flagd\.json: \/flags\/f\/targeting.*: does not match flagd's schema/);
    assert.match(bad.err, /fix: write targeting as a JSON Logic rule/);
  });
});
