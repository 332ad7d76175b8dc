/**
 * The exec target's `observe` command: run without a shell, with a timeout, its output bounded.
 * Every failure (cannot start, non-zero exit, timeout, too much output) is an outcome, never a throw.
 */
import { spawn } from 'node:child_process';
import type { ObserveOutcome } from '../target.ts';

export interface ObserveSpec {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** stdout beyond this many bytes kills the command; default 1 MiB */
  maxBytes?: number;
}

const STDERR_TAIL = 2000;

export function runObserve(spec: ObserveSpec): Promise<ObserveOutcome> {
  const max = spec.maxBytes ?? 1024 * 1024;
  const cmd = spec.argv.join(' ').slice(0, 200);
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: ObserveOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: { ...(process.env['PATH'] ? { PATH: process.env['PATH'] } : {}), ...(process.env['HOME'] ? { HOME: process.env['HOME'] } : {}), ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      detached: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      kill();
      done({ ok: false, error: `observe command \`${cmd}\` timed out after ${spec.timeoutMs} ms and was killed; make it answer faster or raise timeoutSeconds of the target` });
    }, spec.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > max) {
        kill();
        done({ ok: false, error: `observe command \`${cmd}\` printed more than ${max} bytes; print only the observed-state JSON` });
        return;
      }
      out.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.on('error', (e) => done({ ok: false, error: `observe command \`${cmd}\` could not start: ${e.message}; check the observe argv of the target` }));
    child.on('close', (code, signal) => {
      if (code === 0) done({ ok: true, output: Buffer.concat(out).toString('utf8') });
      else {
        const tail = err.trim().split('\n').slice(-5).join('\n');
        done({ ok: false, error: `observe command \`${cmd}\` ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${tail ? `: ${tail}` : ''}` });
      }
    });
  });
}
