/**
 * The parity use-cases the API serves, each authorized by the Cedar guard (and so audited): the
 * parity report of two environments, the drift of one, the latest attestation, the event stream.
 * The attestation scheduler and the event bus live here too; the app starts and stops them.
 */
import { DomainError } from '../domain/errors.ts';
import type { AuditWriter } from '../engine/audit-writer.ts';
import type { EngineDeps, RequestContext } from '../engine/deps.ts';
import { projectResource } from '../engine/guard.ts';
import { type Attestation, type AttestationResult, createAttestation, DEFAULT_ATTESTATION_INTERVAL_MS, systemTimers, type Timers } from './attestation.ts';
import { collectSnapshot } from './collect.ts';
import type { DriftReport } from './drift.ts';
import { createEventBus, type EventBus, type ServerEvent } from './events.ts';
import { environmentDrift, parityRulesFor } from './gates.ts';
import { environmentIntegrity } from './integrity.ts';
import { parityReport, type ParityReport } from './report.ts';

export const MAX_EVENT_SUBSCRIBERS = 32;

export function createParityUseCases(deps: EngineDeps, audit: AuditWriter, opts: { timers?: Timers } = {}) {
  const events: EventBus = createEventBus({ maxSubscribers: MAX_EVENT_SUBSCRIBERS, clock: deps.clock });
  const attestation: Attestation = createAttestation({
    ...deps,
    check: async (env) => {
      const [drift, integrity] = await Promise.all([environmentDrift(deps, env), environmentIntegrity(deps, env)]);
      return { drift, integrity };
    },
    audit,
    events,
    timers: opts.timers ?? systemTimers,
    intervalMs: deps.project.attestationIntervalMs ?? DEFAULT_ATTESTATION_INTERVAL_MS,
  });

  const envNames = () => deps.project.environments.map((e) => e.name);
  function environment(name: string, field: string): string {
    if (!envNames().includes(name)) {
      throw new DomainError('not_found', `environment "${name.slice(0, 64)}" is not in the project`, { field, fix: `use one of: ${envNames().join(', ')}` });
    }
    return name;
  }
  function service(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    const names = deps.project.services.map((s) => s.name);
    if (!names.includes(name)) throw new DomainError('not_found', `service "${name.slice(0, 64)}" is not in the project`, { field: 'service', fix: `use one of: ${names.join(', ')}` });
    return name;
  }

  async function parity(ctx: RequestContext, q: { a: string; b: string; service?: string }): Promise<ParityReport> {
    await audit.guard(ctx, 'parity.read', projectResource(deps.project));
    const a = environment(q.a, 'a');
    const b = environment(q.b, 'b');
    const s = service(q.service);
    const rules = await parityRulesFor(deps.project);
    const only = s !== undefined ? { service: s } : {};
    const [sa, sb] = await Promise.all([collectSnapshot(deps, a, only), collectSnapshot(deps, b, only)]);
    return parityReport(sa, sb, rules, { ...only, now: deps.clock() });
  }

  async function drift(ctx: RequestContext, env: string, svc?: string): Promise<DriftReport & { observable: boolean }> {
    await audit.guard(ctx, 'drift.read', projectResource(deps.project));
    const e = environment(env, 'environment');
    const s = service(svc);
    const r = await environmentDrift(deps, e, s);
    if (r) return { ...r, observable: true };
    const target = deps.project.environments.find((x) => x.name === e)!.target;
    return {
      environment: e,
      ...(s !== undefined ? { service: s } : {}),
      generatedAt: deps.clock().toISOString(),
      servicesChecked: 0,
      observable: false,
      error: `target ${target} has no observe command, so what runs in ${e} cannot be observed; add observe: [argv] to the target in stagegate.yaml (see docs/parity-and-drift.md)`,
      findings: [],
    };
  }

  async function latestAttestation(ctx: RequestContext): Promise<{ intervalMs: number; results: AttestationResult[] }> {
    await audit.guard(ctx, 'attestation.read', projectResource(deps.project));
    return { intervalMs: deps.project.attestationIntervalMs ?? DEFAULT_ATTESTATION_INTERVAL_MS, results: attestation.latest() };
  }

  async function subscribe(ctx: RequestContext, signal: AbortSignal): Promise<AsyncIterable<ServerEvent>> {
    await audit.guard(ctx, 'attestation.read', projectResource(deps.project));
    return events.subscribe(signal);
  }

  return { parity, drift, attestation: latestAttestation, subscribe, scheduler: attestation, events };
}
export type ParityUseCases = ReturnType<typeof createParityUseCases>;
