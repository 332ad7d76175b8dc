/**
 * A project on the `local` target for rollout tests and benchmarks: the shop's checkout service run
 * as real child processes behind the local host's proxy. Releases carry `server.js` (the artifact,
 * optionally with a fault: a share of requests answered 500) and the service's config files.
 */
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRelease } from '../../src/engine/release-create.ts';
import { type Fixture, makeFixture } from './fixture.ts';

export const localProject = (rollout: string, extra = '') => (y: string) =>
  `${y
    .replace(/targets:\n[\s\S]*?\nenvironments:/, `targets:
  local-exec:
    type: exec
    deploy: ["node", "deploy.js"]
    verify: ["node", "verify.js"]
    timeoutSeconds: 60
  local:
    type: local
    command: ["node", "server.js"]
    readiness: { interval: 100ms, timeout: 1s, startTimeout: 20s }
    restart: { maxRestarts: 2, backoff: 100ms }
    drainTimeout: 2s
    killGrace: 1s
    timeoutSeconds: 60
environments:`)
    .replace(/(- name: prod\n\s+tier: prod\n\s+target: )local-exec/, '$1local')
    .replace(/minSoak: 10s/, `minSoak: 0s\n${rollout}`)}${extra}`;

/** a release whose server answers `failRate` of its requests (not /healthz) with 500 */
export async function makeServiceRelease(fx: Fixture, version: string, opts: { failRate?: number; configNote?: string } = {}) {
  const dir = path.join(fx.dir, `build-${version}`);
  mkdirSync(dir, { recursive: true });
  const base = await readFile(path.join(fx.projectDir, 'checkout', 'server.js'), 'utf8');
  const fault = opts.failRate
    ? `\nconst failRate = ${opts.failRate};\nconst realEmit = server.emit.bind(server);\nserver.emit = (ev, req, res) => {\n  if (ev === 'request' && req.url !== '/healthz' && Math.random() < failRate) {\n    res.writeHead(500, { 'content-type': 'text/plain' });\n    res.end('injected bug\\n');\n    return true;\n  }\n  return realEmit(ev, req, res);\n};\n`
    : '';
  await writeFile(path.join(dir, 'server.js'), `${base}${fault}\n// build ${version}\n`);
  const configDir = path.join(fx.projectDir, 'checkout', 'config');
  if (opts.configNote) await writeFile(path.join(configDir, 'app.yaml'), `${await readFile(path.join(configDir, 'app.yaml'), 'utf8')}\n# ${opts.configNote}\n`);
  const r = await createRelease({
    service: 'checkout',
    version,
    artifacts: [path.join(dir, 'server.js')],
    images: [],
    configDir,
    privateKeyPem: await readFile(fx.keyFile, 'utf8'),
  });
  return { ...r, artifact: path.join(dir, 'server.js'), configDir };
}

export async function makeLocalFixture(rollout: string, extra = ''): Promise<Fixture> {
  return makeFixture(localProject(rollout, extra));
}
