/**
 * Rollout benchmark, part 3: a whole stagegate app in this process (test/helpers: the shop fixture on
 * the `local` target) rolling out canaries in prod under 300 requests/s from the load process.
 * Detection: the canary (weight 20, analysis builtin errorRate, interval 1s, failureLimit 1) starts
 * failing when a file appears; measured from the first failing measurement (from the audit entry of
 * the failed analysis) to the moment the host reports canary weight 0. Fast track: `POST .../abort`
 * during the pause; measured until the host shows stable 100 / canary 0.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRelease } from '../src/engine/release-create.ts';
import { createLocalHostClient } from '../src/rollout/local/host-client.ts';
import { api, type Fixture, push, startApp, waitTerminal } from '../test/helpers/fixture.ts';
import { errorRateTemplate, makeLocalFixture } from '../test/helpers/rollout-fixture.ts';

export const INTERVAL_MS = 1000;
export const FAILURE_LIMIT = 1;
const rollout = `    rollout:
      strategy: canary
      steps:
        - setWeight: 20
        - analysis: { templates: [error-rate] }
        - pause: {}
      scaleDownDelay: 1s`;
const templates = errorRateTemplate({ interval: `${INTERVAL_MS}ms`, count: 5, failureLimit: FAILURE_LIMIT });

/** the shop's server.js, answering 500 to every request but /healthz while `failFile` exists */
async function triggerRelease(fx: Fixture, version: string, failFile: string) {
  const artifact = path.join(fx.dir, `build-${version}`, 'server.js'); // the local target runs `node server.js`
  await mkdir(path.dirname(artifact), { recursive: true });
  const base = await readFile(path.join(fx.projectDir, 'checkout', 'server.js'), 'utf8');
  const fault = `\nimport { existsSync as benchFailing } from 'node:fs';\nconst benchEmit = server.emit.bind(server);\nserver.emit = (ev, req, res) => {\n  if (ev === 'request' && req.url !== '/healthz' && benchFailing(${JSON.stringify(failFile)})) {\n    res.writeHead(500, { 'content-type': 'text/plain' });\n    res.end('injected bug\\n');\n    return true;\n  }\n  return benchEmit(ev, req, res);\n};\n// build ${version}\n`;
  await writeFile(artifact, `${base}${fault}`);
  const configDir = path.join(fx.projectDir, 'checkout', 'config');
  const r = await createRelease({ service: 'checkout', version, artifacts: [artifact], images: [], configDir, privateKeyPem: await readFile(fx.keyFile, 'utf8') });
  return { ...r, artifact, configDir };
}

export interface DetectionRound {
  version: string;
  /** first failing measurement -> host reports canary weight 0 */
  detectionMs: number;
  /** the canary began failing (fault file written) -> host reports canary weight 0 */
  faultToWeight0Ms: number;
  faultToFirstFailingMs: number;
  failedMeasurements: number;
  analysisMessage: string;
}
export interface AbortRound {
  version: string;
  /** abort request sent -> host shows stable 100 / canary 0 */
  abortToStableMs: number;
  requestMs: number;
}

