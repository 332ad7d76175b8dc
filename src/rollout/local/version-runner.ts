/**
 * One version's instances: start `replicas` processes on free ports, probe them (readiness, then
 * liveness), restart crashed ones with exponential backoff, and fail the version after maxRestarts
 * restarts or when no instance is ready within startTimeoutMs. `stop` kills every process group.
 * The host is told through `onChange` when the phase or "in rotation" (some instance ready) changes.
 */
import { mkdir } from 'node:fs/promises';
import type { Emit } from './event-log.ts';
import type { HostFiles } from './host-files.ts';
import { describeExit, type InstanceProcess, signalGroup, spawnInstance, stopGroup } from './instance-process.ts';
import { freePort, probe } from './probe.ts';
import type { VersionSpec } from './version-spec.ts';

export type Phase = 'starting' | 'ready' | 'failed' | 'draining' | 'stopped';
interface Instance {
  index: number;
  port: number;
  proc?: InstanceProcess;
  ready: boolean;
  failures: number;
  restarts: number;
  lastExit: string | null;
  probing: boolean;
  timer?: NodeJS.Timeout;
}
export interface VersionState {
  version: string;
  releaseId: string;
  phase: Phase;
  message: string;
  inRotation: boolean;
  restarts: number;
  instances: { index: number; pid: number | null; port: number; ready: boolean; restarts: number; lastExit: string | null }[];
}

