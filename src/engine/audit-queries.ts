/** Read use-cases over the audit log: entries, proofs, checkpoints, export, server-side verify. */
import { DomainError } from '../domain/errors.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { auditResource } from './guard.ts';

export function createAuditQueries(deps: Pick<EngineDeps, 'store' | 'log'>, audit: AuditWriter) {
  const read = deps.store.read;
  const size = () => read.audit.size();

  async function checkSize(n: number, what: string): Promise<number> {
    const s = await size();
    if (!Number.isSafeInteger(n) || n < 0 || n > s) {
      throw new DomainError('invalid_input', `${what} ${n} is outside the log (size ${s})`, { field: what, fix: `use a value from 0 to ${s}` });
    }
    return s;
  }

  return {
    async entries(ctx: RequestContext, from: number, limit: number) {
      await audit.guard(ctx, 'audit.read', auditResource);
      const rows = await read.audit.listEntries(from, limit);
      return { size: await size(), entries: rows.map((r) => ({ index: r.index, entry: JSON.parse(r.entry) as unknown })) };
    },
    async checkpoint(ctx: RequestContext): Promise<string> {
      await audit.guard(ctx, 'audit.read', auditResource);
      return deps.store.transaction((tx) => deps.log.checkpoint(tx));
    },
    async key(ctx: RequestContext): Promise<string> {
      await audit.guard(ctx, 'audit.read', auditResource);
      return deps.log.verifierKey;
    },
    async inclusion(ctx: RequestContext, index: number, treeSize?: number) {
      await audit.guard(ctx, 'audit.read', auditResource);
      const s = await checkSize(treeSize ?? (await size()), 'size');
      const n = treeSize ?? s;
      if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
        throw new DomainError('invalid_input', `index ${index} is not in a tree of size ${n}`, { field: 'index', fix: `use an index from 0 to ${n - 1}` });
      }
      return deps.log.inclusionProof(read, index, n);
    },
    async consistency(ctx: RequestContext, from: number, to: number) {
      await audit.guard(ctx, 'audit.read', auditResource);
      await checkSize(to, 'to');
      if (!Number.isSafeInteger(from) || from < 1 || from > to) {
        throw new DomainError('invalid_input', `from ${from} must be between 1 and to (${to})`, { field: 'from', fix: 'give 1 <= from <= to <= size' });
      }
      return deps.log.consistencyProof(read, from, to);
    },
    async export(ctx: RequestContext, from = 0) {
      await audit.guard(ctx, 'audit.read', auditResource);
      // checked here: the generator would only check on its first step, after the 200 is sent
      await checkSize(from, 'from');
      return deps.log.exportLines(read, from);
    },
    async verify(ctx: RequestContext) {
      await audit.guard(ctx, 'audit.read', auditResource);
      return deps.log.verifyStored(read);
    },
  };
}
