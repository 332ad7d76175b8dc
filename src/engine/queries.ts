/** Read use-cases: status matrix, promotions, releases, the audit log. Each is authorized. */
import { DomainError } from '../domain/errors.ts';
import { isTerminal, promotionStates } from '../domain/promotion.ts';
import type { PromotionRecord, ReleaseRecord, StepRecord } from '../store/store.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { projectResource, promotionResource } from './guard.ts';

export interface StatusCell {
  service: string;
  environment: string;
  /** what runs there: the last Succeeded promotion */
  current: { version: string; releaseId: string; since: string; promotion: string } | null;
  /** the promotion in progress, if any */
  active: { id: string; version: string; state: string } | null;
  queued: number;
}

/** a step as the API shows it: outcome, exit code, duration, output tail; not the runner's data */
export type PublicStep = Omit<StepRecord, 'data' | 'promotionId'>;

const active = promotionStates.filter((s) => !isTerminal(s));

export function createQueries(deps: Pick<EngineDeps, 'store' | 'project'>, audit: AuditWriter) {
  async function status(ctx: RequestContext): Promise<StatusCell[]> {
    await audit.guard(ctx, 'status.read', projectResource(deps.project));
    const cells: StatusCell[] = [];
    for (const s of deps.project.services) {
      for (const e of deps.project.environments) {
        const [last] = await deps.store.read.promotions.list({ service: s.name, environment: e.name, states: ['Succeeded'], newestFirst: true, limit: 1 });
        const running = await deps.store.read.promotions.list({ service: s.name, environment: e.name, states: active, limit: 1000 });
        const head = running[0];
        cells.push({
          service: s.name,
          environment: e.name,
          current: last ? { version: last.version, releaseId: last.releaseId, since: last.succeededAt ?? last.stateChangedAt, promotion: last.id } : null,
          active: head ? { id: head.id, version: head.version, state: head.state } : null,
          queued: Math.max(0, running.length - 1),
        });
      }
    }
    return cells;
  }

  async function promotion(ctx: RequestContext, id: string): Promise<PromotionRecord & { waitingBehind: string | null; steps: PublicStep[] }> {
    const p = await deps.store.read.promotions.get(id);
    await audit.guard(ctx, 'promotion.read', p ? promotionResource(deps.project, p) : projectResource(deps.project));
    if (!p) throw new DomainError('not_found', `promotion ${id} does not exist`, { fix: 'list promotions with `stagegate promotion list`' });
    let waitingBehind: string | null = null;
    if (!isTerminal(p.state)) {
      const [head] = await deps.store.read.promotions.list({ service: p.service, environment: p.environment, states: active, limit: 1 });
      if (head && head.id !== p.id) waitingBehind = head.id;
    }
    const steps = (await deps.store.read.steps.list(id)).map(({ data: _d, promotionId: _p, ...s }) => s);
    return { ...p, waitingBehind, steps };
  }

  async function promotions(ctx: RequestContext, q: { service?: string; environment?: string; limit: number }): Promise<PromotionRecord[]> {
    await audit.guard(ctx, 'promotion.read', projectResource(deps.project));
    return deps.store.read.promotions.list({ ...q, newestFirst: true });
  }

  async function release(ctx: RequestContext, ref: string): Promise<ReleaseRecord> {
    await audit.guard(ctx, 'release.read', projectResource(deps.project));
    const at = ref.indexOf('@');
    const r = ref.startsWith('sha256:')
      ? await deps.store.read.releases.get(ref)
      : at > 0
        ? await deps.store.read.releases.findByServiceVersion(ref.slice(0, at), ref.slice(at + 1))
        : undefined;
    if (!r) throw new DomainError('not_found', `release ${ref} does not exist`, { fix: 'name it as service@version or by its sha256: id; list with `stagegate release list`' });
    return r;
  }

  async function releases(ctx: RequestContext, q: { service?: string; limit: number }): Promise<ReleaseRecord[]> {
    await audit.guard(ctx, 'release.read', projectResource(deps.project));
    return deps.store.read.releases.list(q);
  }

  return { status, promotion, promotions, release, releases };
}
