/**
 * The `local` target (docs/local-target.md): each service of an environment runs as child processes
 * of a detached host process, behind that host's weighted proxy; the host survives server restarts,
 * so a rollout resumes without losing a request. This adapter maps the engine's TrafficControl onto
 * the host's control API, and runs the verification command with the exec runner (at most once).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { DomainError } from '../../domain/errors.ts';
import type { LocalTarget } from '../../project/schema.ts';
import { createLocalHostClient, type LocalHostClient } from '../local/host-client.ts';
import type { StepFacts, Target, TargetStep, TrafficControl, TrafficStats, VersionLaunch } from '../target.ts';
import type { ExecRunner } from './exec.ts';
import { observeLocal, recordVersionDir } from './local-observe.ts';
import { stepEnv, wrapExecHandle } from './exec-target.ts';

/** the host of one (environment, service) lives in `<stateRoot>/<environment>/<service>` */
export function createLocalTarget(deps: { config: LocalTarget; runner: ExecRunner; stateRoot: string; projectDir: string; logger: Logger }): Target {
  const { config } = deps;
  const clients = new Map<string, LocalHostClient>();
  const ensured = new Map<string, Promise<unknown>>();

  async function host(environment: string, service: string): Promise<LocalHostClient> {
    const key = `${environment}/${service}`;
    let c = clients.get(key);
    if (!c) {
      c = createLocalHostClient({ hostDir: path.join(deps.stateRoot, environment, service), logger: deps.logger });
      clients.set(key, c);
    }
    let e = ensured.get(key);
    if (!e) {
      const port = config.services?.[service]?.port ?? 0;
      e = c.ensure({ environment, service, listen: { host: config.host ?? '127.0.0.1', port } }).catch((err: unknown) => {
        ensured.delete(key);
        throw err;
      });
      ensured.set(key, e);
    }
    await e;
    return c;
  }

  const r = config.readiness ?? {};
  const startTimeoutMs = r.startTimeout ?? 30_000;
  const traffic: TrafficControl = {
    async startVersion(v: VersionLaunch) {
      const c = await host(v.environment, v.service);
      const svc = config.services?.[v.service];
      await c.putVersion(v.version, {
        releaseId: v.releaseId,
        cwd: v.artifactsDir,
        argv: [...(svc?.command ?? config.command)],
        env: {
          ...config.env,
          ...svc?.env,
          STAGEGATE_SERVICE: v.service,
          STAGEGATE_VERSION: v.version,
          STAGEGATE_ENVIRONMENT: v.environment,
          STAGEGATE_RELEASE_ID: v.releaseId,
          STAGEGATE_PROMOTION_ID: v.promotionId,
          STAGEGATE_CONFIG_FILE: path.join(v.artifactsDir, 'effective-config.json'),
        },
        replicas: config.replicas ?? 1,
        readiness: {
          ...(r.path !== undefined ? { path: r.path } : {}),
          ...(r.interval !== undefined ? { intervalMs: r.interval } : {}),
          ...(r.timeout !== undefined ? { timeoutMs: r.timeout } : {}),
          ...(r.failureThreshold !== undefined ? { failureThreshold: r.failureThreshold } : {}),
          startTimeoutMs,
        },
        restart: {
          ...(config.restart?.maxRestarts !== undefined ? { maxRestarts: config.restart.maxRestarts } : {}),
          ...(config.restart?.backoff !== undefined ? { backoffMs: config.restart.backoff } : {}),
          ...(config.restart?.maxBackoff !== undefined ? { maxBackoffMs: config.restart.maxBackoff } : {}),
        },
        ...(config.drainTimeout !== undefined ? { drainTimeoutMs: config.drainTimeout } : {}),
        ...(config.killGrace !== undefined ? { killGraceMs: config.killGrace } : {}),
      });
      await recordVersionDir(path.join(deps.stateRoot, v.environment, v.service), v.version, v.artifactsDir);
      const s = await c.waitReady(v.version, Math.min(startTimeoutMs + 10_000, 120_000));
      if (s.phase === 'ready') return { ready: true };
      return { ready: false, message: s.message || `version ${v.version} is ${s.phase}` };
    },
    async setTraffic(environment, service, t) {
      const c = await host(environment, service);
      // versions left out get no traffic (a stopped version can only be left out)
      const weights = Object.fromEntries(Object.entries(t.weights).filter(([, w]) => w > 0));
      await c.setTraffic({ weights, headerRoutes: t.headerRoutes ?? [] });
    },
    async stopVersion(environment, service, version) {
      const c = await host(environment, service);
      await c.stopVersion(version, { drainTimeoutMs: config.drainTimeout ?? 10_000 });
    },
    async stats(environment, service) {
      // the host answers the proxy's stats(): per version requests, errors and latency percentiles
      return (await (await host(environment, service)).stats()) as unknown as TrafficStats;
    },
    async inject(environment, service, version, fault) {
      await (await host(environment, service)).inject(version, fault);
    },
    async state(environment, service) {
      const s = await (await host(environment, service)).state();
      return { url: s.proxyUrl, weights: s.weights, versions: s.versions.map((v) => ({ version: v.version, phase: v.phase, message: v.message })) };
    },
  };

  return {
    type: 'local',
    traffic,
    observe: (environment: string) => observeLocal(path.join(deps.stateRoot, environment)),
    has: (step: TargetStep) => step === 'verify',
    prepare(step: TargetStep, f: StepFacts) {
      if (step !== 'verify' || !f.verification) {
        throw new DomainError('invalid_input', `the local target deploys through its rollout, not a ${step} command`, { fix: 'set verification.command on the environment' });
      }
      return deps.runner.prepare({
        promotionId: f.promotionId,
        step,
        argv: [...f.verification.command],
        cwd: deps.projectDir,
        timeoutMs: config.timeoutMs,
        env: { ...config.env, ...stepEnv(f, step), STAGEGATE_URL: f.verification.url },
      });
    },
    launch: async (data) => wrapExecHandle(await deps.runner.launch(data)),
    adopt: async (data) => wrapExecHandle(await deps.runner.adopt(data)),
  };
}
