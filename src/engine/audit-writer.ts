/** Writes audit entries inside the caller's transaction, and denials in a transaction of their own. */
import type { AuditOutcome, JsonValue } from '../domain/audit.ts';
import type { Repos } from '../store/store.ts';
import type { EngineDeps, RequestContext } from './deps.ts';

export type AuditRecord = {
  action: string;
  outcome: AuditOutcome;
  subject: string;
  details?: { [k: string]: JsonValue };
};

export function createAuditWriter(deps: Pick<EngineDeps, 'log' | 'clock' | 'store'>) {
  const record = (tx: Repos, ctx: RequestContext, r: AuditRecord) =>
    deps.log.append(tx, {
      time: deps.clock().toISOString(),
      actor: ctx.actor,
      action: r.action,
      outcome: r.outcome,
      subject: r.subject,
      requestDigest: ctx.requestDigest,
      details: r.details ?? {},
    });
  /** a refusal changes nothing but the log */
  const denied = async (ctx: RequestContext, r: Omit<AuditRecord, 'outcome'>) => {
    const written = await deps.store.transaction((tx) => record(tx, ctx, { ...r, outcome: 'denied' }));
    ctx.denialRecorded = true;
    return written;
  };
  return { record, denied };
}
export type AuditWriter = ReturnType<typeof createAuditWriter>;
