/**
 * IPC for the proxy benchmark's child processes: the parent forks a child script under tsx and calls
 * named operations on it (`call(op, args)` -> result); the child answers with `serveOps(handlers)`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { benchDir, repoRoot } from './util.ts';

interface Request {
  id: number;
  op: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface Child {
  call<T = unknown>(op: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
  readonly pid: number;
}

export async function forkChild(script: string, args: string[] = []): Promise<Child> {
  const cp: ChildProcess = fork(path.join(benchDir, script), args, { cwd: repoRoot, execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  cp.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`${script}: ${m.error}`));
  });
  const exited = new Promise<void>((resolve) => cp.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`${script} exited`));
    pending.clear();
  });
  const child: Child = {
    pid: cp.pid ?? 0,
    call<T>(op: string, a?: unknown) {
      return new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        cp.send({ id, op, args: a ?? null } satisfies Request);
      });
    },
    async stop() {
      if (cp.exitCode === null && cp.signalCode === null) {
        cp.kill('SIGTERM');
        const t = setTimeout(() => cp.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  await child.call('ping');
  return child;
}

/** in a child: answer the parent's calls with `handlers`; the process exits on SIGTERM or disconnect */
export function serveOps(handlers: Record<string, (args: any) => unknown>): void {
  process.on('message', async (m: Request) => {
    const h = m.op === 'ping' ? () => 'pong' : handlers[m.op];
    try {
      if (!h) throw new Error(`unknown operation ${m.op}`);
      process.send!({ id: m.id, ok: true, result: await h(m.args) } satisfies Reply);
    } catch (e) {
      process.send!({ id: m.id, ok: false, error: (e as Error).message } satisfies Reply);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
