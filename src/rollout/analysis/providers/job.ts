/**
 * Run a command without a shell; the result is its exit code (a double). A command that does not
 * start, is killed by a signal or outlives its timeout is an Error measurement; the whole process
 * group is killed at the timeout.
 */
import { spawn } from 'node:child_process';
import type { z } from 'zod';
import { parseFineDuration } from '../../../domain/duration.ts';
import type { Provider } from '../measurement.ts';
import type { jobProviderSchema } from '../provider-schema.ts';

export type JobSpec = z.output<typeof jobProviderSchema>;

const TAIL = 500;

export function jobProvider(spec: JobSpec): Provider {
  const timeoutMs = parseFineDuration(spec.timeout) ?? 10_000;
  const [file, ...args] = spec.command;
  const name = JSON.stringify(file);
  return {
    measure(signal) {
      return new Promise<number>((resolve, reject) => {
        if (signal.aborted) return reject(new Error(`job ${name} aborted`));
        const child = spawn(file as string, args, {
          cwd: spec.cwd,
          env: spec.env ? { PATH: process.env.PATH ?? '', ...spec.env } : process.env,
          shell: false,
          detached: true,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        let why: string | undefined;
        const kill = (reason: string) => {
          why ??= reason;
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        };
        const timer = setTimeout(() => kill(`job ${name} did not finish within ${timeoutMs} ms and was killed: raise the provider's timeout or fix the command`), timeoutMs);
        const onAbort = () => kill(`job ${name} aborted`);
        signal.addEventListener('abort', onAbort, { once: true });
        child.stderr?.on('data', (d: Buffer) => {
          stderr = (stderr + d.toString('utf8')).slice(-TAIL);
        });
        const finish = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
        };
        child.on('error', (e: NodeJS.ErrnoException) => {
          finish();
          reject(new Error(`job ${name} could not start: ${e.code ?? e.message}`));
        });
        child.on('close', (code, sig) => {
          finish();
          if (why) return reject(new Error(why));
          if (code === null) return reject(new Error(`job ${name} was killed by ${sig}${stderr ? `; stderr: ${stderr.trim()}` : ''}`));
          resolve(code);
        });
      });
    },
  };
}
