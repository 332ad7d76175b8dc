/**
 * The server's side of a local host: `ensure` starts the detached host for one environment and
 * service unless a live one already answers (never two: a create-exclusive start.lock), and every
 * other call is one control request with a deadline. See docs/local-target.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DomainError } from '../../domain/errors.ts';
import { createExclusive, isAlive, procState, readJson, tail, writeAtomic } from '../targets/exec-run-dir.ts';
import { type ControlTarget, controlRequest } from './control-request.ts';
import { parse } from './control-routes.ts';
import type { HostEvent } from './event-log.ts';
import { type HostJson, hostFiles } from './host-files.ts';
import type { VersionState } from './version-runner.ts';
import { type HostSpecInput, hostSpecSchema, type HostSpec, type Traffic, type VersionSpecInput } from './version-spec.ts';

const HOST_BIN = fileURLToPath(new URL('../../../bin/stagegate-local-host.js', import.meta.url));
type LogFn = (obj: object, msg: string) => void;
export interface HostState {
  pid: number;
  proxyUrl: string;
  spec: HostSpec;
  versions: VersionState[];
  weights: Record<string, number>;
  headerRoutes: NonNullable<Traffic['headerRoutes']>;
}
export interface StopResult {
  drained: boolean;
  inFlight: number;
  waitedMs: number;
}

const myIdentity = (): string | null => {
  try {
    return procState(process.pid).identity;
  } catch {
    return null;
  }
};

export function createLocalHostClient(opts: { hostDir: string; logger?: { info: LogFn; warn: LogFn }; startTimeoutMs?: number; timeoutMs?: number }) {
  const hostDir = resolve(opts.hostDir);
  const files = hostFiles(hostDir);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  let name = `local host in ${hostDir}`;
  let target: ControlTarget | undefined;
  const tgt = async (): Promise<ControlTarget> => {
    target ??= { socketPath: files.socket, token: (await readFile(files.token, 'utf8')).trim(), name };
    return target;
  };
  const call = async <T>(method: string, path: string, body?: unknown, ms = timeoutMs): Promise<T> => controlRequest<T>(await tgt(), method, path, body, ms);
  const seg = encodeURIComponent;

  /** the running host's state, or undefined when none runs; throws when one runs but does not answer */
  const liveHost = async (): Promise<HostState | undefined> => {
    const hj = await readJson<HostJson>(files.hostJson).catch(() => undefined);
    if (!hj || !Number.isInteger(hj.pid) || !isAlive(hj.pid, hj.identity ?? null)) return undefined;
    return call<HostState>('GET', '/state', undefined, 5000);
  };
  const check = (live: HostState, spec: HostSpec): { proxyUrl: string } => {
    const same = live.spec.environment === spec.environment && live.spec.service === spec.service;
    const portOk = spec.listen.port === 0 || live.spec.listen.port === spec.listen.port;
    if (!same || !portOk) {
      throw new DomainError('conflict', `${name} already runs for ${live.spec.environment}/${live.spec.service} on ${live.spec.listen.host}:${live.spec.listen.port} (${live.proxyUrl}), but the spec asks for ${spec.environment}/${spec.service} on ${spec.listen.host}:${spec.listen.port}`, {
        field: same ? 'listen.port' : 'service',
        fix: 'shut the running host down (shutdown()) after moving its traffic, or use another host directory',
      });
    }
    return { proxyUrl: live.proxyUrl };
  };
  const takeLock = async (deadline: number, spec: HostSpec): Promise<{ proxyUrl: string } | undefined> => {
    for (;;) {
      if (await createExclusive(files.startLock, JSON.stringify({ pid: process.pid, identity: myIdentity() }))) return undefined;
      const lock = await readJson<{ pid: number; identity: string | null }>(files.startLock).catch(() => undefined);
      if (lock && !isAlive(lock.pid, lock.identity)) {
        const again = await readFile(files.startLock, 'utf8').catch(() => '');
        if (again === JSON.stringify(lock)) await rm(files.startLock, { force: true });
        continue;
      }
      await sleep(100);
      const live = await liveHost().catch(() => undefined);
      if (live) return check(live, spec);
      if (Date.now() > deadline) throw new DomainError('unavailable', `${name}: another caller has been starting the host for over ${startTimeoutMs} ms (${files.startLock})`, { field: 'host', fix: `check ${files.log}; remove ${files.startLock} if no stagegate process is starting it` });
    }
  };
  const startHost = async (deadline: number): Promise<{ proxyUrl: string }> => {
    await rm(files.hostJson, { force: true });
    const fd = openSync(files.log, 'a', 0o600);
    let exited: string | undefined;
    try {
      const child = spawn(process.execPath, [HOST_BIN, hostDir], { cwd: hostDir, detached: true, stdio: ['ignore', fd, fd], env: { ...(process.env.PATH ? { PATH: process.env.PATH } : {}), ...(process.env.HOME ? { HOME: process.env.HOME } : {}) } });
      child.on('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `code ${code}`)).on('error', (e) => (exited = e.message));
      child.unref();
      opts.logger?.info({ hostDir, pid: child.pid }, 'local host started');
    } finally {
      closeSync(fd);
    }
    for (;;) {
      await sleep(100);
      const live = await liveHost().catch(() => undefined);
      if (live) return { proxyUrl: live.proxyUrl };
      if (exited || Date.now() > deadline) {
        const why = (await tail(hostDir, 'host.log')).split('\n').filter(Boolean).slice(-3).join('\n');
        throw new DomainError('unavailable', `${name} ${exited ? `exited with ${exited}` : `did not answer within ${startTimeoutMs} ms`} while starting; last lines of host.log:\n${why}`, { field: 'host', fix: `read ${files.log}; fix the host spec (e.g. a busy listen port) and call ensure again` });
      }
    }
  };

  return {
    hostDir,
    async ensure(input: HostSpecInput): Promise<{ proxyUrl: string }> {
      const spec = parse(hostSpecSchema, input, 'hostSpec');
      name = `local host of ${spec.environment}/${spec.service}`;
      if (target) target.name = name;
      await mkdir(hostDir, { recursive: true, mode: 0o700 });
      await chmod(hostDir, 0o700);
      await createExclusive(files.token, randomBytes(32).toString('hex'));
      const live = await liveHost();
      if (live) return check(live, spec);
      const deadline = Date.now() + startTimeoutMs;
      const other = await takeLock(deadline, spec);
      if (other) return other;
      try {
        const again = await liveHost();
        if (again) return check(again, spec);
        await writeAtomic(files.spec, JSON.stringify(spec));
        return await startHost(deadline);
      } finally {
        await rm(files.startLock, { force: true });
      }
    },
    state: () => call<HostState>('GET', '/state'),
    putVersion: (v: string, spec: VersionSpecInput) => call<VersionState>('PUT', `/versions/${seg(v)}`, spec),
    waitReady: (v: string, ms: number) => call<VersionState>('GET', `/versions/${seg(v)}/wait-ready?timeoutMs=${Math.min(ms, 120_000)}`, undefined, Math.min(ms, 120_000) + timeoutMs),
    setTraffic: (t: Traffic) => call<{ weights: Record<string, number> }>('PUT', '/traffic', t),
    inject: (version: string, fault: { latencyMs?: number; errorRate?: number }) => call<unknown>('PUT', '/inject', { version, ...fault }),
    stats: () => call<Record<string, unknown>>('GET', '/stats'),
    resetStats: () => call<unknown>('POST', '/stats/reset'),
    stopVersion: (v: string, o: { drainTimeoutMs?: number } = {}) =>
      call<StopResult>('DELETE', `/versions/${seg(v)}${o.drainTimeoutMs === undefined ? '' : `?drainTimeoutMs=${o.drainTimeoutMs}`}`, undefined, (o.drainTimeoutMs ?? 10_000) + 120_000),
    events: (after = 0) => call<{ events: HostEvent[] }>('GET', `/events?after=${after}`).then((r) => r.events),
    /** stop every version and the host; resolves once the host process is gone (or after 2 minutes) */
    async shutdown(): Promise<void> {
      const hj = await readJson<HostJson>(files.hostJson).catch(() => undefined);
      if (!hj || !isAlive(hj.pid, hj.identity ?? null)) return;
      await call('POST', '/shutdown');
      const end = Date.now() + 120_000;
      while (isAlive(hj.pid, hj.identity ?? null) && Date.now() < end) await sleep(50);
    },
  };
}
export type LocalHostClient = ReturnType<typeof createLocalHostClient>;
