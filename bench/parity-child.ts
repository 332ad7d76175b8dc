/**
 * Child process of the parity benchmark (a fresh process, so its peak RSS is the report's own):
 * builds synthetic snapshots of SERVICES services in ENVS environments, then the full parity report
 * (JSON text and table) of every adjacent pair. Prints one JSON line:
 * {"reportMs", "reportCpuMs", "buildMs", "maxRss", "compared", "differences", "findings", "allowed"}.
 */
import { parityTable } from '../src/parity/format.ts';
import { parsePointer } from '../src/parity/pointer.ts';
import { parityReport } from '../src/parity/report.ts';
import type { ParityRule, ParityRules } from '../src/parity/rules.ts';
import type { EnvironmentSnapshot, ServiceSnapshot } from '../src/parity/snapshot.ts';

const SERVICES = Number(process.argv[2] ?? 500);
const ENVS = ['dev', 'test', 'qa', 'staging', 'prod'];
const FLAGS = 200;

/** deterministic pseudo-random numbers, so every run compares the same data */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const hex = (n: number, r: () => number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

/** ~60 leaves: config, runtime, routing, network, dependencies, observability; `drift` changes ~5% of them per environment */
function service(i: number, env: number): ServiceSnapshot {
  const r = rng(i * 7919 + 1);
  const e = rng(i * 104_729 + env * 13 + 7);
  const vary = <T>(base: T, alt: T) => (e() < 0.05 ? alt : base);
  const config: Record<string, unknown> = {};
  for (let k = 0; k < 30; k++) config[`key${k}`] = vary(k % 3 === 0 ? Math.floor(r() * 1000) : `value-${hex(8, r)}`, `env-${env}-${k}`);
  config['db'] = { host: `db-${i}.internal`, pool: vary(10, 10 + env), timeoutMs: 3000 };
  const doc = {
    config,
    runtime: { replicas: vary(3, 1 + env), resources: { cpu: '500m', memory: vary('512Mi', '256Mi') }, probes: { readiness: '/healthz', liveness: '/livez' } },
    routing: { serviceName: `svc-${i}`, port: 8080, routes: [{ path: `/api/svc-${i}`, timeoutMs: vary(5000, 2000) }] },
    network: { mesh: 'enabled', policy: { ingressFrom: ['gateway'], egressTo: [`svc-${(i + 1) % SERVICES}`, 'postgres'] } },
    dependencies: { services: { [`svc-${(i + 1) % SERVICES}`]: '^2.0.0' }, platform: { node: '>=20.19', postgres: '^16.0.0' } },
    observability: { metrics: [`svc_${i}_requests_total`, `svc_${i}_duration_seconds`], traces: { sampling: vary(1, 0.1) }, retention: { logs: vary('7d', '30d'), metrics: '15d' } },
    secrets: { DB_PASSWORD: 'db_password' },
  };
  const version = env >= 3 ? '1.0.0' : '1.1.0';
  return {
    release: { id: `sha256:${hex(64, rng(i * 31 + (env >= 3 ? 1 : 2)))}`, version, digests: { [`svc-${i}.tar.gz`]: `sha256:${hex(64, rng(i * 17 + (env >= 3 ? 1 : 2)))}`, 'config/base.yaml': `sha256:${hex(64, rng(i))}` } },
    config: doc,
    secrets: Object.fromEntries(['db_password', 'api_key', 'signing_key'].map((n, k) => [n, { present: !(env === 0 && k === 2), keyId: hex(16, rng(i * 3 + k + env * 100_000)), ageDays: Math.floor(r() * 90) }])),
  };
}

function snapshot(env: number): EnvironmentSnapshot {
  const services: Record<string, ServiceSnapshot> = {};
  for (let i = 0; i < SERVICES; i++) services[`svc-${i}`] = service(i, env);
  const flags: EnvironmentSnapshot['flags'] = {};
  for (let f = 0; f < FLAGS; f++) flags[`flag-${f}`] = { state: f % 17 === env ? 'DISABLED' : 'ENABLED', defaultVariant: 'on', variantsDigest: `sha256:${f}`, targetingDigest: f % 5 === 0 ? `sha256:t${f}` : null };
  return { environment: ENVS[env]!, services, flags };
}

const rule = (id: string, path: string, environments: ParityRule['environments']): ParityRule => {
  const p = parsePointer(path);
  if (!p.ok) throw new Error(p.message);
  return { id, path, pattern: p.segments, environments, reason: 'bench', owner: 'team-bench', expires: '2099-12-31' };
};
const rules: ParityRules = {
  allow: [
    rule('replicas', '/*/runtime/replicas', '*'),
    rule('sampling', '/*/observability/traces/sampling', '*'),
    rule('retention', '/*/observability/retention', ['staging', 'prod']),
    ...Array.from({ length: 47 }, (_, k) => rule(`svc-${k}-config`, `/svc-${k * 10}/config`, ['qa', 'staging'])),
  ],
  secretAgeToleranceDays: 30,
};

const t0 = performance.now();
const snaps = ENVS.map((_, i) => snapshot(i));
const t1 = performance.now();
const cpu0 = process.cpuUsage();
let compared = 0;
let differences = 0;
let findings = 0;
let allowed = 0;
let bytes = 0;
for (let i = 0; i + 1 < snaps.length; i++) {
  const r = parityReport(snaps[i]!, snaps[i + 1]!, rules, { now: new Date('2026-11-26T12:00:00Z') });
  bytes += JSON.stringify(r).length + parityTable(r).length;
  compared += r.compared;
  differences += r.differences.length;
  findings += r.findings;
  allowed += r.allowed;
}
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ reportMs: t2 - t1, reportCpuMs: (cpu.user + cpu.system) / 1000, buildMs: t1 - t0, maxRss: process.resourceUsage().maxRSS * 1024, compared, differences, findings, allowed, outputBytes: bytes })}\n`);
