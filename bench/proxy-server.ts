/**
 * Child process of the proxy benchmark: runs one weighted proxy (its own process, so its RSS and
 * sockets are the proxy's alone) and exposes its API to the parent over IPC, plus `probe` (RSS, heap,
 * open TCP sockets of this process).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { createWeightedProxy, type WeightedProxy } from '../src/rollout/proxy/proxy.ts';
import { serveOps } from './proxy-ipc.ts';

let proxy: WeightedProxy | undefined;
const events: string[] = [];
const quiet = () => undefined;
const need = (): WeightedProxy => {
  if (!proxy) throw new Error('call start first');
  return proxy;
};

/**
 * sockets this process holds open, idle keep-alive ones included: the socket entries of /proc/self/fd
 * (Linux; the IPC channel to the parent counts as one), else the referenced TCP handles Node reports
 */
function openSockets(): number {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap').length;
  }
}

serveOps({
  async start(a: { backends: { version: string; url: string }[]; weights: Record<string, number> }) {
    proxy = await createWeightedProxy({ ...a, logger: { info: quiet, warn: quiet }, clock: () => new Date(), onEvent: (e) => events.push(`${e.type}: ${e.message}`) });
    return proxy.url;
  },
  setWeights: (w: Record<string, number>) => need().setWeights(w),
  drain: (a: { version: string; timeoutMs: number }) => need().drain(a.version, a.timeoutMs),
  undrain: (v: string) => need().undrain(v),
  stats: () => need().stats(),
  resetStats: () => need().resetStats(),
  events: () => events.splice(0),
  probe: () => {
    globalThis.gc?.();
    return { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, tcpSockets: openSockets() };
  },
  close: async () => {
    await proxy?.close();
    return null;
  },
});
