/**
 * The files of a local host's directory (`hostDir`, mode 0700): the spec the client writes, the
 * control token (0600), what the running host publishes (host.json), its control socket, its desired
 * state, and one folder per version with each instance's log and pid file.
 */
import { join } from 'node:path';

export const hostFiles = (hostDir: string) => ({
  spec: join(hostDir, 'host-spec.json'),
  token: join(hostDir, 'control.token'),
  hostJson: join(hostDir, 'host.json'),
  socket: join(hostDir, 'control.sock'),
  desired: join(hostDir, 'desired.json'),
  log: join(hostDir, 'host.log'),
  startLock: join(hostDir, 'start.lock'),
  versionDir: (version: string) => join(hostDir, version),
  instanceLog: (version: string, n: number) => join(hostDir, version, `instance-${n}.log`),
  instancePid: (version: string, n: number) => join(hostDir, version, `instance-${n}.pid`),
});
export type HostFiles = ReturnType<typeof hostFiles>;

/** what a running host publishes in host.json (written atomically once it listens) */
export interface HostJson {
  pid: number;
  /** boot id + start time of the host process (see exec-run-dir.ts procState), null off Linux */
  identity: string | null;
  startedAt: string;
  proxyUrl: string;
  controlSocket: string;
}

/** the body limit of control requests */
export const MAX_CONTROL_BODY = 256 * 1024;
/** the longest wait-ready long poll */
export const MAX_WAIT_MS = 120_000;
