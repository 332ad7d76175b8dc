/** Providers against real loopback servers and real processes: good answers, garbage, timeouts, exit codes. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runAnalysis } from '../src/rollout/analysis/analysis-run.ts';
import { compileAnalysis } from '../src/rollout/analysis/compile-analysis.ts';
import type { Provider } from '../src/rollout/analysis/measurement.ts';
import type { ProviderSpec } from '../src/rollout/analysis/provider-schema.ts';
import { providerSchema } from '../src/rollout/analysis/provider-schema.ts';
import { createProvider } from '../src/rollout/analysis/providers/create-provider.ts';

const METRICS = `# HELP http_requests_total requests
# TYPE http_requests_total counter
http_requests_total{version="stable",code="500"} 3
http_requests_total{version="canary",code="500"} 7
http_requests_total{version="canary",code="200"} 93
# TYPE latency_seconds histogram
latency_seconds_bucket{le="+Inf"} 4
latency_seconds_sum 1.5
latency_seconds_count 4
up 1
`;

let server: Server;
let base = '';
const posted: unknown[] = [];
const sockets = new Set<import('node:net').Socket>();

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (url.pathname === '/metrics') return void res.end(METRICS);
  if (url.pathname === '/garbage') return void res.end('<html><body>not metrics</body></html>');
  if (url.pathname === '/hang') return; // never answers
  if (url.pathname === '/fail') return void res.writeHead(503).end('overloaded');
  if (url.pathname === '/api/v1/query') {
    const q = url.searchParams.get('query');
    if (q === 'scalar(1)') return void json(200, { status: 'success', data: { resultType: 'scalar', result: [1700000000, '0.97'] } });
    if (q === 'rate_by_version') {
      return void json(200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { v: 'canary' }, value: [1700000000, '0.02'] }, { metric: { v: 'stable' }, value: [1700000000, '0.01'] }] },
      });
    }
    if (q === 'matrix') return void json(200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    return void json(400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' });
  }
  if (url.pathname === '/check') {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      if (req.method === 'POST') posted.push({ body: JSON.parse(body), auth: req.headers.authorization, type: req.headers['content-type'] });
      json(200, { data: { ok: true }, items: [{ value: 0.25 }] });
    });
    return;
  }
  res.writeHead(404).end();
}

before(async () => {
  server = createServer(route);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const provider = (spec: unknown): Provider => createProvider(providerSchema.parse(spec) as ProviderSpec);
const measure = (spec: unknown) => provider(spec).measure(new AbortController().signal);

describe('prometheus-text', () => {
  test('selects a sample by name and labels', async () => {
    assert.equal(await measure({ 'prometheus-text': { url: `${base}/metrics`, metric: 'http_requests_total', labels: { version: 'canary', code: '500' } } }), 7);
    assert.equal(await measure({ 'prometheus-text': { url: `${base}/metrics`, metric: 'up' } }), 1);
    assert.equal(await measure({ 'prometheus-text': { url: `${base}/metrics`, metric: 'latency_seconds_sum' } }), 1.5);
    assert.equal(await measure({ 'prometheus-text': { url: `${base}/metrics`, metric: 'latency_seconds_count' } }), 4);
  });
  test('ambiguous, missing metric or labels are clear errors', async () => {
    const p = (metric: string, labels = {}) => measure({ 'prometheus-text': { url: `${base}/metrics`, metric, labels } });
    await assert.rejects(p('http_requests_total', { version: 'canary' }), /2 samples matching .*add label matchers/);
    await assert.rejects(p('nope_total'), /metric nope_total is not in the response/);
    await assert.rejects(p('http_requests_total', { version: 'blue' }), /no sample with labels/);
  });
  test('garbage, HTTP errors, refused connections and timeouts are errors', async () => {
    await assert.rejects(measure({ 'prometheus-text': { url: `${base}/garbage`, metric: 'up' } }), /GET http:\/\/127\.0\.0\.1:\d+\/garbage: the response holds no Prometheus metrics/);
    await assert.rejects(measure({ 'prometheus-text': { url: `${base}/fail`, metric: 'up' } }), /answered HTTP 503: overloaded/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(measure({ 'prometheus-text': { url: `http://127.0.0.1:${port}/metrics`, metric: 'up' } }), /failed: ECONNREFUSED/);
    await assert.rejects(measure({ 'prometheus-text': { url: `${base}/hang`, metric: 'up', timeout: '200ms' } }), /timed out after 200 ms/);
  });
  test('a timing-out endpoint ends the metric in Error, with the message in each measurement', async () => {
    const a = compileAnalysis({
      metrics: [{ name: 'scrape', interval: '1s', count: 3, consecutiveErrorLimit: 1, successCondition: 'result < 5.0', provider: { 'prometheus-text': { url: `${base}/hang`, metric: 'up', timeout: '100ms' } } }],
    });
    const r = await runAnalysis(a, { sleep: async () => {} });
    assert.equal(r.phase, 'Error');
    assert.equal(r.metrics[0]?.measurements.length, 2);
    assert.match(r.metrics[0]?.measurements[0]?.message ?? '', /timed out/);
  });
});

describe('prometheus', () => {
  test('a scalar is a double, a vector a list', async () => {
    assert.equal(await measure({ prometheus: { address: base, query: 'scalar(1)' } }), 0.97);
    assert.deepEqual(await measure({ prometheus: { address: `${base}/`, query: 'rate_by_version' } }), [0.02, 0.01]);
  });
  test('query errors and unsupported results are clear errors', async () => {
    await assert.rejects(measure({ prometheus: { address: base, query: 'rate(' } }), /query failed: parse error at char 3/);
    await assert.rejects(measure({ prometheus: { address: base, query: 'matrix' } }), /result type matrix is not supported/);
    await assert.rejects(measure({ prometheus: { address: `${base}/garbage-root`, query: 'up' } }), /HTTP 404/);
  });
  test('conditions over a vector, end to end', async () => {
    const a = compileAnalysis({ metrics: [{ name: 'rate', successCondition: 'result[0] < 0.05', provider: { prometheus: { address: base, query: 'rate_by_version' } } }] });
    assert.equal((await runAnalysis(a)).phase, 'Successful');
  });
});

describe('web', () => {
  test('GET with a JSON path', async () => {
    assert.equal(await measure({ web: { url: `${base}/check`, jsonPath: '$.data.ok' } }), true);
    assert.equal(await measure({ web: { url: `${base}/check`, jsonPath: '$.items[0].value' } }), 0.25);
  });
  test('POST sends the JSON body and headers', async () => {
    await measure({ web: { url: `${base}/check`, method: 'POST', headers: { Authorization: 'Bearer t0k' }, body: { service: 'checkout' }, jsonPath: '$.data.ok' } });
    assert.deepEqual(posted.at(-1), { body: { service: 'checkout' }, auth: 'Bearer t0k', type: 'application/json' });
  });
  test('non-JSON, absent paths and timeouts are errors', async () => {
    await assert.rejects(measure({ web: { url: `${base}/garbage` } }), /the answer is not JSON/);
    await assert.rejects(measure({ web: { url: `${base}/check`, jsonPath: '$.data.nope' } }), /\$\.data\.nope is not in the response/);
    await assert.rejects(measure({ web: { url: `${base}/hang`, timeout: '100ms' } }), /timed out after 100 ms/);
  });
  test('a URL query (which may hold a token) is not in error messages', async () => {
    await assert.rejects(measure({ web: { url: `${base}/fail?token=s3cr3t` } }), (e: Error) => !e.message.includes('s3cr3t') && /HTTP 503/.test(e.message));
  });
  test('conditions over a map, end to end', async () => {
    const a = compileAnalysis({ metrics: [{ name: 'ok', successCondition: 'result.ok == true', provider: { web: { url: `${base}/check`, jsonPath: '$.data' } } }] });
    assert.equal((await runAnalysis(a)).phase, 'Successful');
  });
});

describe('job', () => {
  const node = process.execPath;
  test('the exit code is the result', async () => {
    assert.equal(await measure({ job: { command: [node, '-e', 'process.exit(0)'] } }), 0);
    assert.equal(await measure({ job: { command: [node, '-e', 'process.exit(3)'] } }), 3);
  });
  test('no shell: metacharacters are plain arguments', async () => {
    assert.equal(await measure({ job: { command: [node, '-e', 'process.exit(process.argv[1] === "$(exit 7); |" ? 0 : 1)', '$(exit 7); |'] } }), 0);
  });
  test('a command that does not exist is an error', async () => {
    await assert.rejects(measure({ job: { command: ['/nonexistent/stagegate-probe'] } }), /could not start: ENOENT/);
  });
  test('a hanging command is killed at the timeout', async () => {
    const started = Date.now();
    await assert.rejects(measure({ job: { command: [node, '-e', 'setInterval(() => {}, 1000)'], timeout: '300ms' } }), /did not finish within 300 ms and was killed/);
    assert.ok(Date.now() - started < 5000);
  });
  test('abort kills the command', async () => {
    const ctl = new AbortController();
    const p = provider({ job: { command: [node, '-e', 'setInterval(() => {}, 1000)'], timeout: '60s' } }).measure(ctl.signal);
    setTimeout(() => ctl.abort(), 100);
    await assert.rejects(p, /aborted/);
  });
  test('exit codes decide the metric, end to end', async () => {
    const job = (code: number) => ({ name: 'smoke', provider: { job: { command: [node, '-e', `process.exit(${code})`] } } });
    assert.equal((await runAnalysis(compileAnalysis({ metrics: [job(0)] }))).phase, 'Successful');
    assert.equal((await runAnalysis(compileAnalysis({ metrics: [job(1)] }))).phase, 'Failed');
  });
});

describe('builtin', () => {
  const stats = () => ({
    versions: {
      canary: { requests: 200, errors: 10, latencyMs: { count: 200, p50: 3, p90: 9, p99: 40, max: 80 } },
      stable: { requests: 0, errors: 0, latencyMs: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 } },
    },
  });
  const b = (version: string, m: string, statsSource: typeof stats | undefined = stats) => measureBuiltin(version, m, statsSource);
  const measureBuiltin = (version: string, m: string, statsSource: typeof stats | undefined) =>
    createProvider(providerSchema.parse({ builtin: { version, measure: m } }) as ProviderSpec, { statsSource }).measure(new AbortController().signal);
  test('error rate, counts and latency percentiles of one version', async () => {
    assert.equal(await b('canary', 'errorRate'), 0.05);
    assert.equal(await b('stable', 'errorRate'), 0);
    assert.equal(await b('canary', 'p99'), 40);
    assert.equal(await b('canary', 'requests'), 200);
  });
  test('a version whose breaker is open counts as failing everything (it gets no requests to fail)', async () => {
    const cutOff = () => ({ versions: { canary: { requests: 40, errors: 1, latencyMs: { p50: 3, p90: 9, p99: 40 }, health: 'open' } } });
    assert.equal(await createProvider(providerSchema.parse({ builtin: { version: 'canary', measure: 'errorRate' } }) as ProviderSpec, { statsSource: cutOff }).measure(new AbortController().signal), 1);
    const halfOpen = () => ({ versions: { canary: { requests: 40, errors: 1, latencyMs: { p50: 3, p90: 9, p99: 40 }, health: 'half-open' } } });
    assert.equal(await createProvider(providerSchema.parse({ builtin: { version: 'canary', measure: 'errorRate' } }) as ProviderSpec, { statsSource: halfOpen }).measure(new AbortController().signal), 1 / 40);
  });
  test('an unknown version or no proxy is an error', async () => {
    await assert.rejects(b('green', 'errorRate'), /no version "green"/);
    await assert.rejects(measureBuiltin('canary', 'errorRate', undefined), /needs the rollout proxy/);
    await assert.rejects(b('__proto__', 'errorRate'), /no version "__proto__"/);
  });
});

describe('builtin with an async source (the proxy in another process, over a socket)', () => {
  let statsServer: Server;
  let statsUrl = '';
  let body = '';
  before(async () => {
    statsServer = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => statsServer.listen(0, '127.0.0.1', r));
    statsUrl = `http://127.0.0.1:${(statsServer.address() as AddressInfo).port}`;
  });
  after(() => {
    statsServer.closeAllConnections();
    return new Promise<void>((r) => statsServer.close(() => r()));
  });
  const overSocket = (path: string) => async (signal: AbortSignal) => (await (await fetch(`${statsUrl}${path}`, { signal })).json()) as never;
  const builtinMetric = (timeout?: string) => ({ name: 'error-rate', successCondition: 'result < 0.05', provider: { builtin: { version: 'canary', measure: 'errorRate', ...(timeout ? { timeout } : {}) } } });
  test('the measurement awaits the source, and the analysis decides on its values', async () => {
    body = JSON.stringify({ versions: { canary: { requests: 100, errors: 1, latencyMs: { p50: 1, p90: 2, p99: 3 } } } });
    const ok = await runAnalysis(compileAnalysis({ metrics: [builtinMetric()] }, { deps: { statsSource: overSocket('/stats') } }));
    assert.equal(ok.phase, 'Successful');
    assert.equal(ok.metrics[0]?.measurements[0]?.value, '0.01');
    body = JSON.stringify({ versions: { canary: { requests: 100, errors: 40, latencyMs: { p50: 1, p90: 2, p99: 3 } } } });
    assert.equal((await runAnalysis(compileAnalysis({ metrics: [builtinMetric()] }, { deps: { statsSource: overSocket('/stats') } }))).phase, 'Failed');
  });
  test('a source that rejects, answers garbage or hangs past the timeout is an Error measurement', async () => {
    const measure = (source: (s: AbortSignal) => Promise<never>, timeout = '10s') =>
      createProvider(providerSchema.parse({ builtin: { version: 'canary', measure: 'p99', timeout } }) as ProviderSpec, { statsSource: source }).measure(new AbortController().signal);
    await assert.rejects(measure(async () => Promise.reject(new Error('connect ECONNREFUSED /run/proxy.sock'))), /the rollout proxy's stats could not be read: connect ECONNREFUSED/);
    body = JSON.stringify({ versions: { canary: { requests: 1, errors: 0, latencyMs: { p99: 'fast' } } } });
    await assert.rejects(measure(overSocket('/stats')), /hold no number for version canary p99/);
    await assert.rejects(measure(overSocket('/hang'), '300ms'), /did not answer within 300 ms/);
  });
  test('aborting the run ends a measurement waiting on a hanging source', async () => {
    const ctl = new AbortController();
    const run = runAnalysis(compileAnalysis({ metrics: [builtinMetric('10m')] }, { deps: { statsSource: overSocket('/hang') } }), { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 100);
    const r = await run;
    assert.equal(r.aborted, true);
    assert.equal(r.metrics[0]?.counts.error, 0);
  });
});
