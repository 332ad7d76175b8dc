/**
 * proxy: the `local` target's weighted reverse proxy (src/rollout/proxy) at 300 requests/s on
 * loopback. Three child processes: two backends (bench/proxy-backend.ts), the proxy
 * (bench/proxy-server.ts, so RSS and sockets are its own) and autocannon (bench/proxy-load.ts, one
 * process per load phase). Phases: (a) overhead against direct to the backend in the same run,
 * (b) failures while weights change 10 -> 50 -> 100 and during a drain, (c) weight accuracy over
 * 2,000 requests, (d) RSS and open sockets over a sustained run. Value: proxied p99 latency.
 * Sustained duration: 5 s with --quick, 600 s without; STAGEGATE_BENCH_PROXY_SECONDS overrides both.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Child, forkChild } from './proxy-ipc.ts';
import { type BenchOptions, type BenchResult, MiB, median, progress, round3, secondsFromEnv } from './util.ts';

const RATE = 300;
const CONNECTIONS = 10;
const TARGETS = { p50DeltaMs: 3, p99DeltaMs: 15, failed: 0, accuracyPp: 2, rssGrowthMiB: 50 } as const;

interface Load {
  requests: number;
  failed: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationSeconds: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
}
interface Probe {
  rss: number;
  heapUsed: number;
  tcpSockets: number;
}

let loader: Child | undefined;
const load = (o: { url: string; rate?: number; seconds?: number; amount?: number }): Promise<Load> => loader!.call<Load>('run', { ...o, connections: CONNECTIONS });

/** (a) direct vs proxied, alternating, `rounds` times */
async function overhead(direct: string, proxied: string, seconds: number, rounds: number) {
  const d: Load[] = [];
  const p: Load[] = [];
  for (let r = 0; r < rounds; r++) {
    d.push(await load({ url: direct, rate: RATE, seconds }));
    p.push(await load({ url: proxied, rate: RATE, seconds }));
    progress(`proxy overhead round ${r + 1}: direct p50 ${d.at(-1)!.latency.p50} / p99 ${d.at(-1)!.latency.p99} ms, proxied p50 ${p.at(-1)!.latency.p50} / p99 ${p.at(-1)!.latency.p99} ms`);
  }
  const m = (ls: Load[], k: 'p50' | 'p99') => median(ls.map((l) => l.latency[k]));
  return { direct: d, proxied: p, p50Delta: m(p, 'p50') - m(d, 'p50'), p99Delta: m(p, 'p99') - m(d, 'p99'), directP99: m(d, 'p99'), proxiedP99: m(p, 'p99'), directP50: m(d, 'p50'), proxiedP50: m(p, 'p50') };
}

/** (b) load through the proxy while weights move 10 -> 50 -> 100, back to 50, then a drain of v2 */
async function weightChanges(proxy: Child, url: string, seconds: number) {
  await proxy.call('setWeights', { v1: 90, v2: 10 });
  await proxy.call('resetStats');
  const loading = load({ url: `${url}/?delay=5`, rate: RATE, seconds });
  const step = (seconds * 1000) / 6;
  const drains: unknown[] = [];
  for (const w of [50, 100, 50]) {
    await sleep(step);
    await proxy.call('setWeights', { v1: 100 - w, v2: w });
  }
  await sleep(step);
  drains.push(await proxy.call('drain', { version: 'v2', timeoutMs: 5000 }));
  await sleep(step);
  await proxy.call('undrain', 'v2');
  await proxy.call('setWeights', { v1: 100 });
  const l = await loading;
  const stats = await proxy.call<{ totals: { requests: number; failed: number; aborted: number } }>('stats');
  return { load: l, proxyFailed: stats.totals.failed, proxyAborted: stats.totals.aborted, proxyRequests: stats.totals.requests, drain: drains[0] as { drained: boolean; inFlight: number; waitedMs: number } };
}

/** (c) 2,000 requests at 10/90; shares counted by the backends themselves */
async function accuracy(proxy: Child, backend: Child, url: string, quick: boolean) {
  await proxy.call('setWeights', { v1: 90, v2: 10 });
  await backend.call('resetCounts');
  const l = await load({ url, amount: 2000, ...(quick ? {} : { rate: RATE }) });
  const c = await backend.call<{ v1: number; v2: number }>('counts');
  const total = c.v1 + c.v2;
  return { load: l, counts: c, total, errorPp: Math.abs((c.v2 / total) * 100 - 10) };
}

