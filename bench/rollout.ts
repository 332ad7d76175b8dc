/**
 * rollout: issue 5's rollout figures against the real `local` target host (a detached host process,
 * sample-service instances, its weighted proxy), with autocannon in a separate process
 * (bench/proxy-load.ts) on loopback at 300 requests/s. (1) requests failed during weight changes,
 * abort, blue-green switch and drain; (2) proxy overhead against direct; (3) detection to weight 0
 * and fast-track rollback in a whole stagegate app; (4) weight accuracy; (5) the host's RSS and
 * sockets under sustained load (30 s with --quick, 600 s without; STAGEGATE_BENCH_ROLLOUT_SECONDS
 * overrides). Value: requests failed in (1), target 0; `pass` only when every target holds.
 */
import os from 'node:os';
import { type Child, forkChild } from './proxy-ipc.ts';
import type { LoadResult } from './proxy-load.ts';
import { detectionTargetMs, FAILURE_LIMIT, INTERVAL_MS, startRolloutApp } from './rollout-app.ts';
import { type LoadFn, measureFailures, phaseNames, RATE } from './rollout-failures.ts';
import { type BenchHost, startBenchHost } from './rollout-host.ts';
import { type AppFigures, flatten } from './rollout-report.ts';
import { measureAccuracy, measureMemory, measureOverhead } from './rollout-steady.ts';
import { type BenchOptions, type BenchResult, progress, secondsFromEnv, withTempDir } from './util.ts';

/** chunks of 2 s back to back until stopped (the app part's rounds have no fixed length) */
function keepLoading(load: LoadFn, url: string) {
  let on = true;
  const total = { requests: 0, non2xx: 0, errors: 0, timeouts: 0 };
  let failure: unknown;
  const loop = (async () => {
    while (on) {
      const l = await load({ url: `${url}/`, rate: RATE, seconds: 2, connections: 10 });
      for (const k of ['requests', 'non2xx', 'errors', 'timeouts'] as const) total[k] += l[k];
    }
  })().catch((e: unknown) => {
    failure = e;
  });
  return {
    async stop() {
      on = false;
      await loop;
      if (failure) throw failure;
      return total;
    },
  };
}

async function appFigures(load: LoadFn, rounds: number): Promise<AppFigures> {
  const app = await startRolloutApp((url) => keepLoading(load, url));
  try {
    await app.start();
    const detection = [];
    for (let i = 0; i < rounds; i++) {
      detection.push(await app.detection());
      progress(`rollout detection round ${i + 1}: ${JSON.stringify(detection.at(-1))}`);
    }
    const aborts = [];
    for (let i = 0; i < rounds; i++) {
      aborts.push(await app.abort());
      progress(`rollout fast-track round ${i + 1}: ${JSON.stringify(aborts.at(-1))}`);
    }
    return { detection, aborts, load: (await app.close()) ?? { requests: 0, non2xx: 0, errors: 0, timeouts: 0 } };
  } finally {
    await app.close().catch(() => undefined);
  }
}

export async function runRollout(opts: BenchOptions): Promise<BenchResult> {
  const memorySeconds = secondsFromEnv('STAGEGATE_BENCH_ROLLOUT_SECONDS', opts.quick, { quick: 30, full: 600 }, 10);
  const rounds = opts.quick ? 1 : 3;
  const phaseSeconds = opts.quick ? 3 : 8;
  const overheadSeconds = opts.quick ? 3 : 10;
  const loadAverageAtStart = os.loadavg()[0] ?? 0;
  return withTempDir('rollout', async (dir) => {
    const loader: Child = await forkChild('proxy-load.ts');
    const load: LoadFn = (o) => loader.call<LoadResult>('run', { connections: 10, ...o });
    let host: BenchHost | undefined;
    try {
      host = await startBenchHost(dir);
      await host.put('v1');
      await host.put('v2');
      await host.client.setTraffic({ weights: { v1: 100, v2: 0 } });
      if (!opts.quick) await load({ url: `${host.proxyUrl}/`, rate: RATE, seconds: 2 }); // warm-up
      const failures = await measureFailures(host, load, phaseSeconds, rounds);
      const overhead = await measureOverhead(host, load, overheadSeconds, rounds);
      const accuracy = await measureAccuracy(host, load);
      progress(`rollout memory: ${memorySeconds} s at ${RATE} requests/s`);
      const memory = await measureMemory(host, load, memorySeconds);
      progress(`rollout memory: RSS ${memory.rssFirstMiB} -> ${memory.rssLastMiB} MiB, sockets ${memory.socketsFirst} -> ${memory.socketsLast}`);
      await host.client.shutdown();
      host = undefined;
      const app = await appFigures(load, 3); // each round is 5-10 s: medians of 3 in --quick mode too
      const r = flatten({ failures, phaseNames, overhead, accuracy, memory, app, detectionTargetMs, rounds });
      const figures = `interval ${INTERVAL_MS} ms, failureLimit ${FAILURE_LIMIT}`;
      return {
        name: 'rollout',
        value: r.failedTotal,
        unit: `requests failed (non-2xx + errors + timeouts) at ${RATE} requests/s during weight changes, abort, blue-green switch and drain`,
        target: '< 1 (and every target in extra.targetsMissed)',
        pass: r.missed.length === 0,
        rounds: r.failedPerRound,
        notes:
          `Real local host process (createLocalHostClient) with two sample-service versions; autocannon in its own process (bench/proxy-load.ts), loopback, ${RATE} requests/s. ` +
          `(1) ${rounds} round(s) of four ${phaseSeconds}-s phases (instance delay 50 ms, 50 connections; abort and drain 400 ms, 200 connections, and the weight change waits (up to 2 s) until the proxy shows at least 5 requests of the version to stop in flight; blue-green sends 30/s of the 300 with the preview header), non-2xx / errors / timeouts counted by autocannon, plus the proxy's own failed count; ` +
          `(2) ${rounds} alternating ${overheadSeconds}-s rounds direct to the instance vs through the host's proxy, medians, 10 connections; (4) 2,000 requests at 10/90, shares from X-Stagegate-Version; ` +
          `(5) ${memorySeconds} s at 50/50, host VmRSS and socket fds every 10 s, growth = median of the last 3 samples minus the first 3; ` +
          `(3) 3 rounds each, stagegate app in process (test/helpers fixture, local target), canary at weight 20 with analysis builtin errorRate (${figures}); the release answers 500 once a file appears, written when the host first shows the canary at weight 20; ` +
          `first failing measurement = time of the rollout.analysis audit entry minus (failed - 1) x interval; weight 0 = first host /state poll (every ~10 ms) with stable 100 and no canary weight. Fast track: POST abort during the pause until the host shows stable 100. ` +
          `loadavg (1 min) at start ${loadAverageAtStart.toFixed(2)}.`,
        extra: { loadAverage1mAtStart: Math.round(loadAverageAtStart * 100) / 100, ...r.extra },
      };
    } finally {
      await host?.client.shutdown().catch(() => undefined);
      await loader.stop();
    }
  });
}
