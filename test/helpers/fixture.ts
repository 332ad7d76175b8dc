/**
 * Test fixtures: a temporary copy of examples/shop with a fresh signing key, releases made with the
 * real release-create code, and a real server (in this process, or as a child process to kill).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { writeKeyPair } from '../../src/crypto/keys.ts';
import { createRelease } from '../../src/engine/release-create.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(repoRoot, 'bin', 'stagegate.js');
export const ADMIN_TOKEN = 'sgt_testadmin0001_abcdefghijklmnopqrstuvwxyz0123456789ABCD';

export interface Fixture {
  dir: string;
  projectDir: string;
  projectFile: string;
  dataDir: string;
  keyFile: string;
  pubFile: string;
  cleanup(): void;
}

/** copy examples/shop to a temp folder, make the `ci` key; optionally rewrite stagegate.yaml */
export async function makeFixture(edit?: (yaml: string) => string): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-test-'));
  const projectDir = path.join(dir, 'shop');
  cpSync(path.join(repoRoot, 'examples', 'shop'), projectDir, { recursive: true });
  mkdirSync(path.join(projectDir, 'keys'), { recursive: true });
  const keys = await writeKeyPair(path.join(projectDir, 'keys'), 'ci');
  const projectFile = path.join(projectDir, 'stagegate.yaml');
  if (edit) await writeFile(projectFile, edit(await readFile(projectFile, 'utf8')));
  return {
    dir,
    projectDir,
    projectFile,
    dataDir: path.join(dir, 'data'),
    keyFile: keys.privateKeyPath,
    pubFile: keys.publicKeyPath,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** make a signed release of the sample service; returns the bundle and the files to upload */
export async function makeRelease(fx: Fixture, version: string, opts: { keyFile?: string; service?: string; extra?: string } = {}) {
  const artifact = path.join(fx.dir, `server-${version}.js`);
  const base = await readFile(path.join(fx.projectDir, 'checkout', 'server.js'), 'utf8');
  await writeFile(artifact, `${base}\n// build ${version}${opts.extra ?? ''}\n`);
  const r = await createRelease({
    service: opts.service ?? 'checkout',
    version,
    artifacts: [artifact],
    images: [],
    configDir: path.join(fx.projectDir, 'checkout', 'config'),
    privateKeyPem: await readFile(opts.keyFile ?? fx.keyFile, 'utf8'),
  });
  return { ...r, artifact, configDir: path.join(fx.projectDir, 'checkout', 'config') };
}

/** a server in this process, on a random port */
export async function startApp(fx: Fixture, over: Record<string, unknown> = {}): Promise<{ app: App; url: string; token: string }> {
  const config = loadConfig(
    { port: 0, dataDir: fx.dataDir, projectFile: fx.projectFile, reconcileIntervalMs: 50, bootstrapToken: ADMIN_TOKEN, ...over },
    {},
  );
  const app = await createApp({ config, logger: pino({ level: 'silent' }) });
  const addr = await app.listen();
  return { app, url: `http://127.0.0.1:${addr.port}`, token: ADMIN_TOKEN };
}

/** a server as a child process (to kill -9 and restart) */
export async function startServerProcess(fx: Fixture, port = 0): Promise<{ proc: ChildProcess; url: string; token: string }> {
  const proc = spawn(process.execPath, [cliPath, 'serve', '--port', String(port), '--data', fx.dataDir, '--project', fx.projectFile, '--log-level', 'error'], {
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], STAGEGATE_BOOTSTRAP_TOKEN: ADMIN_TOKEN, STAGEGATE_RECONCILE_MS: '50' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited ${code}: ${err}`));
    });
  });
  return { proc, url, token: ADMIN_TOKEN };
}

/** a tiny JSON client for tests */
export function api(url: string, token?: string) {
  return async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
}

/** upload a file's bytes, push the bundle */
export async function push(call: ReturnType<typeof api>, rel: Awaited<ReturnType<typeof makeRelease>>) {
  for (const s of rel.subjects) {
    if (s.kind === 'image') continue;
    const file = s.kind === 'artifact' ? rel.artifact : path.join(rel.configDir, s.name.slice('config/'.length));
    const r = await call('PUT', `/v1/blobs/${s.digest}`, await readFile(file, 'utf8'), { 'content-type': 'application/octet-stream' });
    if (r.status >= 300) throw new Error(`upload ${s.name}: ${r.status} ${r.text}`);
  }
  return call('POST', '/v1/releases', { bundle: rel.bundleJson });
}

/** poll a promotion until it is terminal */
export async function waitTerminal(call: ReturnType<typeof api>, id: string, timeoutMs = 30_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await call('GET', `/v1/promotions/${id}`);
    const p = r.json?.promotion;
    if (p && ['Succeeded', 'Failed', 'Aborted', 'RolledBack'].includes(p.state)) return p;
    if (Date.now() > end) throw new Error(`promotion ${id} still ${p?.state} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
