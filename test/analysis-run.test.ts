/** Analysis runs with scripted providers on a fake clock: every phase rule of Argo Rollouts' analysis. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runAnalysis, worstPhase } from '../src/rollout/analysis/analysis-run.ts';
import { summarize } from '../src/rollout/analysis/summarize.ts';
import { type CompiledAnalysis, compileAnalysis } from '../src/rollout/analysis/compile-analysis.ts';
import type { MetricInput } from '../src/rollout/analysis/metric-schema.ts';
import type { Provider } from '../src/rollout/analysis/measurement.ts';

const ERR = Symbol('error');
type Step = number | typeof ERR;

/** a provider that returns the scripted values in turn (the last one repeats); ERR throws */
function scripted(steps: Step[]): Provider & { calls: number } {
  const p = {
    calls: 0,
    async measure() {
      const s = steps[Math.min(p.calls, steps.length - 1)];
      p.calls++;
      if (s === ERR) throw new Error('connection refused');
      return s;
    },
  };
  return p;
}

function analysis(metrics: Array<[Partial<MetricInput>, Step[]]>): { a: CompiledAnalysis; providers: Array<Provider & { calls: number }> } {
  const compiled = compileAnalysis({
    metrics: metrics.map(([m], i) => ({ name: `m${i}`, provider: { builtin: { version: 'canary', measure: 'errorRate' } }, ...m })),
  });
  const providers = metrics.map(([, steps]) => scripted(steps));
  return { a: { metrics: compiled.metrics.map((m, i) => ({ ...m, provider: providers[i] as Provider })) }, providers };
}

/** a fake clock that advances by every sleep; optionally aborts after n sleeps */
function fakeTime(abortAfterSleeps?: { n: number; ctl: AbortController }) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: () => new Date(now),
    async sleep(ms: number) {
      sleeps.push(ms);
      now += ms;
      if (abortAfterSleeps && sleeps.length >= abortAfterSleeps.n) abortAfterSleeps.ctl.abort();
    },
  };
}

const lt = { successCondition: 'result < 0.05' };

describe('measurement judgement (Argo EvaluateResult)', () => {
  const one = async (m: Partial<MetricInput>, v: number) => (await runAnalysis(analysis([[m, [v]]]).a, fakeTime())).metrics[0]?.measurements[0]?.phase;
  test('no condition: Successful', async () => assert.equal(await one({}, 7), 'Successful'));
  test('success only: false -> Failed', async () => assert.equal(await one(lt, 0.5), 'Failed'));
  test('success only: true -> Successful', async () => assert.equal(await one(lt, 0.01), 'Successful'));
  test('failure only: false -> Successful, true -> Failed', async () => {
    assert.equal(await one({ failureCondition: 'result > 0.1' }, 0.01), 'Successful');
    assert.equal(await one({ failureCondition: 'result > 0.1' }, 0.5), 'Failed');
  });
  test('both: neither true -> Inconclusive; failure wins when both are true', async () => {
    const both = { successCondition: 'result < 0.05', failureCondition: 'result > 0.1' };
    assert.equal(await one(both, 0.07), 'Inconclusive');
    assert.equal(await one({ successCondition: 'result > 0.0', failureCondition: 'result > 0.1' }, 0.5), 'Failed');
  });
  test('a provider that throws -> Error measurement with its message', async () => {
    const r = await runAnalysis(analysis([[{ consecutiveErrorLimit: 0 }, [ERR]]]).a, fakeTime());
    assert.equal(r.metrics[0]?.measurements[0]?.phase, 'Error');
    assert.match(r.metrics[0]?.measurements[0]?.message ?? '', /connection refused/);
  });
});

