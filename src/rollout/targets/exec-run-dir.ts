/**
 * Files of an exec step's run directory: whole-file JSON reads, atomic and exclusive writes, output
 * tails, and whether a recorded process is still the same live process (Linux /proc).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../../domain/errors.ts';

const TAIL_BYTES = 4096;

export const errno = (e: unknown): unknown => (typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined);

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // every file here is written whole (rename or link), so this is damage from outside
    throw new DomainError('internal', `${path} is not valid JSON`, {
      file: path,
      fix: 'the run directory was damaged; check the target by hand, then retry the promotion',
    });
  }
}

async function writeTemp(path: string, text: string): Promise<string> {
  // unique per call: two concurrent writes in one process and millisecond must not share a temp file
  const tmp = `${path}.${process.pid}.${Date.now()}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}
export async function writeAtomic(path: string, text: string): Promise<void> {
  await rename(await writeTemp(path, text), path);
}
/** create `path` holding `text` only if it does not exist; link(2) is atomic and exclusive */
export async function createExclusive(path: string, text: string): Promise<boolean> {
  const tmp = await writeTemp(path, text);
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp);
  }
}

/** boot id + kernel start time (as the supervisor records it) and state of a process; Linux only */
export function procState(pid: number): { identity: string; state: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return { identity: `${boot}:${fields[19] ?? ''}`, state: fields[0] ?? '' };
}
/** is this the very process that was recorded (not a zombie, not a reused pid)? */
export function isAlive(pid: number, identity: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errno(e) !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const now = procState(pid);
    return now.state !== 'Z' && now.state !== 'X' && (identity === null || identity === now.identity);
  } catch {
    return false;
  }
}

export async function tail(runDir: string, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let need = TAIL_BYTES;
  for (const file of [name, `${name}.1`]) {
    try {
      const buf = await readFile(join(runDir, file));
      chunks.unshift(buf.subarray(Math.max(0, buf.length - need)));
      need -= Math.min(need, buf.length);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    if (need === 0) break;
  }
  let all = Buffer.concat(chunks);
  while (all.length > 0 && ((all[0] ?? 0) & 0xc0) === 0x80) all = all.subarray(1); // a cut UTF-8 sequence
  return all.toString('utf8');
}
