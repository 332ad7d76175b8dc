/**
 * One GitOps deploy at a time per working folder, within this process: deploys of the same
 * environment and service queue behind each other (the clone is not safe to share). Keyed by the
 * resolved folder, so two target instances over the same work root share the queue.
 */
import { resolve } from 'node:path';

const tails = new Map<string, Promise<unknown>>();

export function withWorkDirLock<T>(workDir: string, fn: () => Promise<T>): Promise<T> {
  const key = resolve(workDir);
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
