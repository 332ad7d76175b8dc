/**
 * Continuous attestation: on a schedule (and once at start), for every environment, drift (the
 * target's observation against what stagegate deployed) and integrity (signature and stored blobs
 * of the current releases). When an environment's findings change, an audit entry
 * `attestation.finding` (or `attestation.cleared`) is appended and an event emitted; the latest
 * result of each environment is kept for GET /v1/attestation and `stagegate status`.
 * Clock and timers are injected.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { JsonValue } from '../domain/audit.ts';
import type { AuditWriter } from '../engine/audit-writer.ts';
import type { RequestContext } from '../engine/deps.ts';
import type { EngineDeps } from '../engine/deps.ts';
import type { DriftFinding, DriftReport } from './drift.ts';
import type { EventBus } from './events.ts';
import type { IntegrityFinding } from './integrity.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** the real timers, unref'd so a pending run never keeps the process alive */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export const DEFAULT_ATTESTATION_INTERVAL_MS = 5 * 60_000;

export interface AttestationResult {
  environment: string;
  at: string;
  status: 'ok' | 'findings' | 'error';
  findingCount: number;
  drift: { observable: boolean; error?: string; findings: DriftFinding[] };
  integrity: { checked: number; findings: IntegrityFinding[] };
  /** set when the run itself failed */
  error?: string;
}

export interface Attestation {
  start(): void;
  stop(): Promise<void>;
  /** one run over every environment (what the schedule does) */
  runOnce(): Promise<AttestationResult[]>;
  latest(): AttestationResult[];
}

export type AttestationDeps = Pick<EngineDeps, 'project' | 'store' | 'clock'> & {
  /** drift (undefined: the target cannot observe) and integrity of one environment */
  check(env: string): Promise<{ drift: DriftReport | undefined; integrity: { checked: number; findings: IntegrityFinding[] } }>;
  audit: Pick<AuditWriter, 'record'>;
  logger: Pick<Logger, 'warn' | 'error'>;
  events: Pick<EventBus, 'emit'>;
  timers: Timers;
  intervalMs: number;
};

const actor: RequestContext = { actor: 'system:attestation', requestDigest: null };
const MAX_LISTED = 20;

function fingerprint(r: AttestationResult): string {
  const parts = [r.error ?? '', r.drift.error ?? '', ...r.drift.findings.map((f) => `${f.path}|${String(f.observed)}`), ...r.integrity.findings.map((f) => `${f.release}|${f.kind}|${f.subject ?? ''}`)];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** audit details: paths, kinds and messages; never a configuration value or a secret */
function details(r: AttestationResult): { [k: string]: JsonValue } {
  return {
    environment: r.environment,
    findings: r.findingCount,
    ...(r.error ? { error: r.error.slice(0, 1000) } : {}),
    ...(r.drift.error ? { driftError: r.drift.error.slice(0, 1000) } : {}),
    drift: r.drift.findings.slice(0, MAX_LISTED).map((f) => ({ path: f.path, kind: f.kind, message: f.message.slice(0, 500) })),
    integrity: r.integrity.findings.slice(0, MAX_LISTED).map((f) => ({ service: f.service, release: f.release, kind: f.kind, subject: f.subject ?? null, message: f.message.slice(0, 500) })),
  };
}

export function createAttestation(deps: AttestationDeps): Attestation {
  const latest = new Map<string, AttestationResult>();
  const printed = new Map<string, string>();
  let timer: unknown;
  let running: Promise<AttestationResult[]> | undefined;
  let stopped = true;

  async function attest(env: string): Promise<AttestationResult> {
    const at = deps.clock().toISOString();
    try {
      const { drift, integrity } = await deps.check(env);
      const d = { observable: drift !== undefined, ...(drift?.error ? { error: drift.error } : {}), findings: drift?.findings ?? [] };
      const n = d.findings.length + integrity.findings.length + (d.error ? 1 : 0);
      return { environment: env, at, status: d.error ? 'error' : n ? 'findings' : 'ok', findingCount: n, drift: d, integrity };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      return { environment: env, at, status: 'error', findingCount: 1, drift: { observable: false, findings: [] }, integrity: { checked: 0, findings: [] }, error };
    }
  }

  async function report(r: AttestationResult): Promise<void> {
    const fp = r.findingCount ? fingerprint(r) : '';
    const before = printed.get(r.environment) ?? '';
    printed.set(r.environment, fp);
    if (fp === before) return; // unchanged since the last run: already in the log
    const action = fp ? 'attestation.finding' : 'attestation.cleared';
    const d = details(r);
    await deps.store.transaction((tx) => deps.audit.record(tx, actor, { action, outcome: fp ? 'failed' : 'succeeded', subject: `Environment:${r.environment}`, details: d }));
    deps.events.emit(action, { ...d, at: r.at, status: r.status });
  }

  async function runOnce(): Promise<AttestationResult[]> {
    const results: AttestationResult[] = [];
    for (const e of deps.project.environments) {
      const r = await attest(e.name);
      latest.set(e.name, r);
      results.push(r);
      await report(r).catch((err: unknown) => deps.logger.error({ err, environment: e.name }, 'could not record an attestation result'));
    }
    return results;
  }

  function schedule(): void {
    if (stopped) return;
    timer = deps.timers.setTimeout(() => {
      running = runOnce().finally(() => {
        running = undefined;
        schedule();
      });
    }, deps.intervalMs);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = runOnce().finally(() => {
        running = undefined;
        schedule();
      });
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) deps.timers.clearTimeout(timer);
      await running?.catch(() => undefined);
    },
    runOnce: () => runOnce(),
    latest: () => deps.project.environments.map((e) => latest.get(e.name)).filter((r): r is AttestationResult => r !== undefined),
  };
}
