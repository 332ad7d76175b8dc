/** Resources as the guard names them, built from what the engine knows. */
import type { Project } from '../project/schema.ts';
import type { PromotionRecord } from '../store/store.ts';
import type { Resource } from './audit-writer.ts';

export const projectResource = (project: Pick<Project, 'project'>): Resource => ({ type: 'Project', id: project.project });
export const auditResource: Resource = { type: 'AuditLog', id: 'main' };

export function tierOf(project: Pick<Project, 'environments'>, environment: string): string {
  return project.environments.find((e) => e.name === environment)?.tier ?? 'unknown';
}

/** a promotion (or one about to be requested: id `new`) with the attributes policies key on */
export function promotionResource(project: Pick<Project, 'environments'>, p: Pick<PromotionRecord, 'service' | 'environment'> & { id?: string }): Resource {
  return { type: 'Promotion', id: p.id ?? 'new', attrs: { service: p.service, environment: p.environment, tier: tierOf(project, p.environment) } };
}

export function promotionContext(project: Pick<Project, 'environments'>, environment: string, breakGlass = false) {
  return { tier: tierOf(project, environment), breakGlass };
}