/** (d) sustained load at 50/50, probing the proxy's RSS and TCP sockets every second */
async function sustained(proxy: Child, url: string, seconds: number, idleMs: number) {
  await proxy.call('setWeights', { v1: 50, v2: 50 });
  const before = await proxy.call<Probe>('probe');
  const samples: Probe[] = [];
  let done = false;
  const loading = load({ url, rate: RATE, seconds }).finally(() => {
    done = true;
  });
  while (!done) {
    await sleep(1000);
    if (!done) samples.push(await proxy.call<Probe>('probe'));
  }
  const l = await loading;
  await sleep(idleMs); // the proxy's keep-alive timeout (5 s) closes idle client connections
  const afterIdle = await proxy.call<Probe>('probe');
  const warm = samples.slice(Math.min(samples.length - 1, Math.floor(samples.length / 10)));
  const q = Math.max(1, Math.floor(samples.length / 4));
  const maxOf = (ps: Probe[], k: keyof Probe) => Math.max(...ps.map((p) => p[k]));
  return {
    load: l,
    samples: samples.length,
    rssBeforeMiB: before.rss / MiB,
    rssGrowthMiB: (maxOf(warm, 'rss') - (warm[0]?.rss ?? before.rss)) / MiB,
    rssEndMiB: (samples.at(-1)?.rss ?? before.rss) / MiB,
    heapEndMiB: (samples.at(-1)?.heapUsed ?? before.heapUsed) / MiB,
    socketsFirstQuarterMax: maxOf(samples.slice(0, q), 'tcpSockets'),
    socketsLastQuarterMax: maxOf(samples.slice(-q), 'tcpSockets'),
    socketsBefore: before.tcpSockets,
    socketsAfterIdle: afterIdle.tcpSockets,
  };
}

