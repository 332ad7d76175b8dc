/**
 * The `local` target's host process, end to end: real detached host processes, real instance
 * processes (src/rollout/local/testing/sample-service.js), real Unix control sockets and loopback
 * proxies. Weight changes under load fail no request, stop drains then kills the process tree,
 * crash loops and hanging probes end in 'failed' with a clear message, liveness takes a version out
 * of rotation, bad input is refused with the field named, and the host survives kill -9 and restarts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DomainError } from '../src/domain/errors.ts';
import { createLocalHostClient, type LocalHostClient } from '../src/rollout/local/host-client.ts';
import { isAlive } from '../src/rollout/targets/exec-run-dir.ts';

const SAMPLE = fileURLToPath(new URL('../src/rollout/local/testing/sample-service.js', import.meta.url));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const clients: LocalHostClient[] = [];
const pids = new Set<number>();
const dirs: string[] = [];

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  agent.destroy();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newHost(service: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sg-local-'));
  dirs.push(dir);
  const client = createLocalHostClient({ hostDir: join(dir, 'host'), startTimeoutMs: 30_000 });
  clients.push(client);
  const { proxyUrl } = await client.ensure({ environment: 'test', service });
  const hostPid = (await client.state()).pid;
  pids.add(hostPid);
  return { dir, client, proxyUrl, hostPid };
}
const spec = (dir: string, releaseId: string, env: Record<string, string> = {}, more: object = {}) => ({
  releaseId,
  cwd: dir,
  argv: [process.execPath, SAMPLE],
  env,
  readiness: { intervalMs: 100, timeoutMs: 500, failureThreshold: 2, startTimeoutMs: 20_000 },
  killGraceMs: 1000,
  ...more,
});
async function ready(client: LocalHostClient, v: string) {
  const s = await client.waitReady(v, 60_000);
  assert.equal(s.phase, 'ready', `${v}: ${s.message}`);
  for (const i of s.instances) if (i.pid) pids.add(i.pid);
  return s;
}
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), version: String(res.headers['x-stagegate-version'] ?? '') }));
      })
      .on('error', reject);
  });
}
function raw(socketPath: string, method: string, path: string, token: string, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const refused = (code: string, field?: RegExp) => (e: unknown) => e instanceof DomainError && e.code === code && (!field || field.test(String(e.details.field)));

test('rollout on a real host: traffic, header routes, zero failures under load, drain then tree kill', { timeout: 180_000 }, async () => {
  const { dir, client, proxyUrl } = await newHost('shop');
  writeFileSync(join(dir, 'effective-config.json'), JSON.stringify({ greeting: 'hi' }));
  assert.equal((await get(proxyUrl)).status, 503, 'no version ready yet: the placeholder answers 503');

  const first = await client.putVersion('v1', spec(dir, 'rel-1', { SAMPLE_SPAWN_GRANDCHILD: '1' }, { killGraceMs: 500 }));
  const again = await client.putVersion('v1', spec(dir, 'rel-1', { SAMPLE_SPAWN_GRANDCHILD: '1' }, { killGraceMs: 500 }));
  assert.equal(again.instances[0]!.pid, first.instances[0]!.pid, 'the same version and release is not started twice');
  await assert.rejects(client.putVersion('v1', spec(dir, 'rel-other')), refused('conflict', /releaseId/));
  const s1 = await ready(client, 'v1');
  await client.setTraffic({ weights: { v1: 100 } });
  const r1 = await get(proxyUrl);
  assert.equal(r1.status, 200);
  assert.equal(r1.version, 'v1');
  assert.deepEqual(JSON.parse(r1.body).config, { greeting: 'hi' }, 'the instance runs in cwd and reads effective-config.json');

  await client.putVersion('v2', spec(dir, 'rel-2', { API_KEY: 'sg-secret-4242' }));
  await ready(client, 'v2');
  await client.setTraffic({ weights: { v1: 100, v2: 0 }, headerRoutes: [{ header: 'x-preview', value: '1', version: 'v2' }] });
  assert.equal((await get(proxyUrl, { 'x-preview': '1' })).version, 'v2');
  assert.equal((await get(proxyUrl)).version, 'v1');

  await client.resetStats(); // the placeholder's 503 above counted as a failure
  let stop = false;
  const statuses: number[] = [];
  const seen = new Set<string>();
  const worker = async () => {
    while (!stop) {
      const r = await get(`${proxyUrl}/?delay=2`).catch(() => ({ status: -1, version: '' }));
      statuses.push(r.status);
      seen.add(r.version);
    }
  };
  const workers = Array.from({ length: 20 }, worker);
  for (const w of [{ v1: 90, v2: 10 }, { v1: 0, v2: 100 }, { v1: 100, v2: 0 }]) {
    await sleep(400);
    await client.setTraffic({ weights: w });
  }
  await sleep(400);
  stop = true;
  await Promise.all(workers);
  assert.ok(statuses.length > 100, `${statuses.length} requests`);
  assert.deepEqual(statuses.filter((s) => s !== 200), [], 'no request failed while the weights moved');
  assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  const stats = (await client.stats()) as { totals: { failed: number }; versions: Record<string, unknown> };
  assert.equal(stats.totals.failed, 0);
  assert.deepEqual(Object.keys(stats.versions).sort(), ['v1', 'v2'], 'the placeholder is not in the stats');

  await assert.rejects(client.stopVersion('v1'), refused('conflict', /weights\.v1/), 'a version with weight > 0 is not stopped');
  const slow = get(`${proxyUrl}/?delay=1500`);
  await sleep(300);
  await client.setTraffic({ weights: { v2: 100 } });
  const log = await readFile(join(client.hostDir, 'v1', 'instance-0.log'), 'utf8');
  const grandchild = Number(/grandchild pid (\d+)/.exec(log)?.[1]);
  assert.ok(grandchild > 0 && isAlive(grandchild, null), 'the grandchild runs');
  const stopped = await client.stopVersion('v1', { drainTimeoutMs: 10_000 });
  const done = await slow;
  assert.equal(done.status, 200, 'the in-flight request finished');
  assert.equal(done.version, 'v1');
  assert.equal(stopped.drained, true);
  assert.ok(stopped.waitedMs > 200, `drain waited ${stopped.waitedMs} ms for the slow request`);
  await until(() => !isAlive(grandchild, null), 'the grandchild (ignores SIGTERM) to be killed with its group', 10_000);
  assert.equal(isAlive(s1.instances[0]!.pid!, null), false, 'the v1 instance is gone');
  assert.deepEqual(await client.stopVersion('v1'), { drained: true, inFlight: 0, waitedMs: 0 }, 'stopping again is a no-op');
  const st = await client.state();
  assert.deepEqual(st.versions.map((v) => v.version), ['v2']);
  assert.deepEqual(st.weights, { v2: 100 });
  const types = (await client.events(0)).map((e) => e.type);
  for (const t of ['started', 'ready', 'weights-changed', 'drain-started', 'stopped']) assert.ok(types.includes(t), `event ${t}`);

  const shown = JSON.stringify([st, await client.events(0), await readFile(join(client.hostDir, 'host.log'), 'utf8')]);
  assert.ok(!shown.includes('sg-secret-4242'), 'an env value is in no state, event or log line');
  const v2pid = st.versions[0]!.instances[0]!.pid!;
  await client.shutdown();
  assert.equal(isAlive(st.pid, null), false, 'the host exited');
  assert.equal(isAlive(v2pid, null), false, 'shutdown stopped the v2 instance');
  await assert.rejects(readFile(join(client.hostDir, 'host.json')), /ENOENT/);
  await assert.rejects(get(proxyUrl), /ECONNREFUSED|ECONNRESET|socket hang up/);
});

test('faults: a crash loop and a hanging probe fail the version with a clear message; liveness takes a version out of rotation', { timeout: 180_000 }, async () => {
  const { dir, client, proxyUrl } = await newHost('faults');
  const crash = spec(dir, 'rel-c', { SAMPLE_CRASH_AFTER_MS: '150' }, { restart: { maxRestarts: 2, backoffMs: 100, maxBackoffMs: 150 } });
  const hang = spec(dir, 'rel-h', { SAMPLE_HANG_HEALTH: '1' }, { readiness: { intervalMs: 100, timeoutMs: 300, startTimeoutMs: 2000 } });
  await client.putVersion('crashy', crash);
  await client.putVersion('hangy', hang);

  // it may pass a probe before it first crashes; the crash loop fails it anyway
  await until(async () => (await client.state()).versions.find((v) => v.version === 'crashy')?.phase === 'failed', 'crashy to fail');
  const c = (await client.state()).versions.find((v) => v.version === 'crashy')!;
  assert.match(c.message, /instance 0 exited with code 1 after 2 restart\(s\) of the version \(maxRestarts 2\)/);
  assert.match(c.message, /crashing on purpose/, 'the message carries the last stderr lines');
  assert.equal(c.instances[0]!.pid, null);
  const restarts = (await client.events(0)).filter((e) => e.type === 'restarting' && e.version === 'crashy').map((e) => /in (\d+) ms/.exec(e.message)?.[1]);
  assert.deepEqual(restarts, ['100', '150'], 'exponential backoff capped at maxBackoffMs');

  const h = await client.waitReady('hangy', 60_000);
  assert.equal(h.phase, 'failed');
  assert.match(h.message, /^not ready after 2s: last probe instance 0: GET \/healthz timed out after 300 ms/);
  await assert.rejects(client.setTraffic({ weights: { hangy: 100 } }), refused('conflict', /weights\.hangy/));

  await client.putVersion('missing', { ...spec(dir, 'rel-m'), argv: [join(dir, 'no-such-command')], restart: { maxRestarts: 0 } });
  await until(async () => (await client.state()).versions.find((v) => v.version === 'missing')?.phase === 'failed', 'missing to fail');
  assert.match((await client.waitReady('missing', 1000)).message, /instance 0 could not start: .*no-such-command: ENOENT after 0 restart/);

  await client.putVersion('stubborn', spec(dir, 'rel-st', { SAMPLE_IGNORE_SIGTERM: '1' }, { killGraceMs: 300 }));
  const stubborn = (await ready(client, 'stubborn')).instances[0]!.pid!;
  const stopped = await client.stopVersion('stubborn');
  assert.equal(stopped.drained, true);
  assert.equal(isAlive(stubborn, null), false, 'an instance ignoring SIGTERM is SIGKILLed after killGraceMs');
  assert.match(await readFile(join(client.hostDir, 'stubborn', 'instance-0.log'), 'utf8'), /SIGTERM ignored/);

  const sick = join(dir, 'sick');
  const live = spec(dir, 'rel-l', { SAMPLE_HEALTH_FAIL_FILE: sick });
  await client.putVersion('steady', spec(dir, 'rel-s'));
  await client.putVersion('shaky', live);
  await ready(client, 'steady');
  await ready(client, 'shaky');
  await client.setTraffic({ weights: { steady: 50, shaky: 50 } });
  const versions = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await get(proxyUrl)).version);
    return out;
  };
  assert.ok((await versions(10)).includes('shaky'));
  writeFileSync(sick, '');
  await until(async () => (await client.state()).versions.find((v) => v.version === 'shaky')?.instances[0]?.ready === false, 'shaky to fail its liveness probes');
  const st = (await client.state()).versions.find((v) => v.version === 'shaky')!;
  assert.equal(st.phase, 'ready', 'a version out of rotation keeps its phase');
  assert.equal(st.inRotation, false);
  assert.deepEqual([...new Set(await versions(20))], ['steady'], 'no request reaches a version whose instances all fail their probes');
  await rm(sick);
  await until(async () => (await client.state()).versions.find((v) => v.version === 'shaky')?.inRotation === true, 'shaky back in rotation');
  assert.ok((await versions(10)).includes('shaky'));
  const types = (await client.events(0)).filter((e) => e.version === 'shaky').map((e) => e.type);
  assert.ok(types.includes('not-ready') && types.includes('drain-started'));
});

test('bad input is refused with the field named, and the host stays up', { timeout: 120_000 }, async () => {
  const { dir, client } = await newHost('input');
  const sock = join(client.hostDir, 'control.sock');
  const token = readFileSync(join(client.hostDir, 'control.token'), 'utf8').trim();
  const bad = await raw(sock, 'GET', '/state', 'x'.repeat(64));
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error.code, 'unauthenticated');
  assert.equal((await raw(sock, 'GET', '/state', '')).status, 401);

  const put = (body: unknown) => raw(sock, 'PUT', '/versions/v1', token, JSON.stringify(body));
  const unknown = await put({ ...spec(dir, 'r1'), bogus: 1 });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.error.field, 'body');
  assert.match(unknown.json.error.message, /bogus/);
  const relative = await put({ ...spec(dir, 'r1'), cwd: 'relative/dir' });
  assert.deepEqual([relative.status, relative.json.error.field], [400, 'body.cwd']);
  const noDir = await put({ ...spec(dir, 'r1'), cwd: join(dir, 'absent') });
  assert.deepEqual([noDir.status, noDir.json.error.field], [400, 'body.cwd']);
  const replicas = await put({ ...spec(dir, 'r1'), replicas: 9 });
  assert.deepEqual([replicas.status, replicas.json.error.field], [400, 'body.replicas']);
  const badVersion = await raw(sock, 'PUT', '/versions/..%2Fetc', token, JSON.stringify(spec(dir, 'r1')));
  assert.deepEqual([badVersion.status, badVersion.json.error.field], [400, 'version']);
  const notJson = await raw(sock, 'PUT', '/traffic', token, '{"weights":');
  assert.deepEqual([notJson.status, notJson.json.error.field], [400, 'body']);
  const sum = await raw(sock, 'PUT', '/traffic', token, JSON.stringify({ weights: { v1: 30, v2: 60 } }));
  assert.deepEqual([sum.status, sum.json.error.field], [400, 'body.weights']);
  assert.match(sum.json.error.message, /sum to 100/);
  const huge = await raw(sock, 'PUT', '/traffic', token, JSON.stringify({ weights: {}, pad: 'x'.repeat(300 * 1024) }));
  assert.equal(huge.status, 413);
  const unready = await raw(sock, 'PUT', '/traffic', token, JSON.stringify({ weights: { v9: 100 } }));
  assert.deepEqual([unready.status, unready.json.error.field], [409, 'weights.v9']);
  const wait = await raw(sock, 'GET', '/versions/v1/wait-ready?timeoutMs=999999', token);
  assert.deepEqual([wait.status, wait.json.error.field], [400, 'query.timeoutMs']);
  assert.equal((await raw(sock, 'GET', '/nope', token)).status, 404);
  await assert.rejects(client.inject('v9', { errorRate: 2 }), refused('invalid_input', /body\.errorRate/));
  const st = await client.state();
  assert.deepEqual(st.versions, [], 'nothing was started by a refused request');
  assert.ok(isAlive(st.pid, null), 'the host is still alive');
});

test('a host killed with SIGKILL comes back on ensure with its versions and weights; its orphans are killed', { timeout: 180_000 }, async () => {
  const { dir, client, hostPid } = await newHost('restore');
  await client.putVersion('v1', spec(dir, 'rel-1', {}, { replicas: 2 }));
  await client.putVersion('v2', spec(dir, 'rel-2', { API_KEY: 'sg-secret-4242' }));
  const before = [...(await ready(client, 'v1')).instances, ...(await ready(client, 'v2')).instances].map((i) => i.pid!);
  await client.setTraffic({ weights: { v1: 70, v2: 30 } });
  const { proxyUrl } = await client.ensure({ environment: 'test', service: 'restore' });
  const servedBy = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const r = await get(proxyUrl);
    if (r.version === 'v1') servedBy.add(JSON.parse(r.body).pid);
  }
  assert.equal(servedBy.size, 2, 'both replicas of v1 serve requests');
  await assert.rejects(client.ensure({ environment: 'test', service: 'restore', listen: { port: 1 } }), refused('conflict', /listen\.port/));

  process.kill(hostPid, 'SIGKILL');
  await until(() => !isAlive(hostPid, null), 'the host to die');
  await assert.rejects(client.state(), refused('unavailable'));
  const back = await client.ensure({ environment: 'test', service: 'restore' });
  const st = await client.state();
  pids.add(st.pid);
  assert.notEqual(st.pid, hostPid);
  // restoring starts three instances and waits for their probes: give a loaded machine time, and say how it ended
  await until(async () => (await client.events(0)).some((e) => e.type === 'restored' || e.type === 'restore-failed'), 'the host to finish restoring', 90_000);
  const ending = (await client.events(0)).filter((e) => e.type === 'restored' || e.type === 'restore-failed');
  assert.equal(ending[0]?.type, 'restored', JSON.stringify(await client.events(0)));
  const restored = await client.state();
  assert.deepEqual(restored.weights, { v1: 70, v2: 30 });
  assert.deepEqual(restored.versions.map((v) => [v.version, v.releaseId, v.phase]).sort(), [['v1', 'rel-1', 'ready'], ['v2', 'rel-2', 'ready']]);
  for (const v of restored.versions) for (const i of v.instances) if (i.pid) pids.add(i.pid);
  for (const pid of before) assert.equal(isAlive(pid, null), false, `orphan instance ${pid} of the dead host was killed`);
  const r = await get(back.proxyUrl);
  assert.equal(r.status, 200);
  assert.match((await client.events(0)).find((e) => e.type === 'restored')!.message, /restored 2 version\(s\) and traffic/);
});

test('concurrent ensure starts one host; SIGTERM to the host stops every instance', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-local-'));
  dirs.push(dir);
  const hostDir = join(dir, 'host');
  const a = createLocalHostClient({ hostDir, startTimeoutMs: 30_000 });
  const b = createLocalHostClient({ hostDir, startTimeoutMs: 30_000 });
  clients.push(a);
  const [ra, rb, rc] = await Promise.all([a.ensure({ environment: 'e', service: 's' }), b.ensure({ environment: 'e', service: 's' }), a.ensure({ environment: 'e', service: 's' })]);
  assert.equal(ra.proxyUrl, rb.proxyUrl);
  assert.equal(rc.proxyUrl, rb.proxyUrl);
  const st = await a.state();
  pids.add(st.pid);
  const log = await readFile(join(hostDir, 'host.log'), 'utf8');
  assert.equal(log.match(/local host: listening/g)?.length, 1, 'exactly one host started');
  assert.equal((await import('node:fs')).statSync(hostDir).mode & 0o777, 0o700);
  assert.equal((await import('node:fs')).statSync(join(hostDir, 'control.token')).mode & 0o777, 0o600);

  await a.putVersion('v1', spec(dir, 'rel-1', { SAMPLE_SPAWN_GRANDCHILD: '1' }, { killGraceMs: 500 }));
  const v1 = await ready(a, 'v1');
  const grandchild = Number(/grandchild pid (\d+)/.exec(await readFile(join(hostDir, 'v1', 'instance-0.log'), 'utf8'))?.[1]);
  process.kill(st.pid, 'SIGTERM');
  await until(() => !isAlive(st.pid, null), 'the host to exit');
  assert.equal(isAlive(v1.instances[0]!.pid!, null), false, 'the instance is gone');
  assert.equal(isAlive(grandchild, null), false, 'the grandchild is gone');
  assert.equal((await import('node:fs')).existsSync(join(hostDir, 'host.json')), false, 'host.json removed');
});