describe('metric phase rules', () => {
  test('count: Successful after count measurements, interval between them', async () => {
    const t = fakeTime();
    const { a, providers } = analysis([[{ ...lt, interval: '10s', count: 3 }, [0.01]]]);
    const r = await runAnalysis(a, t);
    assert.equal(r.phase, 'Successful');
    assert.equal(providers[0]?.calls, 3);
    assert.deepEqual(t.sleeps, [10_000, 10_000]);
    assert.equal(r.metrics[0]?.measurements.length, 3);
    assert.equal(r.metrics[0]?.measurements[1]?.at, '2026-01-01T00:00:10.000Z');
    assert.equal(r.metrics[0]?.measurements[0]?.value, '0.01');
  });
  test('no count and no interval: one measurement', async () => {
    const { a, providers } = analysis([[lt, [0.01]]]);
    assert.equal((await runAnalysis(a, fakeTime())).phase, 'Successful');
    assert.equal(providers[0]?.calls, 1);
  });
  test('initialDelay waits before the first measurement', async () => {
    const t = fakeTime();
    await runAnalysis(analysis([[{ ...lt, initialDelay: '1m' }, [0.01]]]).a, t);
    assert.deepEqual(t.sleeps, [60_000]);
  });
  test('failureLimit 0 (default): the first failure fails the metric', async () => {
    const { a, providers } = analysis([[{ ...lt, interval: '1s', count: 5 }, [0.01, 0.5, 0.01]]]);
    const r = await runAnalysis(a, fakeTime());
    assert.equal(r.phase, 'Failed');
    assert.equal(providers[0]?.calls, 2);
    assert.match(r.message, /m0: 1 failed measurements exceed failureLimit 0/);
  });
  test('failureLimit 2: two failures are tolerated, the third fails', async () => {
    const ok = await runAnalysis(analysis([[{ ...lt, interval: '1s', count: 4, failureLimit: 2 }, [0.5, 0.5, 0.01]]]).a, fakeTime());
    assert.equal(ok.phase, 'Successful');
    assert.equal(ok.metrics[0]?.counts.failed, 2);
    const bad = await runAnalysis(analysis([[{ ...lt, interval: '1s', count: 5, failureLimit: 2 }, [0.5]]]).a, fakeTime());
    assert.equal(bad.phase, 'Failed');
    assert.equal(bad.metrics[0]?.counts.failed, 3);
  });
  test('inconclusiveLimit: Inconclusive when exceeded', async () => {
    const both = { successCondition: 'result < 0.05', failureCondition: 'result > 0.1', interval: '1s', count: 5 };
    const r = await runAnalysis(analysis([[{ ...both, inconclusiveLimit: 1 }, [0.07]]]).a, fakeTime());
    assert.equal(r.phase, 'Inconclusive');
    assert.equal(r.metrics[0]?.counts.inconclusive, 2);
    const ok = await runAnalysis(analysis([[{ ...both, inconclusiveLimit: 1 }, [0.07, 0.01]]]).a, fakeTime());
    assert.equal(ok.phase, 'Successful');
  });
  test('consecutiveErrorLimit (default 4): Error after 5 consecutive errors; errors do not count toward count', async () => {
    const { a, providers } = analysis([[{ ...lt, interval: '1s', count: 2 }, [ERR]]]);
    const r = await runAnalysis(a, fakeTime());
    assert.equal(r.phase, 'Error');
    assert.equal(providers[0]?.calls, 5);
    assert.match(r.message, /5 consecutive errors exceed consecutiveErrorLimit 4/);
    const ok = await runAnalysis(analysis([[{ ...lt, interval: '1s', count: 2, consecutiveErrorLimit: 1 }, [ERR, 0.01, ERR, 0.01]]]).a, fakeTime());
    assert.equal(ok.phase, 'Successful', 'a good measurement resets the consecutive errors');
    assert.deepEqual([ok.metrics[0]?.counts.count, ok.metrics[0]?.counts.error], [2, 2]);
  });
  test('a condition that cannot be evaluated is an Error measurement', async () => {
    const { a } = analysis([[{ successCondition: 'result < 0.05', consecutiveErrorLimit: 0 }, [0]]]);
    const text: Provider = { measure: async () => 'not a number' };
    const r = await runAnalysis({ metrics: [{ ...(a.metrics[0] as CompiledAnalysis['metrics'][number]), provider: text }] }, fakeTime());
    assert.equal(r.metrics[0]?.measurements[0]?.phase, 'Error');
    assert.match(r.metrics[0]?.measurements[0]?.message ?? '', /condition could not be evaluated/);
    assert.equal(r.phase, 'Error');
  });
});