export function createVersionRunner(deps: { version: string; spec: VersionSpec; files: HostFiles; emit: Emit; onChange: () => void }) {
  const { version, spec, files } = deps;
  const emit: Emit = (type, message) => deps.emit(type, message, version);
  const insts: Instance[] = Array.from({ length: spec.replicas }, (_, index) => ({ index, port: 0, ready: false, failures: 0, restarts: 0, lastExit: null, probing: false }));
  let phase: Phase = 'starting';
  let message = `starting ${spec.replicas} instance(s)`;
  let restarts = 0;
  let lastProbe = 'none answered yet';
  let stopping = false;
  let startTimer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  const waiters = new Set<() => void>();
  const settle = () => {
    for (const w of [...waiters]) w();
    deps.onChange();
  };

  const launch = (inst: Instance): void => {
    if (stopping) return;
    const env = { ...spec.env, PORT: String(inst.port), STAGEGATE_PORT: String(inst.port), STAGEGATE_VERSION: version, STAGEGATE_RELEASE_ID: spec.releaseId };
    const proc = spawnInstance({ argv: spec.argv, cwd: spec.cwd, env, logPath: files.instanceLog(version, inst.index), pidPath: files.instancePid(version, inst.index) });
    inst.proc = proc;
    inst.failures = 0;
    emit('started', `instance ${inst.index} started: pid ${proc.pid ?? '?'}, port ${inst.port}`);
    proc.exited.then((e) => onExit(inst, proc, describeExit(e)));
  };

  const fail = (why: string): void => {
    if (stopping || phase === 'failed') return;
    phase = 'failed';
    message = why;
    clearTimers();
    emit('failed', why);
    for (const i of insts) i.ready = false;
    settle();
    void killAll();
  };

  const onExit = (inst: Instance, proc: InstanceProcess, how: string): void => {
    if (inst.proc !== proc) return;
    inst.proc = undefined;
    const wasReady = inst.ready;
    inst.ready = false;
    inst.lastExit = how;
    if (stopping || phase === 'failed') return;
    // a crashed instance's strays (processes left in its group) go with it
    if (proc.pid) signalGroup(proc.pid, 'SIGKILL');
    const errs = proc.stderrTail();
    emit('exited', `instance ${inst.index} ${how}`);
    if (wasReady) deps.onChange();
    if (restarts >= spec.restart.maxRestarts) {
      fail(`instance ${inst.index} ${how} after ${restarts} restart(s) of the version (maxRestarts ${spec.restart.maxRestarts})${errs ? `; last lines of stderr:\n${errs}` : ''}`);
      return;
    }
    restarts += 1;
    inst.restarts += 1;
    const delay = Math.min(spec.restart.maxBackoffMs, spec.restart.backoffMs * 2 ** (inst.restarts - 1));
    emit('restarting', `instance ${inst.index} ${how}; restart ${restarts} of at most ${spec.restart.maxRestarts} in ${delay} ms`);
    inst.timer = setTimeout(() => launch(inst), delay);
  };

  const onProbe = (inst: Instance, ok: boolean, why: string): void => {
    if (stopping || phase === 'failed' || !inst.proc) return;
    if (ok) {
      inst.failures = 0;
      if (inst.ready) return;
      inst.ready = true;
      emit('ready', `instance ${inst.index} (port ${inst.port}) is ready`);
      if (phase === 'starting') {
        phase = 'ready';
        message = `ready: instance ${inst.index} passed ${spec.readiness.path}`;
        clearTimeout(startTimer);
      }
      settle();
      return;
    }
    lastProbe = `instance ${inst.index}: ${why}`;
    inst.failures += 1;
    if (inst.ready && inst.failures >= spec.readiness.failureThreshold) {
      inst.ready = false;
      emit('not-ready', `instance ${inst.index} failed ${inst.failures} consecutive probes (${why}); out of rotation`);
      settle();
    }
  };

  const probeAll = (): void => {
    for (const inst of insts) {
      if (!inst.proc || inst.probing) continue;
      inst.probing = true;
      probe(inst.port, spec.readiness.path, spec.readiness.timeoutMs).then((r) => {
        inst.probing = false;
        onProbe(inst, r.ok, r.why);
      });
    }
  };

  const clearTimers = (): void => {
    clearTimeout(startTimer);
    clearInterval(probeTimer);
    for (const i of insts) clearTimeout(i.timer);
  };
  const killAll = async (): Promise<void> => {
    await Promise.all(
      insts.map(async (i) => {
        const pid = i.proc?.pid;
        if (pid) await stopGroup(pid, spec.killGraceMs);
      }),
    );
  };

  return {
    version,
    spec,
    async start(): Promise<void> {
      await mkdir(files.versionDir(version), { recursive: true, mode: 0o700 });
      for (const i of insts) i.port = await freePort();
      for (const i of insts) launch(i);
      probeTimer = setInterval(probeAll, spec.readiness.intervalMs);
      startTimer = setTimeout(() => {
        if (phase === 'starting') fail(`not ready after ${spec.readiness.startTimeoutMs / 1000}s: last probe ${lastProbe}`);
      }, spec.readiness.startTimeoutMs);
    },
    phase: () => phase,
    inRotation: () => phase === 'ready' && insts.some((i) => i.ready),
    readyPorts: () => insts.filter((i) => i.ready).map((i) => i.port),
    firstPort: () => insts[0]!.port,
    setDraining(): void {
      phase = 'draining';
      message = 'draining: no new requests, waiting for in-flight ones';
    },
    /** wait until the phase is no longer 'starting', at most timeoutMs */
    waitSettled(timeoutMs: number): Promise<void> {
      if (phase !== 'starting') return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, timeoutMs);
        waiters.add(done);
      });
    },
    /** kill every instance's process group (SIGTERM, killGraceMs, SIGKILL) */
    async stop(): Promise<void> {
      stopping = true;
      clearTimers();
      for (const i of insts) i.ready = false;
      await killAll();
      phase = 'stopped';
      message = 'stopped';
      emit('stopped', `all ${spec.replicas} instance(s) stopped`);
      for (const w of [...waiters]) w();
    },
    state(): VersionState {
      return {
        version,
        releaseId: spec.releaseId,
        phase,
        message,
        inRotation: phase === 'ready' && insts.some((i) => i.ready),
        restarts,
        instances: insts.map((i) => ({ index: i.index, pid: i.proc?.pid ?? null, port: i.port, ready: i.ready, restarts: i.restarts, lastExit: i.lastExit })),
      };
    },
  };
}
export type VersionRunner = ReturnType<typeof createVersionRunner>;