export async function runProxy(opts: BenchOptions): Promise<BenchResult> {
  const sustainSeconds = secondsFromEnv('STAGEGATE_BENCH_PROXY_SECONDS', opts.quick, { quick: 5, full: 600 }, 2);
  const phase = opts.quick ? 2 : 10;
  const rounds = opts.quick ? 1 : 3;
  const started = await Promise.allSettled([forkChild('proxy-backend.ts'), forkChild('proxy-server.ts'), forkChild('proxy-load.ts')]);
  const children = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [backend, proxy, load_] = children as [Child, Child, Child];
    loader = load_;
    const urls = await backend.call<{ v1: string; v2: string }>('urls');
    const url = await proxy.call<string>('start', { backends: [{ version: 'v1', url: urls.v1 }, { version: 'v2', url: urls.v2 }], weights: { v1: 100 } });
    if (!opts.quick) {
      await load({ url: urls.v1, rate: RATE, seconds: 2 });
      await load({ url, rate: RATE, seconds: 2 });
    }
    const a = await overhead(`${urls.v1}/`, `${url}/`, phase, rounds);
    const b = await weightChanges(proxy, url, opts.quick ? 3 : phase * 2);
    progress(`proxy weight changes: ${b.load.requests} requests, ${b.load.failed} failed (proxy counted ${b.proxyFailed} failed, ${b.proxyAborted} aborted by the load generator at its end); drain ${JSON.stringify(b.drain)}`);
    const c = await accuracy(proxy, backend, url, opts.quick);
    progress(`proxy accuracy: ${JSON.stringify(c.counts)} -> v2 off by ${round3(c.errorPp)} pp`);
    progress(`proxy sustained run: ${sustainSeconds} s at ${RATE} requests/s`);
    const d = await sustained(proxy, url, sustainSeconds, opts.quick ? 1000 : 6000);
    progress(`proxy sustained: ${d.load.requests} requests, ${d.load.failed} failed, RSS growth ${round3(d.rssGrowthMiB)} MiB, sockets ${d.socketsFirstQuarterMax} -> ${d.socketsLastQuarterMax} (after idle ${d.socketsAfterIdle})`);
    await proxy.call('close');
    const failedDuringChanges = b.load.failed + b.proxyFailed;
    const socketGrowth = d.socketsLastQuarterMax - d.socketsFirstQuarterMax;
    const checks = {
      p50Delta: a.p50Delta <= TARGETS.p50DeltaMs,
      p99Delta: a.p99Delta <= TARGETS.p99DeltaMs,
      failedDuringChanges: failedDuringChanges === 0 && b.drain.drained,
      accuracy: c.errorPp <= TARGETS.accuracyPp && c.total === 2000,
      rssGrowth: d.rssGrowthMiB < TARGETS.rssGrowthMiB,
      sockets: socketGrowth <= 0 && d.load.failed === 0,
    };
    const bound = round3(a.directP99 + TARGETS.p99DeltaMs);
    return {
      name: 'proxy',
      value: a.proxiedP99,
      unit: `ms (p99 latency through the proxy at ${RATE} requests/s; direct p99 ${a.directP99} ms in the same run)`,
      target: `< ${bound}`,
      pass: a.proxiedP99 < bound,
      rounds: a.proxied.map((l) => l.latency.p99),
      notes:
        `autocannon (${CONNECTIONS} connections, overallRate ${RATE}/s, latency corrected for coordinated omission, 1 ms resolution) in a separate process per phase; backends and proxy in their own processes on loopback. ` +
        `(a) ${rounds} alternating ${phase}-s rounds direct vs proxied, median p50/p99; (b) ${opts.quick ? 3 : phase * 2}-s load (backend delay 5 ms) while weights go 10 -> 50 -> 100 -> 50 and v2 is drained, failures = autocannon errors + timeouts + non-2xx + the proxy's own failed count; ` +
        `(c) 2,000 requests at 10/90 counted by the backends; (d) ${sustainSeconds}-s run at 50/50, RSS and TCP sockets of the proxy process sampled every second (RSS growth = max minus the first sample after a 10% warm-up; socket growth = max of the last quarter minus max of the first quarter). Value: median proxied p99, target direct p99 + ${TARGETS.p99DeltaMs} ms.`,
      extra: {
        allTargetsPass: Object.values(checks).every(Boolean) ? 'yes' : `no (${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')})`,
        directP50Ms: a.directP50,
        proxiedP50Ms: a.proxiedP50,
        p50DeltaMs: round3(a.p50Delta),
        p50DeltaTarget: `<= ${TARGETS.p50DeltaMs}`,
        directP99Ms: a.directP99,
        proxiedP99Ms: a.proxiedP99,
        p99DeltaMs: round3(a.p99Delta),
        p99DeltaTarget: `<= ${TARGETS.p99DeltaMs}`,
        weightChangeRequests: b.load.requests,
        failedDuringWeightChangesAndDrain: failedDuringChanges,
        failedTarget: '= 0',
        clientAbortsAtLoadEnd: b.proxyAborted,
        drainDrained: b.drain.drained ? 'yes' : 'no',
        drainWaitedMs: b.drain.waitedMs,
        accuracyRequests: c.total,
        accuracyV2Share: round3(c.counts.v2 / c.total),
        accuracyErrorPp: round3(c.errorPp),
        accuracyTarget: `<= ${TARGETS.accuracyPp} pp`,
        sustainedSeconds: sustainSeconds,
        sustainedRequests: d.load.requests,
        sustainedFailed: d.load.failed,
        sustainedP99Ms: d.load.latency.p99,
        rssBeforeMiB: round3(d.rssBeforeMiB),
        rssEndMiB: round3(d.rssEndMiB),
        heapEndMiB: round3(d.heapEndMiB),
        rssGrowthMiB: round3(d.rssGrowthMiB),
        rssGrowthTarget: `< ${TARGETS.rssGrowthMiB}`,
        socketsFirstQuarterMax: d.socketsFirstQuarterMax,
        socketsLastQuarterMax: d.socketsLastQuarterMax,
        socketGrowth,
        socketGrowthTarget: '<= 0',
        socketsBeforeIdle: d.socketsBefore,
        socketsAfterIdle: d.socketsAfterIdle,
      },
    };
  } finally {
    loader = undefined;
    await Promise.all(children.map((c) => c.stop()));
  }
}