describe('run phase', () => {
  test('worst of Failed > Error > Inconclusive > Successful', () => {
    assert.equal(worstPhase(['Successful', 'Inconclusive', 'Error']), 'Error');
    assert.equal(worstPhase(['Error', 'Failed']), 'Failed');
    assert.equal(worstPhase(['Successful', 'Inconclusive']), 'Inconclusive');
    assert.equal(worstPhase([]), 'Successful');
  });
  test('dryRun metrics never fail the run, but are recorded', async () => {
    const r = await runAnalysis(analysis([[{ ...lt, dryRun: true }, [0.5]], [lt, [0.01]]]).a, fakeTime());
    assert.equal(r.phase, 'Successful');
    assert.equal(r.metrics[0]?.phase, 'Failed');
    assert.match(r.message, /1 dry-run not counted/);
  });
  test('a failing metric terminates a background metric (no count), which ends Successful', async () => {
    const { a, providers } = analysis([
      [{ ...lt, interval: '5s' }, [0.01]],
      [{ ...lt, interval: '5s', count: 10 }, [0.01, 0.01, 0.5]],
    ]);
    const r = await runAnalysis(a, fakeTime());
    assert.equal(r.phase, 'Failed');
    assert.equal(r.metrics[0]?.phase, 'Successful');
    assert.match(r.metrics[0]?.message ?? '', /terminated/);
    assert.ok((providers[0]?.calls ?? 0) <= 4);
  });
  test('abort ends a background run cleanly', async () => {
    const ctl = new AbortController();
    const t = fakeTime({ n: 3, ctl });
    const { a, providers } = analysis([[{ ...lt, interval: '10s' }, [0.01]]]);
    const r = await runAnalysis(a, { ...t, signal: ctl.signal });
    assert.equal(r.aborted, true);
    assert.equal(r.phase, 'Successful');
    assert.equal(providers[0]?.calls, 3);
    assert.match(r.message, /aborted/);
  });
  test('an already-aborted signal takes no measurement', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const r = await runAnalysis(analysis([[{ ...lt, interval: '10s' }, [0.5]]]).a, { ...fakeTime(), signal: ctl.signal });
    assert.equal(r.aborted, true);
    assert.equal(r.metrics[0]?.measurements.length, 0);
  });
  test('onMeasurement sees every measurement', async () => {
    const seen: string[] = [];
    await runAnalysis(analysis([[{ ...lt, interval: '1s', count: 2 }, [0.01]]]).a, { ...fakeTime(), onMeasurement: (m, x) => seen.push(`${m}:${x.phase}`) });
    assert.deepEqual(seen, ['m0:Successful', 'm0:Successful']);
  });
  test('measurement values are bounded text', async () => {
    const big: Provider = { measure: async () => 'x'.repeat(10_000) };
    const { a } = analysis([[{}, [0]]]);
    const r = await runAnalysis({ metrics: [{ ...(a.metrics[0] as CompiledAnalysis['metrics'][number]), provider: big }] }, fakeTime());
    assert.ok((r.metrics[0]?.measurements[0]?.value.length ?? 0) <= 256);
  });
});

describe('summarize: one line naming the deciding metric(s) and their last values', () => {
  test('Failed: the failing metric, its counts and last value; the passing metric is not named', async () => {
    const r = await runAnalysis(analysis([[{ ...lt, interval: '1s', count: 3, failureLimit: 2 }, [0.42]], [lt, [0.01]]]).a, fakeTime());
    assert.equal(summarize(r), 'm0 Failed: 3 of 3 measurements failed (last 0.42: successCondition result < 0.05 is false)');
  });
  test('Error: consecutive errors and the last error message', async () => {
    const r = await runAnalysis(analysis([[{ ...lt, interval: '1s', consecutiveErrorLimit: 1 }, [ERR]]]).a, fakeTime());
    assert.equal(summarize(r), 'm0 Error: 2 consecutive measurement errors (last: connection refused)');
  });
  test('Inconclusive, two deciding metrics, and a dry-run failure noted as not counted', async () => {
    const both = { successCondition: 'result < 0.05', failureCondition: 'result > 0.1' };
    const r = await runAnalysis(analysis([[both, [0.07]], [both, [0.08]], [{ ...lt, dryRun: true }, [0.9]]]).a, fakeTime());
    assert.equal(r.phase, 'Inconclusive');
    assert.equal(
      summarize(r),
      'm0 Inconclusive: 1 of 1 measurements inconclusive (last 0.07: neither successCondition nor failureCondition is true); ' +
        'm1 Inconclusive: 1 of 1 measurements inconclusive (last 0.08: neither successCondition nor failureCondition is true); dry-run m2 Failed (not counted)',
    );
  });
  test('Successful names every counted metric; an aborted run says so; no measurement is said', async () => {
    const ok = await runAnalysis(analysis([[lt, [0.01]], [{}, [7]]]).a, fakeTime());
    assert.match(summarize(ok), /^m0 Successful: 1 of 1 measurements successful \(last 0\.01: .*\); m1 Successful: 1 of 1 measurements successful \(last 7: no condition/);
    const ctl = new AbortController();
    ctl.abort();
    const aborted = await runAnalysis(analysis([[{ ...lt, interval: '10s' }, [0.5]]]).a, { ...fakeTime(), signal: ctl.signal });
    assert.equal(summarize(aborted), 'analysis aborted; m0 Successful: 0 of 0 measurements successful (no measurement)');
  });
  test('bounded to 500 characters on one line, whatever the values and messages', async () => {
    const noisy: Provider = {
      measure: async () => {
        throw new Error(`line one ${'x'.repeat(2000)}\nline two`);
      },
    };
    const { a } = analysis(Array.from({ length: 20 }, () => [{ ...lt, consecutiveErrorLimit: 0 }, [0]] as [Partial<MetricInput>, Step[]]));
    const r = await runAnalysis({ metrics: a.metrics.map((m) => ({ ...m, provider: noisy })) }, fakeTime());
    const line = summarize(r);
    assert.ok(line.length <= 500, String(line.length));
    assert.doesNotMatch(line, /\n/);
    assert.match(line, /^m0 Error: 1 consecutive measurement errors \(last: line one x+…\); m1 Error/);
  });
});
