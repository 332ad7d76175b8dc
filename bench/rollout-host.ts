/**
 * The rollout benchmark's real `local` host: a detached host process (createLocalHostClient) running
 * two versions of the sample service, plus what the benchmark reads of it from outside: the host
 * pid from host.json, its VmRSS and its open sockets from /proc, and each version's direct URL.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalHostClient, type LocalHostClient } from '../src/rollout/local/host-client.ts';
import { MiB } from './util.ts';

const SAMPLE = fileURLToPath(new URL('../src/rollout/local/testing/sample-service.js', import.meta.url));

export interface BenchHost {
  client: LocalHostClient;
  proxyUrl: string;
  hostDir: string;
  /** put a version (a new release id each time) and wait until it is ready */
  put(version: string): Promise<void>;
  /** http://127.0.0.1:<port> of the version's only instance */
  directUrl(version: string): Promise<string>;
  hostPid(): number;
}

let releases = 0;

export async function startBenchHost(dir: string): Promise<BenchHost> {
  const hostDir = path.join(dir, 'host');
  const client = createLocalHostClient({ hostDir, startTimeoutMs: 30_000 });
  const { proxyUrl } = await client.ensure({ environment: 'bench', service: 'sample' });
  const put = async (version: string) => {
    releases += 1;
    await client.putVersion(version, {
      releaseId: `bench-${version}-${releases}`,
      cwd: dir,
      argv: [process.execPath, SAMPLE],
      readiness: { intervalMs: 200, timeoutMs: 1000, failureThreshold: 3, startTimeoutMs: 20_000 },
      drainTimeoutMs: 10_000,
      killGraceMs: 2000,
    });
    const s = await client.waitReady(version, 30_000);
    if (s.phase !== 'ready') throw new Error(`bench host: ${version} did not become ready: ${s.message}`);
  };
  return {
    client,
    proxyUrl,
    hostDir,
    put,
    async directUrl(version) {
      const v = (await client.state()).versions.find((x) => x.version === version);
      const port = v?.instances[0]?.port;
      if (!port) throw new Error(`bench host: ${version} has no instance with a port`);
      return `http://127.0.0.1:${port}`;
    },
    hostPid() {
      const hj = JSON.parse(readFileSync(path.join(hostDir, 'host.json'), 'utf8')) as { pid: number };
      return hj.pid;
    },
  };
}

export interface ProcSample {
  atSeconds: number;
  rssMiB: number;
  sockets: number;
}

/** VmRSS (MiB) from /proc/<pid>/status and the count of /proc/<pid>/fd entries that are sockets */
export function procSample(pid: number, atSeconds: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return { atSeconds, rssMiB: (kb * 1024) / MiB, sockets };
}