export async function startRolloutApp(load: (url: string) => { stop(): Promise<{ requests: number; non2xx: number; errors: number; timeouts: number }> }) {
  const fx = await makeLocalFixture(rollout, templates);
  const s = await startApp(fx).catch((e: unknown) => {
    fx.cleanup();
    throw e;
  });
  const call = api(s.url, s.token);
  const host = createLocalHostClient({ hostDir: path.join(fx.dataDir, 'local', 'local', 'prod', 'checkout') });
  let loading: ReturnType<typeof load> | undefined;
  let n = 0;

  const promote = async (version: string, failFile: string) => {
    const rel = await triggerRelease(fx, version, failFile);
    const pushed = await push(call, rel);
    if (pushed.status !== 201) throw new Error(`push ${version}: ${pushed.status} ${pushed.text}`);
    let prod: { id: string } | undefined;
    for (const environment of ['dev', 'staging', 'prod']) {
      const r = await call('POST', '/v1/promotions', { service: 'checkout', version, environment });
      if (r.status !== 202) throw new Error(`promote ${version} to ${environment}: ${r.status} ${r.text}`);
      if (environment === 'prod') prod = r.json.promotion;
      else if ((await waitTerminal(call, r.json.promotion.id, 60_000)).state !== 'Succeeded') throw new Error(`${version} failed in ${environment}`);
    }
    return prod!;
  };
  const weights = async () => (await host.state()).weights;
  const until = async (what: string, pred: (w: Record<string, number>) => boolean, timeoutMs = 60_000): Promise<number> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const w = await weights().catch(() => undefined);
      if (w && pred(w)) return Date.now();
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: weights ${JSON.stringify(w)}`);
      await sleep(10);
    }
  };
  const onStable = (v: string) => (w: Record<string, number>) => w['1.0.0'] === 100 && !w[v];
  const auditOf = async (promotionId: string, action: string) => {
    const found: { time: string; details: Record<string, unknown> }[] = [];
    for (let from = 0; ; from += 1000) {
      const page = (await call('GET', `/v1/audit/entries?from=${from}&limit=1000`)).json.entries as { entry: { time: string; action: string; subject: string; details: Record<string, unknown> } }[];
      for (const e of page) if (e.entry.action === action && e.entry.subject === `promotion:${promotionId}`) found.push(e.entry);
      if (page.length < 1000) return found;
    }
  };

  return {
    async start() {
      const first = await promote('1.0.0', path.join(fx.dir, 'never'));
      const done = await waitTerminal(call, first.id, 60_000);
      if (done.state !== 'Succeeded') throw new Error(`1.0.0 in prod: ${done.state} ${done.message}`);
      loading = load((await call('GET', '/v1/rollouts/checkout/prod')).json.traffic.url);
    },
    async detection(): Promise<DetectionRound> {
      const version = `1.${++n}.0`;
      const failFile = path.join(fx.dir, `fail-${version}`);
      const p = await promote(version, failFile);
      await until(`${version} at weight 20`, (w) => w[version] === 20);
      // fails from its first requests on: a canary that fails only after a healthy while is caught by
      // the proxy's breaker (5 consecutive failures) and may never reach errorRate 0.05 cumulatively
      const faultAt = Date.now();
      await writeFile(failFile, 'failing\n');
      const weight0At = await until(`${version} back to weight 0`, onStable(version));
      const done = await waitTerminal(call, p.id, 60_000);
      if (done.state !== 'RolledBack') throw new Error(`${version}: expected RolledBack, got ${done.state}: ${done.message}`);
      const [analysis] = await auditOf(p.id, 'rollout.analysis');
      if (!analysis) throw new Error(`${version}: no rollout.analysis entry in the audit log`);
      const message = String(analysis.details['message'] ?? '');
      const failed = Number(/(\d+) of \d+ measurements failed/.exec(message)?.[1] ?? Number.NaN);
      if (analysis.details['phase'] !== 'Failed' || !Number.isFinite(failed)) throw new Error(`${version}: no failed analysis in the audit log: ${JSON.stringify(analysis)}`);
      // the audit entry is written right after the deciding measurement; failed measurements are one interval apart
      const firstFailingAt = Date.parse(analysis.time) - (failed - 1) * INTERVAL_MS;
      return { version, detectionMs: weight0At - firstFailingAt, faultToWeight0Ms: weight0At - faultAt, faultToFirstFailingMs: firstFailingAt - faultAt, failedMeasurements: failed, analysisMessage: message.slice(0, 200) };
    },
    async abort(): Promise<AbortRound> {
      const version = `1.${++n}.0`;
      const p = await promote(version, path.join(fx.dir, 'never'));
      const end = Date.now() + 60_000;
      while ((await call('GET', '/v1/rollouts/checkout/prod')).json?.rollout?.phase !== 'Paused' || (await weights())[version] !== 20) {
        if (Date.now() > end) throw new Error(`${version} never paused`);
        await sleep(50);
      }
      const t0 = Date.now();
      const r = await call('POST', '/v1/rollouts/checkout/prod/abort', { reason: 'benchmark: fast-track rollback' });
      const requestMs = Date.now() - t0;
      if (r.status !== 202) throw new Error(`abort ${version}: ${r.status} ${r.text}`);
      const stableAt = await until(`${version} aborted`, onStable(version), 30_000);
      const done = await waitTerminal(call, p.id, 60_000);
      if (done.state !== 'RolledBack') throw new Error(`${version}: expected RolledBack after abort, got ${done.state}: ${done.message}`);
      return { version, abortToStableMs: stableAt - t0, requestMs };
    },
    async close() {
      const l = await loading?.stop();
      await s.app.close().catch(() => undefined);
      await host.shutdown().catch(() => undefined);
      fx.cleanup();
      return l;
    },
  };
}

export const detectionTargetMs = INTERVAL_MS * (FAILURE_LIMIT + 1) + 1000;
