/**
 * Rollout benchmark, parts 2, 4 and 5 on the real `local` host: the proxy's latency overhead against
 * the instance direct (alternating rounds, same duration, 300 requests/s), the share each version
 * served at 10/90 over 2,000 requests (counted by X-Stagegate-Version), and the host process's RSS
 * and open sockets sampled every 10 s during sustained load.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LoadFn, RATE } from './rollout-failures.ts';
import { type BenchHost, type ProcSample, procSample } from './rollout-host.ts';
import { median, progress, round3 } from './util.ts';

const CONNECTIONS = 10;

export async function measureOverhead(host: BenchHost, load: LoadFn, seconds: number, rounds: number) {
  await host.client.setTraffic({ weights: { v1: 100, v2: 0 } });
  const direct = `${await host.directUrl('v1')}/`;
  const proxied = `${host.proxyUrl}/`;
  const d: { p50: number; p99: number }[] = [];
  const p: { p50: number; p99: number }[] = [];
  const loadAvg: number[] = [];
  for (let r = 0; r < rounds; r++) {
    loadAvg.push(os.loadavg()[0] ?? 0);
    d.push((await load({ url: direct, rate: RATE, seconds, connections: CONNECTIONS })).latency);
    p.push((await load({ url: proxied, rate: RATE, seconds, connections: CONNECTIONS })).latency);
    progress(`rollout overhead round ${r + 1}: direct p50 ${d.at(-1)!.p50} / p99 ${d.at(-1)!.p99} ms, proxied p50 ${p.at(-1)!.p50} / p99 ${p.at(-1)!.p99} ms (load average ${loadAvg.at(-1)!.toFixed(2)})`);
  }
  loadAvg.push(os.loadavg()[0] ?? 0);
  const m = (xs: { p50: number; p99: number }[], k: 'p50' | 'p99') => median(xs.map((x) => x[k]));
  return {
    directP50: m(d, 'p50'),
    directP99: m(d, 'p99'),
    proxiedP50: m(p, 'p50'),
    proxiedP99: m(p, 'p99'),
    p50Delta: m(p, 'p50') - m(d, 'p50'),
    p99Delta: m(p, 'p99') - m(d, 'p99'),
    rounds: p.map((x, i) => ({ directP50: d[i]!.p50, directP99: d[i]!.p99, proxiedP50: x.p50, proxiedP99: x.p99 })),
    loadAverage1m: loadAvg.map(round3),
  };
}

/** 2,000 requests at v2 10 / v1 90, 300 requests/s; shares from the X-Stagegate-Version header */
export async function measureAccuracy(host: BenchHost, load: LoadFn) {
  await host.client.setTraffic({ weights: { v1: 90, v2: 10 } });
  const l = await load({ url: `${host.proxyUrl}/`, amount: 2000, rate: RATE, connections: CONNECTIONS, countHeader: 'x-stagegate-version' });
  await host.client.setTraffic({ weights: { v1: 100, v2: 0 } });
  const v1 = l.byHeader['v1'] ?? 0;
  const v2 = l.byHeader['v2'] ?? 0;
  const total = Object.values(l.byHeader).reduce((a, b) => a + b, 0);
  const share = (n: number) => (total === 0 ? 0 : (n / total) * 100);
  const errorPp = Math.max(Math.abs(share(v2) - 10), Math.abs(share(v1) - 90));
  progress(`rollout accuracy: ${JSON.stringify(l.byHeader)} -> off by ${round3(errorPp)} pp (${l.failed} failed)`);
  return { counts: l.byHeader, total, v1SharePct: round3(share(v1)), v2SharePct: round3(share(v2)), errorPp: round3(errorPp), failed: l.failed };
}

/** sustained 300 requests/s at 50/50; the host process sampled at the start and every 10 s */
export async function measureMemory(host: BenchHost, load: LoadFn, seconds: number) {
  await host.client.setTraffic({ weights: { v1: 50, v2: 50 } });
  const pid = host.hostPid();
  const t0 = Date.now();
  const at = () => round3((Date.now() - t0) / 1000);
  const samples: ProcSample[] = [];
  let done = false;
  const loading = load({ url: `${host.proxyUrl}/`, rate: RATE, seconds, connections: CONNECTIONS }).finally(() => {
    done = true;
  });
  // at 0.5 s (the load generator's connections are open), every 10 s, and 0.5 s before the load ends
  const times = [0.5];
  for (let t = 10; t < seconds - 0.5; t += 10) times.push(t);
  times.push(seconds - 0.5);
  for (const t of times) {
    await sleep(Math.max(0, t * 1000 - (Date.now() - t0)));
    if (done) break;
    samples.push(procSample(pid, at()));
    progress(`rollout memory at ${samples.at(-1)!.atSeconds} s: RSS ${round3(samples.at(-1)!.rssMiB)} MiB, ${samples.at(-1)!.sockets} sockets`);
  }
  const l = await loading;
  await host.client.setTraffic({ weights: { v1: 100, v2: 0 } });
  const first = samples.slice(0, 3);
  const last = samples.slice(-3);
  const med = (xs: ProcSample[], k: 'rssMiB' | 'sockets') => median(xs.map((x) => x[k]));
  return {
    seconds,
    hostPid: pid,
    requests: l.requests,
    failed: l.failed,
    samples,
    rssFirstMiB: round3(med(first, 'rssMiB')),
    rssLastMiB: round3(med(last, 'rssMiB')),
    rssGrowthMiB: round3(med(last, 'rssMiB') - med(first, 'rssMiB')),
    rssMaxMiB: round3(Math.max(...samples.map((s) => s.rssMiB))),
    socketsFirst: med(first, 'sockets'),
    socketsLast: med(last, 'sockets'),
    socketGrowth: med(last, 'sockets') - med(first, 'sockets'),
  };
}
