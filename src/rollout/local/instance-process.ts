/**
 * One instance process: spawned without a shell in its own process group (detached), stdout and
 * stderr appended to `<hostDir>/<version>/instance-<n>.log` (rotated at 1 MiB), the last stderr
 * lines kept in memory, its pid and identity in `instance-<n>.pid` so a restarted host can kill an
 * orphan. `stopGroup` sends SIGTERM to the whole group, waits, then SIGKILLs it (grandchildren too).
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errno, procState, writeAtomic } from '../targets/exec-run-dir.ts';

const LOG_BYTES = 1024 * 1024;
const TAIL_BYTES = 4096;
const TAIL_LINES = 20;

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** spawn failure (ENOENT, EACCES...) */
  error?: string;
}
export interface InstanceProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<ExitInfo>;
  /** the last stderr lines (at most 20 lines, 4 KiB) */
  stderrTail(): string;
}

function appendLog(path: string) {
  let fd = openSync(path, 'a', 0o600);
  let size = fstatSync(fd).size;
  let broken = false;
  const write = (chunk: Buffer): void => {
    if (broken) return;
    try {
      if (size + chunk.length > LOG_BYTES) {
        closeSync(fd);
        renameSync(path, `${path}.1`);
        fd = openSync(path, 'w', 0o600);
        size = 0;
      }
      writeSync(fd, chunk);
      size += chunk.length;
    } catch {
      broken = true; // disk full or the file went away: stop logging, never stop the host
    }
  };
  const close = (): void => {
    if (!broken) closeSync(fd);
    broken = true;
  };
  return { write, close };
}

export function describeExit(e: ExitInfo): string {
  if (e.error) return `could not start: ${e.error}`;
  return e.signal ? `was killed by signal ${e.signal}` : `exited with code ${e.code}`;
}

export function spawnInstance(o: { argv: string[]; cwd: string; env: Record<string, string>; logPath: string; pidPath: string }): InstanceProcess {
  const log = appendLog(o.logPath);
  let tail = '';
  const child = spawn(o.argv[0]!, o.argv.slice(1), {
    cwd: o.cwd,
    env: { ...(process.env.PATH ? { PATH: process.env.PATH } : {}), ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...o.env },
    detached: true,
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => log.write(c));
  child.once('close', () => log.close());
  child.stderr?.on('data', (c: Buffer) => {
    log.write(c);
    tail = (tail + c.toString('utf8')).slice(-TAIL_BYTES);
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      log.close();
      resolve({ code: null, signal: null, error: `${o.argv[0]}: ${e.code ?? e.message}` });
    });
    // resolve once stdout and stderr are drained (the stderr tail is complete), but do not wait
    // more than a second for a stray process of the group that holds the pipes open
    child.once('exit', (code, signal) => {
      const t = setTimeout(() => resolve({ code, signal }), 1000);
      child.once('close', () => {
        clearTimeout(t);
        resolve({ code, signal });
      });
    });
  });
  if (child.pid) {
    let identity: string | null = null;
    try {
      identity = procState(child.pid).identity;
    } catch {
      // not Linux, or already gone
    }
    writeAtomic(o.pidPath, JSON.stringify({ pid: child.pid, identity })).catch(() => undefined);
  }
  return {
    pid: child.pid,
    exited,
    stderrTail: () =>
      tail
        .split('\n')
        .map((l) => l.trimEnd())
        .filter(Boolean)
        .slice(-TAIL_LINES)
        .join('\n'),
  };
}

/** does any process of group `pgid` still exist? */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}
export const signalGroup = (pgid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(-pgid, sig);
  } catch {
    // already gone
  }
};
async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= end) return false;
    await sleep(25);
  }
  return true;
}

/** SIGTERM the process group, wait up to graceMs for it to go, then SIGKILL it; true when SIGKILL was needed */
export async function stopGroup(pgid: number, graceMs: number): Promise<boolean> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return false;
  signalGroup(pgid, 'SIGKILL');
  await waitGone(pgid, 2000);
  return true;
}
