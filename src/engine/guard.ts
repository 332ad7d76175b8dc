/** Authorization of one action: allowed goes on, denied is audited and thrown. */
import { DomainError } from '../domain/errors.ts';
import { type Action, authorize } from '../policy/authorize.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { RequestContext } from './deps.ts';

export async function guard(audit: AuditWriter, ctx: RequestContext, action: Action, subject: string): Promise<void> {
  if (!ctx.principal) {
    await audit.denied(ctx, { action, subject, details: { reason: 'not authenticated' } });
    throw new DomainError('unauthenticated', 'this action needs a token', {
      fix: 'pass a token with --token or STAGEGATE_TOKEN',
    });
  }
  const decision = authorize(ctx.principal, action, subject);
  if (!decision.allowed) {
    await audit.denied(ctx, { action, subject, details: { reason: decision.reason } });
    throw new DomainError('forbidden', `${ctx.actor} may not ${action} on ${subject}`, { fix: decision.reason });
  }
}
