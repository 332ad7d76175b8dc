/** Template arguments: `{{args.NAME}}` in provider fields, substituted per field, with injection attempts refused. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../src/domain/errors.ts';
import { checkAnalysisTemplate, compileAnalysis, instantiateAnalysis, runAnalysis } from '../src/rollout/analysis/index.ts';

const ARGS = { canary: '1.4.0', stable: '1.3.2', service: 'checkout', environment: 'prod', promotion: 'p_01J' };

type Metric = { name: string; provider: Record<string, Record<string, unknown>> } & Record<string, unknown>;
const one = (provider: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({ metrics: [{ name: 'error-rate', provider, ...extra }] });
const inst = (template: unknown, args: Record<string, string | undefined> = ARGS) => instantiateAnalysis(template, args, 'analysis.templates.t') as { metrics: Metric[] };
const spec = (template: unknown, kind: string, args?: Record<string, string | undefined>) => inst(template, args).metrics[0]?.provider[kind] ?? {};

function rejected(template: unknown, args: Record<string, string | undefined> = ARGS): DomainError {
  try {
    inst(template, args);
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, 'invalid_input');
    return e;
  }
  assert.fail('expected the template to be rejected');
}

describe('substitution', () => {
  test('every provider string field, each as its place needs', () => {
    assert.equal(spec(one({ builtin: { version: '{{args.canary}}', measure: 'errorRate' } }), 'builtin').version, '1.4.0');
    const q = 'sum(rate(http_errors{service="{{args.service}}",version="{{args.canary}}"}[1m]))';
    assert.equal(spec(one({ prometheus: { address: 'http://prom:9090', query: q } }), 'prometheus').query, 'sum(rate(http_errors{service="checkout",version="1.4.0"}[1m]))');
    const web = spec(one({ web: { url: 'http://h/v/{{args.canary}}?env={{args.environment}}', headers: { 'X-Promotion': '{{args.promotion}}' }, jsonPath: "$.versions['{{args.canary}}']", body: { v: ['{{args.stable}}'] } } }), 'web');
    assert.deepEqual(web, { url: 'http://h/v/1.4.0?env=prod', headers: { 'X-Promotion': 'p_01J' }, jsonPath: "$.versions['1.4.0']", body: { v: ['1.3.2'] } });
    const job = spec(one({ job: { command: ['./smoke.sh', '--version={{args.canary}}', '{{args.service}}'], env: { TARGET: 'https://{{args.service}}.internal' } } }), 'job');
    assert.deepEqual(job, { command: ['./smoke.sh', '--version=1.4.0', 'checkout'], env: { TARGET: 'https://checkout.internal' } });
    const pt = spec(one({ 'prometheus-text': { url: 'http://{{args.service}}:9464/metrics', metric: 'up', labels: { version: '{{args.canary}}' } } }), 'prometheus-text');
    assert.deepEqual(pt, { url: 'http://checkout:9464/metrics', metric: 'up', labels: { version: '1.4.0' } });
  });
  test('the template itself is not changed, so it can be instantiated for the next rollout', () => {
    const t = one({ builtin: { version: '{{args.canary}}', measure: 'errorRate' } });
    const before = JSON.stringify(t);
    inst(t);
    assert.equal(spec(t, 'builtin', { ...ARGS, canary: '2.0.0' }).version, '2.0.0');
    assert.equal(JSON.stringify(t), before);
  });
  test('in URLs values are URL-encoded: they cannot add a path segment, a query parameter or change the host', () => {
    const url = (v: string) => spec(one({ web: { url: 'http://h/v/{{args.canary}}?x={{args.canary}}' } }), 'web', { ...ARGS, canary: v }).url;
    assert.equal(url('a/../b?admin=1&x=#y'), 'http://h/v/a%2F..%2Fb%3Fadmin%3D1%26x%3D%23y?x=a%2F..%2Fb%3Fadmin%3D1%26x%3D%23y');
    const host = spec(one({ web: { url: 'http://{{args.service}}.internal/x' } }), 'web', { ...ARGS, service: 'evil.com/@x' }).url as string;
    let parsedHost = 'invalid URL';
    try {
      parsedHost = new URL(host).host;
    } catch {}
    assert.notEqual(parsedHost, 'evil.com');
    assert.match(host, /^http:\/\/evil\.com%2F%40x\.internal\/x$/);
  });
  test('compileAnalysis substitutes with its args option; without args a placeholder is a clear error', async () => {
    const t = one({ job: { command: [process.execPath, '-e', 'process.exit(process.argv[1] === "1.4.0" ? 0 : 1)', '{{args.canary}}'] } });
    assert.equal((await runAnalysis(compileAnalysis(t, { args: ARGS }))).phase, 'Successful');
    assert.equal((await runAnalysis(compileAnalysis(t, { args: { ...ARGS, canary: '9' } }))).phase, 'Failed');
    assert.throws(() => compileAnalysis(t), /metric error-rate: provider\.job\.command\[3\]: \{\{args\.canary\}\} has no value/);
  });
});

describe('bad placeholders and missing arguments', () => {
  test('an unknown placeholder names the metric, the field and the placeholder', () => {
    const e = rejected(one({ prometheus: { address: 'http://p:9090', query: 'up{v="{{args.canry}}"}' } }));
    assert.match(e.message, /^metric error-rate: provider\.prometheus\.query: unknown placeholder \{\{args\.canry\}\}$/);
    assert.equal(e.details.field, 'analysis.templates.t.metrics[0].provider.prometheus.query');
    assert.equal(e.details.placeholder, '{{args.canry}}');
    assert.match(String(e.details.fix), /canary, stable, service, environment, promotion/);
  });
  test('a missing argument (stable on the first rollout)', () => {
    const { stable: _, ...noStable } = ARGS;
    const e = rejected(one({ builtin: { version: '{{args.stable}}', measure: 'errorRate' } }), noStable);
    assert.match(e.message, /provider\.builtin\.version: \{\{args\.stable\}\} has no value for this rollout \(there is no stable version yet/);
    assert.equal(spec(one({ builtin: { version: '{{args.canary}}', measure: 'errorRate' } }), 'builtin', noStable).version, '1.4.0');
  });
  test('malformed placeholders are errors, not text sent as is', () => {
    for (const bad of ['{{args.canary}', '{{ args.canary }}', '{{args.}}', '{{args.1x}}', '{{args.canary.x}}'])
      assert.match(rejected(one({ builtin: { version: bad, measure: 'errorRate' } })).message, /malformed placeholder/, bad);
  });
  test('placeholders outside the provider are refused', () => {
    assert.match(rejected(one({ builtin: { version: 'v', measure: 'errorRate' } }, { successCondition: 'result < {{args.limit}}' })).message, /metric error-rate: successCondition: placeholders are substituted only in provider fields/);
  });
  test('extra arguments may be supplied and used', () => {
    assert.equal(spec(one({ builtin: { version: '{{args.track}}', measure: 'errorRate' } }), 'builtin', { ...ARGS, track: 'blue' }).version, 'blue');
  });
});

describe('injection attempts', () => {
  const promql = (query: string, canary: string) => rejected(one({ prometheus: { address: 'http://p:9090', query } }), { ...ARGS, canary });
  test('PromQL: a value cannot end the string literal', () => {
    for (const v of ['1"} or vector(1) or {x="', "1'", '1\\', '1`'])
      assert.match(promql('up{version="{{args.canary}}"}', v).message, /holds a quote or a backslash, which could end the PromQL string/, v);
  });
  test('PromQL: a placeholder outside a quoted string is refused', () => {
    assert.match(promql('up{version={{args.canary}}}', '1').message, /\{\{args\.canary\}\} is outside a quoted string/);
    assert.match(promql('up or {{args.canary}}', 'vector(1)').message, /outside a quoted string/);
    assert.doesNotThrow(() => inst(one({ prometheus: { address: 'http://p:9090', query: "up{v='{{args.canary}}', w=\"a\\\"{{args.stable}}\"}" } })));
  });
  test('JSON path: only inside quotes, and the value holds no quote', () => {
    const jp = (p: string, canary: string) => rejected(one({ web: { url: 'http://h/', jsonPath: p } }), { ...ARGS, canary });
    assert.match(jp('$.{{args.canary}}', 'x').message, /outside a quoted string: in a JSON path/);
    assert.match(jp("$['{{args.canary}}']", "a'].b['c").message, /holds a quote/);
  });
  test('control characters, over-long values and "{{" are refused everywhere', () => {
    const v = (canary: string) => rejected(one({ web: { url: 'http://h/', headers: { 'X-V': '{{args.canary}}' } } }), { ...ARGS, canary });
    for (const bad of ['1\r\nX-Admin: 1', '1\n', '\u0000', 'a'.repeat(257), '', '{{args.stable}}']) assert.match(v(bad).message, /must be 1-256 characters without control characters/, JSON.stringify(bad));
    assert.doesNotThrow(() => inst(one({ web: { url: 'http://h/', headers: { 'X-V': '{{args.canary}}' } } }), { ...ARGS, canary: 'a'.repeat(256) }));
  });
  test('job: a value starting with - cannot become an option', () => {
    const e = rejected(one({ job: { command: ['./smoke.sh', '{{args.canary}}'] } }), { ...ARGS, canary: '--config=/etc/shadow' });
    assert.match(e.message, /provider\.job\.command\[1\]: the value of \{\{args\.canary\}\} starts with "-"/);
    assert.deepEqual(spec(one({ job: { command: ['./smoke.sh', '--v={{args.canary}}'] } }), 'job', { ...ARGS, canary: '-1' }).command, ['./smoke.sh', '--v=-1']);
  });
  test('property: whatever the value, a PromQL query keeps its one literal and a URL keeps its host and path', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (canary) => {
        const t = one({ prometheus: { address: 'http://p:9090/{{args.canary}}', query: 'up{version="{{args.canary}}"}' } });
        let out: Record<string, unknown>;
        try {
          out = spec(t, 'prometheus', { ...ARGS, canary });
        } catch (e) {
          assert.ok(e instanceof DomainError && e.code === 'invalid_input');
          return;
        }
        assert.equal(out.query, `up{version="${canary}"}`);
        assert.doesNotMatch(canary, /["'`\\\n]/);
        const u = new URL(out.address as string);
        assert.equal(u.host, 'p:9090');
        assert.equal(decodeURIComponent(u.pathname.slice(1)), canary);
        assert.equal(u.search + u.hash, '');
      }),
    );
  });
});

describe('checkAnalysisTemplate (project load, no rollout yet)', () => {
  test('accepts the controller arguments and rejects unknown ones, with the field', () => {
    assert.doesNotThrow(() => checkAnalysisTemplate(one({ builtin: { version: '{{args.canary}}', measure: 'errorRate' } }), 'analysis.templates.t'));
    assert.doesNotThrow(() => checkAnalysisTemplate(one({ builtin: { version: '{{args.stable}}', measure: 'p99' } }), 'analysis.templates.t'));
    assert.throws(
      () => checkAnalysisTemplate(one({ web: { url: 'http://h/{{args.build}}' } }), 'analysis.templates.t'),
      (e) => e instanceof DomainError && e.details.field === 'analysis.templates.t.metrics[0].provider.web.url' && /unknown placeholder \{\{args\.build\}\}/.test(e.message),
    );
    assert.throws(() => checkAnalysisTemplate(one({ web: { url: 'http://h/', jsonPath: '$..x' } }), 'analysis.templates.t'), /JSON path/);
  });
});

describe('end to end against a real server', () => {
  let server: Server;
  let base = '';
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const u = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, u.searchParams.get('query') === 'err{version="1.4.0"}' ? '0.01' : '0.9'] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  test('the substituted PromQL query reaches Prometheus, URL-encoded on the wire', async () => {
    const t = one({ prometheus: { address: base, query: 'err{version="{{args.canary}}"}' } }, { successCondition: 'result < 0.05' });
    assert.equal((await runAnalysis(compileAnalysis(t, { args: ARGS }))).phase, 'Successful');
    assert.equal((await runAnalysis(compileAnalysis(t, { args: { ...ARGS, canary: '1.5.0' } }))).phase, 'Failed');
    assert.ok(seen.some((s) => s.includes('query=err%7Bversion%3D%221.4.0%22%7D')), seen.join(' '));
  });
});
