/** Spawning and talking to bench/memory-child.ts: a fresh Node process running TypeScript through tsx. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { benchDir, repoRoot } from './util.ts';

/** the admin token the server child bootstraps with */
export const CHILD_TOKEN = 'sgt_benchadmin01_abcdefghijklmnopqrstuvwxyz0123456789ABCD';

export interface Child {
  proc: ChildProcess;
  /** the next JSON line the child prints */
  next<T>(timeoutMs?: number): Promise<T>;
  send(line: string): void;
  /** stop it (SIGTERM, then SIGKILL) and wait for its exit */
  stop(): Promise<void>;
}

export function spawnChild(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(benchDir, 'memory-child.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const queue: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queue.push(line);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return {
    proc,
    next<T>(timeoutMs = 120_000): Promise<T> {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as T);
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`bench child gave no answer in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
        void exit.then(() => {
          clearTimeout(t);
          reject(new Error(`bench child exited (${proc.exitCode}): ${stderr}`));
        });
        waiters.push((line) => {
          clearTimeout(t);
          try {
            resolve(JSON.parse(line) as T);
          } catch {
            reject(new Error(`bench child printed ${line.slice(0, 200)}`));
          }
        });
      });
    },
    send(line) {
      proc.stdin!.write(`${line}\n`);
    },
    async stop() {
      if (exited) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
}
