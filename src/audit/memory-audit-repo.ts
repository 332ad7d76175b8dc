/**
 * An in-memory AuditRepo: the same contract as the SQL stores (append-only entries with no gaps,
 * Merkle nodes by (level, index), checkpoints), for unit tests and embedded experiments.
 * Bytes are copied in and out so callers cannot alias stored state.
 */
import { DomainError } from '../domain/errors.ts';
import type { AuditEntryRow, AuditRepo, CheckpointRow, MerkleNodeRow } from '../store/store.ts';

const nodeKey = (level: number, index: number): string => `${level}:${index}`;

export function createMemoryAuditRepo(): AuditRepo {
  const entries: AuditEntryRow[] = [];
  const nodes = new Map<string, Uint8Array>();
  const checkpoints: CheckpointRow[] = [];

  return {
    size: async () => entries.length,

    async appendEntry(row) {
      if (row.index !== entries.length) {
        throw new DomainError(
          'conflict',
          `audit log: cannot append entry ${row.index}; the log has ${entries.length} entries`,
          { field: 'index', fix: `append at index ${entries.length} (the current size), inside one transaction` },
        );
      }
      entries.push({ ...row });
    },

    async getEntry(index) {
      const row = entries[index];
      return row === undefined ? undefined : { ...row };
    },

    async listEntries(from, limit) {
      if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(limit) || limit < 0) {
        throw new DomainError('invalid_input', `audit log: bad page from=${from} limit=${limit}`, {
          fix: 'pass non-negative integers',
        });
      }
      return entries.slice(from, from + limit).map((r) => ({ ...r }));
    },

    async putNodes(rows: readonly MerkleNodeRow[]) {
      for (const n of rows) nodes.set(nodeKey(n.level, n.index), Uint8Array.from(n.hash));
    },

    async getNode(level, index) {
      const h = nodes.get(nodeKey(level, index));
      return h === undefined ? undefined : Uint8Array.from(h);
    },

    async putCheckpoint(c) {
      checkpoints.push({ ...c });
    },

    async latestCheckpoint() {
      let best: CheckpointRow | undefined;
      for (const c of checkpoints) if (best === undefined || c.size >= best.size) best = c;
      return best === undefined ? undefined : { ...best };
    },
  };
}
