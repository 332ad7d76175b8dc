/**
 * The rollout benchmark's figures as the runner's flat `extra` record (labelled numbers and strings),
 * with each of issue 5's targets checked; `missed` names every target that did not hold.
 */
import type { AbortRound, DetectionRound } from './rollout-app.ts';
import type { PhaseFailures } from './rollout-failures.ts';
import type { measureAccuracy, measureMemory, measureOverhead } from './rollout-steady.ts';
import { median, round3 } from './util.ts';

export interface AppFigures {
  detection: DetectionRound[];
  aborts: AbortRound[];
  load: { requests: number; non2xx: number; errors: number; timeouts: number };
}
interface Input {
  failures: PhaseFailures[];
  phaseNames: string[];
  overhead: Awaited<ReturnType<typeof measureOverhead>>;
  accuracy: Awaited<ReturnType<typeof measureAccuracy>>;
  memory: Awaited<ReturnType<typeof measureMemory>>;
  app: AppFigures;
  detectionTargetMs: number;
  rounds: number;
}

const TARGETS = { p50DeltaMs: 3, p99DeltaMs: 15, accuracyPp: 2, rssGrowthMiB: 50, fastTrackMs: 1000 } as const;
const list = (xs: readonly number[]) => xs.map((x) => round3(x)).join(' / ');
const failedOf = (f: PhaseFailures) => f.non2xx + f.errors + f.timeouts;

