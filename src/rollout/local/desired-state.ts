/**
 * The host's desired state on disk (`desired.json`: version specs and traffic), written atomically
 * and in order on every change, and what a restarted host does with it: kill the instance process
 * groups its dead predecessor left (identity-checked pid files), put the versions again, wait until
 * they are ready, then apply the traffic.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive, readJson, writeAtomic } from '../targets/exec-run-dir.ts';
import type { Emit } from './event-log.ts';
import type { HostFiles } from './host-files.ts';
import { stopGroup } from './instance-process.ts';
import type { Desired, LocalHost } from './local-host.ts';
import { trafficSchema, versionSchema, versionSpecSchema } from './version-spec.ts';

const desiredSchema = z.strictObject({ versions: z.record(versionSchema, versionSpecSchema), traffic: trafficSchema.nullable() });

export function createDesiredWriter(files: HostFiles, onError: (e: unknown) => void) {
  let chain: Promise<void> = Promise.resolve();
  return {
    write(d: Desired): void {
      const text = JSON.stringify(d);
      chain = chain.then(() => writeAtomic(files.desired, text)).catch(onError);
    },
    flushed: () => chain,
  };
}

/** SIGKILL the process group of every instance a previous host recorded and that still runs */
export async function killOrphans(hostDir: string, emit: Emit): Promise<void> {
  const entries = await readdir(hostDir, { withFileTypes: true });
  for (const d of entries.filter((e) => e.isDirectory())) {
    for (const f of (await readdir(join(hostDir, d.name))).filter((n) => /^instance-\d+\.pid$/.test(n))) {
      const rec = await readJson<{ pid: number; identity: string | null }>(join(hostDir, d.name, f)).catch(() => undefined);
      if (rec && Number.isInteger(rec.pid) && rec.pid > 1 && isAlive(rec.pid, rec.identity)) {
        await stopGroup(rec.pid, 0);
        emit('orphan-killed', `killed the process group ${rec.pid} a previous host left (${d.name}/${f})`, d.name);
      }
    }
  }
}

export async function restoreDesired(host: LocalHost, files: HostFiles, emit: Emit): Promise<void> {
  const raw = await readJson<unknown>(files.desired).catch(() => undefined);
  if (raw === undefined) return;
  const parsed = desiredSchema.safeParse(raw);
  if (!parsed.success) {
    emit('restore-failed', `${files.desired} is not a valid desired state (${parsed.error.issues[0]?.message}); starting empty`);
    return;
  }
  const { versions, traffic } = parsed.data;
  await Promise.all(Object.entries(versions).map(([v, s]) => host.putVersion(v, s)));
  await Promise.all(Object.entries(versions).map(([v, s]) => host.get(v).waitSettled(s.readiness.startTimeoutMs + 1000)));
  if (!traffic) return emit('restored', `restored ${Object.keys(versions).length} version(s), no traffic set`);
  try {
    host.setTraffic(traffic);
    emit('restored', `restored ${Object.keys(versions).length} version(s) and traffic ${JSON.stringify(traffic.weights)}`);
  } catch (e) {
    emit('restore-failed', `restored the versions but not the traffic: ${(e as Error).message}`);
  }
}
