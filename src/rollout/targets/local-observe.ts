/**
 * What runs on the `local` target, for drift (docs/parity-and-drift.md): per service of an
 * environment, the version with the most traffic in its host, the sha256 of every file in the folder
 * that version runs from (named as the release's subjects are) and its effective configuration. The
 * folder of each version is recorded when it starts (`versions.json` beside the host's folder). A
 * host that does not answer reports nothing for its service: it never starts one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ObserveOutcome } from '../target.ts';
import { createLocalHostClient } from '../local/host-client.ts';

const INDEX = 'versions.json';
const indexSchema = z.record(z.string().max(128), z.string().max(4096));
/** a service folder's run folders are small (an artifact and its config): bound the walk anyway */
const MAX_FILES = 10_000;

async function readIndex(serviceDir: string): Promise<Record<string, string>> {
  const text = await readFile(path.join(serviceDir, INDEX), 'utf8').catch(() => '{}');
  const parsed = indexSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : {};
}

/** remember where a version runs from, in the host folder of its service */
export async function recordVersionDir(serviceDir: string, version: string, artifactsDir: string): Promise<void> {
  const index = { ...(await readIndex(serviceDir)), [version]: artifactsDir };
  await writeFile(path.join(serviceDir, INDEX), `${JSON.stringify(index)}\n`, { mode: 0o600 });
}

async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries.slice(0, MAX_FILES)) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    const name = path.relative(dir, full).split(path.sep).join('/');
    if (name === 'effective-config.json') continue;
    out[name] = `sha256:${createHash('sha256').update(await readFile(full)).digest('hex')}`;
  }
  return out;
}

/** every service folder under `envDir` (`<envDir>/<service>` is that service's host folder) */
export async function observeLocal(envDir: string): Promise<ObserveOutcome> {
  const services: Record<string, unknown> = {};
  const names = await readdir(envDir).catch(() => [] as string[]);
  for (const service of names) {
    const hostDir = path.join(envDir, service);
    const state = await createLocalHostClient({ hostDir, timeoutMs: 5_000 })
      .state()
      .catch(() => undefined);
    const serving = Object.entries(state?.weights ?? {}).sort((a, b) => b[1] - a[1])[0];
    if (!serving || serving[1] === 0) continue;
    const [version] = serving;
    const dir = (await readIndex(hostDir))[version];
    if (!dir) {
      services[service] = { version };
      continue;
    }
    const effective = await readFile(path.join(dir, 'effective-config.json'), 'utf8').catch(() => undefined);
    const config = effective ? (JSON.parse(effective) as { document?: unknown }).document : undefined;
    services[service] = { version, digests: await digests(dir), ...(config ? { config } : {}) };
  }
  return { ok: true, output: JSON.stringify({ services }) };
}
