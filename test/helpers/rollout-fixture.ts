/**
 * A project on the `local` target for rollout tests and benchmarks: the shop's checkout service run
 * as real child processes behind the local host's proxy. Releases carry `server.js` (the artifact,
 * optionally with a fault: a share of requests answered 500) and the service's config files.
 */
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRelease } from '../../src/engine/release-create.ts';
import assert from 'node:assert/strict';
import { createLocalHostClient } from '../../src/rollout/local/host-client.ts';
import { api, type Fixture, makeFixture, push, startApp, waitTerminal } from './fixture.ts';

export const localProject = (rollout: string, extra = '') => (y: string) =>
  `${y
    .replace(/targets:\n[\s\S]*?\nenvironments:/, `targets:
  local-exec:
    type: exec
    deploy: ["node", "deploy.js"]
    verify: ["node", "verify.js"]
    timeoutSeconds: 60
  local:
    type: local
    command: ["node", "server.js"]
    readiness: { interval: 100ms, timeout: 1s, startTimeout: 20s }
    restart: { maxRestarts: 2, backoff: 100ms }
    drainTimeout: 2s
    killGrace: 1s
    timeoutSeconds: 60
environments:`)
    .replace(/(- name: prod\n\s+tier: prod\n\s+target: )local-exec/, '$1local')
    .replace(/minSoak: 10s/, `minSoak: 0s\n${rollout}`)}${extra}`;

/** a release whose server answers `failRate` of its requests (not /healthz) with 500 */
export async function makeServiceRelease(fx: Fixture, version: string, opts: { failRate?: number; configNote?: string } = {}) {
  const dir = path.join(fx.dir, `build-${version}`);
  mkdirSync(dir, { recursive: true });
  const base = await readFile(path.join(fx.projectDir, 'checkout', 'server.js'), 'utf8');
  const fault = opts.failRate
    ? `\nconst failRate = ${opts.failRate};\nconst realEmit = server.emit.bind(server);\nserver.emit = (ev, req, res) => {\n  if (ev === 'request' && req.url !== '/healthz' && Math.random() < failRate) {\n    res.writeHead(500, { 'content-type': 'text/plain' });\n    res.end('injected bug\\n');\n    return true;\n  }\n  return realEmit(ev, req, res);\n};\n`
    : '';
  await writeFile(path.join(dir, 'server.js'), `${base}${fault}\n// build ${version}\n`);
  const configDir = path.join(fx.projectDir, 'checkout', 'config');
  if (opts.configNote) await writeFile(path.join(configDir, 'app.yaml'), `${await readFile(path.join(configDir, 'app.yaml'), 'utf8')}\n# ${opts.configNote}\n`);
  const r = await createRelease({
    service: 'checkout',
    version,
    artifacts: [path.join(dir, 'server.js')],
    images: [],
    configDir,
    privateKeyPem: await readFile(fx.keyFile, 'utf8'),
  });
  return { ...r, artifact: path.join(dir, 'server.js'), configDir };
}

export async function makeLocalFixture(rollout: string, extra = ''): Promise<Fixture> {
  return makeFixture(localProject(rollout, extra));
}

type Call = ReturnType<typeof api>;

/** make, push and promote a release through dev and staging; request prod and return its promotion id */
export async function releaseToProd(fx: Fixture, call: Call, version: string, opts: { failRate?: number; configNote?: string } = {}): Promise<string> {
  const rel = await makeServiceRelease(fx, version, opts);
  const pushed = await push(call, rel);
  assert.equal(pushed.status, 201, pushed.text);
  return promoteToProd(call, version);
}

/** promote a pushed release through dev and staging; request prod and return its promotion id */
export async function promoteToProd(call: Call, version: string): Promise<string> {
  for (const environment of ['dev', 'staging']) {
    const r = await call('POST', '/v1/promotions', { service: 'checkout', version, environment });
    assert.equal(r.status, 202, r.text);
    const done = await waitTerminal(call, r.json.promotion.id, 60_000);
    assert.equal(done.state, 'Succeeded', done.message);
  }
  const r = await call('POST', '/v1/promotions', { service: 'checkout', version, environment: 'prod' });
  assert.equal(r.status, 202, r.text);
  return r.json.promotion.id as string;
}

/** poll the prod rollout of checkout until `pred` holds */
export async function untilRollout(call: Call, what: string, pred: (s: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = (await call('GET', '/v1/rollouts/checkout/prod')).json;
    if (s?.rollout && pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** the local host outlives the server by design: tests shut it down */
export async function shutdownLocalHost(fx: Fixture): Promise<void> {
  await createLocalHostClient({ hostDir: path.join(fx.dataDir, 'local', 'local', 'prod', 'checkout') })
    .shutdown()
    .catch(() => {});
}

/** a server in this process on a local-target project; `close` also stops the local host */
export async function startLocalApp(rollout: string, extra = '') {
  const fx = await makeLocalFixture(rollout, extra);
  const s = await startApp(fx);
  return {
    fx,
    call: api(s.url, s.token),
    async close() {
      await s.app.close();
      await shutdownLocalHost(fx);
      fx.cleanup();
    },
  };
}

/** the `analysis` section with one template `error-rate`: the canary's error rate from the proxy's counters */
export const errorRateTemplate = (o: { interval: string; count?: number; failureLimit?: number; initialDelay?: string }) => `
analysis:
  templates:
    error-rate:
      metrics:
        - name: error-rate
          interval: ${o.interval}${o.count !== undefined ? `\n          count: ${o.count}` : ''}${o.failureLimit !== undefined ? `\n          failureLimit: ${o.failureLimit}` : ''}${o.initialDelay ? `\n          initialDelay: ${o.initialDelay}` : ''}
          successCondition: result <= 0.05
          provider:
            builtin: { version: "{{args.canary}}", measure: errorRate }
`;