export function flatten(i: Input) {
  const extra: Record<string, number | string> = {};
  const keys = ['weights', 'abort', 'blueGreen', 'drain'] as const;
  let failedTotal = 0;
  const failedPerRound = Array.from({ length: i.rounds }, () => 0);
  i.phaseNames.forEach((name, p) => {
    const runs = i.failures.filter((f) => f.phase === name);
    const k = `failures.${keys[p]}`;
    const sum = (f: (x: PhaseFailures) => number) => runs.reduce((a, x) => a + f(x), 0);
    extra[`${k}.phase`] = name;
    extra[`${k}.requests`] = sum((x) => x.requests);
    extra[`${k}.non2xx`] = sum((x) => x.non2xx);
    extra[`${k}.errors`] = sum((x) => x.errors);
    extra[`${k}.timeouts`] = sum((x) => x.timeouts);
    extra[`${k}.proxyFailed`] = sum((x) => x.proxyFailed);
    extra[`${k}.proxyRetries`] = sum((x) => x.proxyRetries);
    extra[`${k}.failedPerRound`] = list(runs.map(failedOf));
    const stops = runs.flatMap((x) => (x.stop ? [x.stop] : []));
    if (stops.length > 0) extra[`${k}.stopVersion`] = stops.map((s) => `${s.inFlightAtStart} in flight at the stop, drained ${s.drained} after ${s.waitedMs} ms, ${s.inFlight} left`).join('; ');
    failedTotal += sum(failedOf);
    runs.forEach((x, r) => {
      failedPerRound[r] = (failedPerRound[r] ?? 0) + failedOf(x);
    });
  });
  const o = i.overhead;
  Object.assign(extra, {
    'overhead.directP50Ms': o.directP50,
    'overhead.proxiedP50Ms': o.proxiedP50,
    'overhead.p50DeltaMs': round3(o.p50Delta),
    'overhead.directP99Ms': o.directP99,
    'overhead.proxiedP99Ms': o.proxiedP99,
    'overhead.p99DeltaMs': round3(o.p99Delta),
    'overhead.roundsDirectP50': list(o.rounds.map((r) => r.directP50)),
    'overhead.roundsProxiedP50': list(o.rounds.map((r) => r.proxiedP50)),
    'overhead.roundsDirectP99': list(o.rounds.map((r) => r.directP99)),
    'overhead.roundsProxiedP99': list(o.rounds.map((r) => r.proxiedP99)),
    'overhead.loadAverage1m': list(o.loadAverage1m),
    'accuracy.requests': i.accuracy.total,
    'accuracy.counts': JSON.stringify(i.accuracy.counts),
    'accuracy.v2SharePct': i.accuracy.v2SharePct,
    'accuracy.v1SharePct': i.accuracy.v1SharePct,
    'accuracy.errorPp': i.accuracy.errorPp,
    'accuracy.failed': i.accuracy.failed,
    'memory.seconds': i.memory.seconds,
    'memory.requests': i.memory.requests,
    'memory.failed': i.memory.failed,
    'memory.rssFirst3MedianMiB': i.memory.rssFirstMiB,
    'memory.rssLast3MedianMiB': i.memory.rssLastMiB,
    'memory.rssGrowthMiB': i.memory.rssGrowthMiB,
    'memory.rssMaxMiB': i.memory.rssMaxMiB,
    'memory.socketsFirst3Median': i.memory.socketsFirst,
    'memory.socketsLast3Median': i.memory.socketsLast,
    'memory.socketGrowth': i.memory.socketGrowth,
    'memory.samples': i.memory.samples.map((s) => `${s.atSeconds}s ${round3(s.rssMiB)}MiB ${s.sockets}sock`).join(', '),
  });
  const d = i.app.detection;
  const a = i.app.aborts;
  const detectionMedian = median(d.map((x) => x.detectionMs));
  const abortMedian = median(a.map((x) => x.abortToStableMs));
  Object.assign(extra, {
    'detection.medianMs': detectionMedian,
    'detection.roundsMs': list(d.map((x) => x.detectionMs)),
    'detection.targetMs': i.detectionTargetMs,
    'detection.faultToWeight0MedianMs': median(d.map((x) => x.faultToWeight0Ms)),
    'detection.faultToWeight0RoundsMs': list(d.map((x) => x.faultToWeight0Ms)),
    'detection.faultToFirstFailingRoundsMs': list(d.map((x) => x.faultToFirstFailingMs)),
    'detection.failedMeasurements': list(d.map((x) => x.failedMeasurements)),
    'detection.analysisMessage': d[0]?.analysisMessage ?? '',
    'fastTrack.medianMs': abortMedian,
    'fastTrack.roundsMs': list(a.map((x) => x.abortToStableMs)),
    'fastTrack.abortRequestRoundsMs': list(a.map((x) => x.requestMs)),
    'appLoad.requests': i.app.load.requests,
    'appLoad.non2xxIncludingTheFaultyCanary': i.app.load.non2xx,
    'appLoad.errors': i.app.load.errors,
    'appLoad.timeouts': i.app.load.timeouts,
  });
  const checks: Record<string, boolean> = {
    failuresDuringChanges: failedTotal === 0,
    p50Overhead: o.p50Delta <= TARGETS.p50DeltaMs,
    p99Overhead: o.p99Delta <= TARGETS.p99DeltaMs,
    detection: detectionMedian <= i.detectionTargetMs,
    fastTrack: abortMedian < TARGETS.fastTrackMs,
    accuracy: i.accuracy.errorPp <= TARGETS.accuracyPp && i.accuracy.total === 2000,
    rssGrowth: i.memory.rssGrowthMiB < TARGETS.rssGrowthMiB,
    socketGrowth: i.memory.socketGrowth <= 0,
  };
  const missed = Object.entries(checks).flatMap(([k, ok]) => (ok ? [] : [k]));
  extra['targets'] = `failures = 0; p50 +${TARGETS.p50DeltaMs} ms; p99 +${TARGETS.p99DeltaMs} ms; detection <= ${i.detectionTargetMs} ms; fast track < ${TARGETS.fastTrackMs} ms; accuracy <= ${TARGETS.accuracyPp} pp; RSS growth < ${TARGETS.rssGrowthMiB} MiB; socket growth <= 0`;
  extra['targetsMissed'] = missed.length === 0 ? 'none' : missed.join(', ');
  return { extra, failedTotal, failedPerRound, missed };
}
