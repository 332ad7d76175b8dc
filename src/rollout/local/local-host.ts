/**
 * The core of a local host (one per environment and service): its weighted proxy, its versions
 * (a VersionRunner each) and the traffic split. A version joins the proxy with weight 0 once ready,
 * is marked draining in the proxy while none of its instances is ready, and leaves it (drained) when
 * stopped. Every change of versions or traffic is persisted through `persist` (desired.json).
 */
import { stat } from 'node:fs/promises';
import { DomainError } from '../../domain/errors.ts';
import { createWeightedProxy, type WeightedProxy } from '../proxy/proxy.ts';
import type { createEventLog } from './event-log.ts';
import type { HostFiles } from './host-files.ts';
import { type LocalServer, startBalancer, startPlaceholder } from './local-servers.ts';
import { createVersionRunner, type VersionRunner } from './version-runner.ts';
import type { HostSpec, Traffic, VersionSpec } from './version-spec.ts';

/** the proxy's placeholder version: takes 100% while no traffic is set; hidden from state and stats */
export const PLACEHOLDER = 'stagegate.none';
type LogFn = (obj: object, msg: string) => void;
export interface Desired {
  versions: Record<string, VersionSpec>;
  traffic: Traffic | null;
}

export async function createLocalHost(deps: { spec: HostSpec; files: HostFiles; events: ReturnType<typeof createEventLog>; logger: { info: LogFn; warn: LogFn }; clock: () => Date; persist: (d: Desired) => void }) {
  const { spec, files, events } = deps;
  const placeholder = await startPlaceholder(`${spec.service} in ${spec.environment}`);
  const proxy: WeightedProxy = await createWeightedProxy({
    listen: spec.listen,
    backends: [{ version: PLACEHOLDER, url: placeholder.url }],
    weights: { [PLACEHOLDER]: 100 },
    ...(spec.breaker ? { breaker: spec.breaker } : {}),
    ...(spec.proxyTimeoutMs ? { proxyTimeoutMs: spec.proxyTimeoutMs } : {}),
    logger: deps.logger,
    clock: deps.clock,
    onEvent: (e) => events.push(e.type, e.message, e.version),
  }).catch(async (e) => {
    await placeholder.close();
    throw e;
  });
  const runners = new Map<string, VersionRunner>();
  const balancers = new Map<string, LocalServer>();
  const inProxy = new Set<string>();
  const stops = new Map<string, Promise<{ drained: boolean; inFlight: number; waitedMs: number }>>();
  let traffic: Traffic | null = null;

  const persist = () => deps.persist({ versions: Object.fromEntries([...runners].map(([v, r]) => [v, r.spec])), traffic });
  const userWeights = (): Record<string, number> => Object.fromEntries(Object.entries(proxy.weights()).filter(([v]) => v !== PLACEHOLDER));

  /** keep the proxy in step with a runner: add once ready, mark draining while no instance is ready */
  const sync = async (r: VersionRunner): Promise<void> => {
    const v = r.version;
    if (runners.get(v) !== r || r.phase() === 'draining' || r.phase() === 'stopped') return;
    if (!inProxy.has(v) && r.phase() === 'ready') {
      inProxy.add(v);
      let url = `http://127.0.0.1:${r.firstPort()}`;
      if (r.spec.replicas > 1) {
        const b = await startBalancer(v, () => r.readyPorts());
        balancers.set(v, b);
        url = b.url;
      }
      proxy.addBackend({ version: v, url });
    }
    if (!inProxy.has(v)) return;
    const draining = proxy.stats().versions[v]?.draining ?? false;
    if (r.inRotation() && draining) proxy.undrain(v);
    if (!r.inRotation() && !draining) void proxy.drain(v, 0);
  };

  const ready = (version: string, field: string): void => {
    const r = runners.get(version);
    if (r?.phase() !== 'ready' || !inProxy.has(version)) {
      throw new DomainError('conflict', `version ${version} is ${r ? r.phase() : 'not deployed on this host'}, not ready; traffic can only go to ready versions`, { field, fix: 'put the version and wait until it is ready (wait-ready) first' });
    }
  };

  const host = {
    proxyUrl: proxy.url,
    state: () => ({ versions: [...runners.values()].map((r) => r.state()), weights: userWeights(), headerRoutes: traffic?.headerRoutes ?? [] }),
    get: (version: string): VersionRunner => {
      const r = runners.get(version);
      if (!r) throw new DomainError('not_found', `version ${version} is not deployed on this host`, { field: 'version', fix: 'put it first (PUT /versions/{version})' });
      return r;
    },
    async putVersion(version: string, vs: VersionSpec) {
      if (version === PLACEHOLDER) throw new DomainError('invalid_input', `version name ${PLACEHOLDER} is reserved by the local host`, { field: 'version', fix: 'use another version name' });
      const cur = runners.get(version);
      if (cur?.phase() === 'draining') throw new DomainError('conflict', `version ${version} is being stopped`, { field: 'version', fix: 'wait for the stop (DELETE) to finish, then put it again' });
      if (cur) {
        if (cur.spec.releaseId !== vs.releaseId) {
          throw new DomainError('conflict', `version ${version} already runs release ${cur.spec.releaseId}, not ${vs.releaseId}`, { field: 'releaseId', fix: `stop version ${version} first (DELETE /versions/${version}), or deploy under another version` });
        }
        return cur.state();
      }
      const dir = await stat(vs.cwd).catch(() => undefined);
      if (!dir?.isDirectory()) throw new DomainError('invalid_input', `cwd ${vs.cwd} is not a directory on the host`, { field: 'body.cwd', fix: 'pass the absolute path of the directory holding the release artifacts' });
      const raced = runners.get(version); // a concurrent put of the same version won the race
      if (raced) {
        if (raced.spec.releaseId !== vs.releaseId) throw new DomainError('conflict', `version ${version} already runs release ${raced.spec.releaseId}, not ${vs.releaseId}`, { field: 'releaseId', fix: `stop version ${version} first` });
        return raced.state();
      }
      if (runners.size >= 31) throw new DomainError('invalid_input', 'a local host runs at most 31 versions', { field: 'version', fix: 'stop a version first' });
      const r = createVersionRunner({ version, spec: vs, files, emit: events.push, onChange: () => void sync(r).catch((e) => deps.logger.warn({ err: e }, 'local host: proxy sync failed')) });
      runners.set(version, r);
      persist();
      await r.start();
      return r.state();
    },
    setTraffic(t: Traffic) {
      // weight > 0 needs a ready version; a weight-0 entry for a version the proxy lacks is dropped
      for (const [v, w] of Object.entries(t.weights)) if (w > 0) ready(v, `weights.${v}`);
      for (const [i, h] of (t.headerRoutes ?? []).entries()) ready(h.version, `headerRoutes[${i}].version`);
      const weights = Object.fromEntries(Object.entries(t.weights).filter(([v, w]) => w > 0 || inProxy.has(v)));
      const empty = Object.keys(weights).length === 0;
      proxy.setHeaderRoutes(t.headerRoutes ?? []);
      proxy.setWeights({ ...weights, [PLACEHOLDER]: empty ? 100 : 0 });
      traffic = { weights, ...(t.headerRoutes ? { headerRoutes: t.headerRoutes } : {}) };
      persist();
      return { weights: userWeights(), headerRoutes: t.headerRoutes ?? [] };
    },
    inject(version: string, fault: { latencyMs?: number; errorRate?: number }) {
      ready(version, 'version');
      proxy.inject(version, fault);
    },
    stats() {
      const s = proxy.stats();
      const { [PLACEHOLDER]: _p, ...versions } = s.versions;
      return { ...s, weights: userWeights(), versions };
    },
    resetStats: () => proxy.resetStats(),
    stopVersion(version: string, drainTimeoutMs?: number) {
      const r = runners.get(version);
      if (!r) return Promise.resolve({ drained: true, inFlight: 0, waitedMs: 0 });
      const pending = stops.get(version);
      if (pending) return pending;
      const w = proxy.weights()[version] ?? 0;
      if (w > 0) throw new DomainError('conflict', `version ${version} still has weight ${w}`, { field: `weights.${version}`, fix: 'move its traffic to other versions (PUT /traffic) first' });
      const route = (traffic?.headerRoutes ?? []).find((h) => h.version === version);
      if (route) throw new DomainError('conflict', `header route ${route.header}: ${route.value} still points at version ${version}`, { field: 'headerRoutes', fix: 'change the header routes (PUT /traffic) first' });
      r.setDraining();
      const p = (async () => {
        let result = { drained: true, inFlight: 0, waitedMs: 0 };
        if (inProxy.has(version)) {
          const d = await proxy.removeBackend(version, { drainTimeoutMs: drainTimeoutMs ?? r.spec.drainTimeoutMs });
          result = { drained: d.drained, inFlight: d.inFlight, waitedMs: d.waitedMs };
          inProxy.delete(version);
        }
        await r.stop();
        await balancers.get(version)?.close();
        balancers.delete(version);
        runners.delete(version);
        if (traffic) traffic = { ...traffic, weights: Object.fromEntries(Object.entries(traffic.weights).filter(([v]) => v !== version)) };
        persist();
        return result;
      })().finally(() => stops.delete(version));
      stops.set(version, p);
      return p;
    },
    /** stop everything: close the proxy (in-flight requests finish), then kill every version's instances */
    async close(): Promise<void> {
      await proxy.close();
      await Promise.all([...runners.values()].map((r) => r.stop()));
      await Promise.all([...balancers.values()].map((b) => b.close()));
      await placeholder.close();
      runners.clear();
    },
  };
  return host;
}
export type LocalHost = Awaited<ReturnType<typeof createLocalHost>>;
