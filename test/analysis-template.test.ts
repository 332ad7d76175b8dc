/** Loading an analysis template: schema bounds, defaults, CEL conditions checked once at load. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../src/domain/errors.ts';
import { compileAnalysis } from '../src/rollout/analysis/compile-analysis.ts';
import { FINE_DURATION_RE, parseDuration, parseFineDuration } from '../src/domain/duration.ts';
import { analysisTemplateSchema } from '../src/rollout/analysis/metric-schema.ts';
import { parseJsonPath, selectJsonPath } from '../src/rollout/analysis/providers/json-path.ts';
import { selectSample } from '../src/rollout/analysis/providers/prometheus-text.ts';

const builtin = { builtin: { version: 'canary', measure: 'errorRate' } };
const prom = { prometheus: { address: 'http://127.0.0.1:9090', query: 'up' } };

function loadError(template: unknown): DomainError {
  try {
    compileAnalysis(template, { where: 'environments[2].analysis' });
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, 'invalid_input');
    return e;
  }
  assert.fail('expected the template to be rejected');
}

describe('template schema', () => {
  test('defaults as Argo: failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4, dryRun false', () => {
    const t = analysisTemplateSchema.parse({ metrics: [{ name: 'error-rate', interval: '10s', provider: builtin }] });
    const m = t.metrics[0];
    assert.deepEqual([m?.failureLimit, m?.inconclusiveLimit, m?.consecutiveErrorLimit, m?.dryRun], [0, 0, 4, false]);
  });
  test('durations: the Argo form (parseFineDuration), beside the project file form (parseDuration)', () => {
    assert.equal(parseFineDuration('10s'), 10_000);
    assert.equal(parseFineDuration('1m30s'), 90_000);
    assert.equal(parseFineDuration('250ms'), 250);
    assert.equal(parseFineDuration('1.5s'), 1500);
    assert.equal(parseFineDuration('10'), undefined);
    assert.equal(parseFineDuration('-1s'), undefined);
    assert.equal(parseFineDuration('1d'), undefined);
    assert.equal(parseFineDuration(`${'1'.repeat(32)}s`), undefined, 'over 32 characters');
    // the project file's form is unchanged: days, no ms, no fractions
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('500ms'), undefined);
    assert.equal(parseDuration('1.5s'), undefined);
    assert.equal(FINE_DURATION_RE.test('1h30m500ms'), true);
    const t = compileAnalysis({ metrics: [{ name: 'x', interval: '1.5s', initialDelay: '1m30s', count: 2, provider: builtin }] });
    assert.deepEqual([t.metrics[0]?.intervalMs, t.metrics[0]?.initialDelayMs], [1500, 90_000]);
  });
  test('bad templates are one clear error naming the field', () => {
    assert.match(loadError({ metrics: [] }).message, /metrics/);
    assert.match(loadError({ metrics: [{ name: 'x', interval: 'soon', provider: builtin }] }).message, /metrics\[0\]\.interval: a duration like/);
    assert.match(loadError({ metrics: [{ name: 'x', interval: '25h', provider: builtin }] }).message, /at most 24h/);
    assert.match(loadError({ metrics: [{ name: 'x', count: 3, provider: builtin }] }).message, /count > 1 needs an interval/);
    assert.match(loadError({ metrics: [{ name: 'x', provider: {} }] }).message, /metrics\[0\]\.provider/);
    assert.match(loadError({ metrics: [{ name: 'x', provider: { ...builtin, ...prom } }] }).message, /provider/);
    assert.match(loadError({ metrics: [{ name: 'x', failureLimit: -1, provider: builtin }] }).message, /failureLimit/);
    assert.match(loadError({ metrics: [{ name: 'x', provider: builtin }, { name: 'x', provider: builtin }] }).message, /unique/);
    assert.match(loadError({ metrics: [{ name: 'x', provider: builtin, surprise: 1 }] }).message, /surprise|unrecognized/i);
    assert.match(loadError({ metrics: [{ name: 'x', provider: { web: { url: 'file:///etc/passwd' } } }] }).message, /http/);
    assert.match(loadError({ metrics: [{ name: 'x', provider: { job: { command: [] } } }] }).message, /command/);
    assert.equal(loadError({ metrics: [{ name: 'x', interval: 'soon', provider: builtin }] }).details.field, 'environments[2].analysis.metrics[0].interval');
  });
  test('strings and lists are bounded', () => {
    assert.match(loadError({ metrics: [{ name: 'x', successCondition: 'a'.repeat(3000), provider: builtin }] }).message, /successCondition/);
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `m${i}`, provider: builtin }));
    assert.match(loadError({ metrics: many }).message, /metrics/);
  });
});

describe('CEL conditions, checked at load', () => {
  test('a syntax error names the metric, field and expression', () => {
    const e = loadError({ metrics: [{ name: 'error-rate', successCondition: 'result <', provider: builtin }] });
    assert.match(e.message, /metric error-rate: environments\[2\]\.analysis\.metrics\[0\]\.successCondition "result <": syntax error/);
    assert.equal(e.details.field, 'environments[2].analysis.metrics[0].successCondition');
  });
  test('an unknown variable, a non-bool and a type error are rejected', () => {
    assert.match(loadError({ metrics: [{ name: 'a', failureCondition: 'errors > 0.1', provider: builtin }] }).message, /failureCondition "errors > 0.1": type error: .*errors/);
    assert.match(loadError({ metrics: [{ name: 'a', successCondition: 'result + 1.0', provider: builtin }] }).message, /returns double, not bool/);
    assert.match(loadError({ metrics: [{ name: 'a', successCondition: 'result[0] > 1.0', provider: builtin }] }).message, /type error/);
    assert.match(loadError({ metrics: [{ name: 'a', successCondition: 'result.startsWith("x")', provider: builtin }] }).message, /type error/);
  });
  test('prometheus and web results are dyn: lists and maps type-check', () => {
    assert.doesNotThrow(() => compileAnalysis({ metrics: [{ name: 'a', successCondition: 'result[0] >= 0.95', provider: prom }] }));
    const web = { web: { url: 'http://127.0.0.1:1/x', jsonPath: '$.data' } };
    assert.doesNotThrow(() => compileAnalysis({ metrics: [{ name: 'a', successCondition: 'result.ok == true && size(result.items) > 0', provider: web }] }));
  });
  test('a job without conditions succeeds on exit code 0 only', () => {
    const a = compileAnalysis({ metrics: [{ name: 'smoke', provider: { job: { command: ['true'] } } }] });
    assert.equal(a.metrics[0]?.success?.evaluate(0), true);
    assert.equal(a.metrics[0]?.success?.evaluate(1), false);
  });
  test('the error gives the position in the expression (the compile path gate rules use)', () => {
    assert.match(loadError({ metrics: [{ name: 'a', successCondition: 'result < 0.05 && nope > 1.0', provider: builtin }] }).message, /type error: Unknown variable: nope at column 18/);
    assert.match(loadError({ metrics: [{ name: 'a', successCondition: 'result <\n  nope', provider: builtin }] }).message, /at line 2, column 3/);
  });
  test('matches() in a condition must be a safe literal pattern (web results may be strings)', () => {
    const web = { web: { url: 'http://127.0.0.1:1/x', jsonPath: '$.status' } };
    assert.doesNotThrow(() => compileAnalysis({ metrics: [{ name: 'a', successCondition: 'result.matches("^ok")', provider: web }] }));
    const e = loadError({ metrics: [{ name: 'a', successCondition: 'result.matches("^(a+)+$")', provider: web }] });
    assert.match(e.message, /metric a: .*successCondition .*: regular expression "\^\(a\+\)\+\$" repeats a repeated group, which can take exponential time at column 16/);
    assert.match(String(e.details.fix), /remove the nested repetition/);
  });
  test('a bad JSON path is rejected at load', () => {
    assert.match(loadError({ metrics: [{ name: 'a', provider: { web: { url: 'http://127.0.0.1:1/', jsonPath: '$..x' } } }] }).message, /metric a: provider: JSON path/);
  });
});

describe('JSON path', () => {
  const doc = { data: { ok: true, 'a key': 2 }, items: [{ value: 0.5 }] };
  const sel = (p: string) => selectJsonPath(doc, parseJsonPath(p), p);
  test('selects', () => {
    assert.deepEqual(sel('$'), doc);
    assert.equal(sel('$.data.ok'), true);
    assert.equal(sel('$.items[0].value'), 0.5);
    assert.equal(sel("$.data['a key']"), 2);
  });
  test('absent paths are clear errors', () => {
    assert.throws(() => sel('$.data.nope'), /\$\.data\.nope is not in the response/);
    assert.throws(() => sel('$.items[3]'), /past the end \(the array has 1 items\)/);
    assert.throws(() => sel('$.data[0]'), /not an array/);
    assert.throws(() => sel('$.__proto__'), /not in the response/);
  });
  test('unsupported syntax is rejected', () => {
    for (const p of ['data.ok', '$.items[*]', '$..x', '$[-1]', `$${'.a'.repeat(40)}`]) assert.throws(() => parseJsonPath(p), /JSON path/);
  });
});

describe('parsers never misbehave on any input (property)', () => {
  test('parseJsonPath and parseFineDuration: a value or a plain Error, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const d = parseFineDuration(s);
        assert.ok(d === undefined || (Number.isFinite(d) && d >= 0));
        assert.equal(d === undefined, !(s.length <= 32 && FINE_DURATION_RE.test(s)));
        try {
          assert.ok(Array.isArray(parseJsonPath(s)));
        } catch (e) {
          assert.ok(e instanceof Error && /JSON path/.test(e.message));
        }
      }),
    );
  });
  test('a path built from steps selects what it names', () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    fc.assert(
      fc.property(fc.array(fc.oneof(key, fc.nat({ max: 3 })), { maxLength: 8 }), fc.jsonValue(), (steps, leaf) => {
        let doc: unknown = leaf;
        for (const s of [...steps].reverse()) doc = typeof s === 'number' ? [...Array.from({ length: s }, () => null), doc] : { [s]: doc };
        const path = `$${steps.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')}`;
        assert.deepEqual(selectJsonPath(doc, parseJsonPath(path), path), leaf);
      }),
    );
  });
  test('selectSample on arbitrary text returns a number or throws a plain Error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          assert.equal(typeof selectSample(`${s}\n`, 'up', {}), 'number');
        } catch (e) {
          assert.ok(e instanceof Error);
        }
      }),
    );
  });
});
