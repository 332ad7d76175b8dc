/**
 * The verifiable audit log: entries appended inside the caller's transaction, an RFC 9162 tree
 * kept as stored complete-subtree hashes, proofs and roots in O(log n) node reads, signed C2SP
 * checkpoints, a paged JSON Lines export and a full recomputation check of the stored log.
 */
import { DomainError } from '../domain/errors.ts';
import type { AuditEntry } from '../domain/audit.ts';
import type { Repos } from '../store/store.ts';
import { formatCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { describeEntry, encodeEntry } from './entry.ts';
import {
  bytesEqual,
  consistencyProof,
  createRootAccumulator,
  type GetNode,
  inclusionProof,
  leafHash,
  nodesToAdd,
  rangeHash,
} from './merkle.ts';
import { parseSignerKey, signNote, verifierKeyFor, verifyNote } from './note.ts';

export type AuditRepos = Pick<Repos, 'audit'>;

export interface InclusionProofResult {
  treeSize: number;
  leafIndex: number;
  leafHash: Uint8Array;
  rootHash: Uint8Array;
  proof: Uint8Array[];
}
export interface ConsistencyProofResult {
  size1: number;
  size2: number;
  proof: Uint8Array[];
  root1: Uint8Array;
  root2: Uint8Array;
}
export type LogCheckResult = { ok: true; size: number; rootHash: Uint8Array } | { ok: false; index?: number; reason: string };

export interface AuditLogDeps {
  /** checkpoint origin line, e.g. `stagegate.example.com/audit` */
  origin: string;
  /** note signer key text `PRIVATE+KEY+<name>+<id>+<key>` */
  noteSigner: string;
  clock: () => Date;
}

export const EXPORT_PAGE_SIZE = 500;
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const nodeReader = (repos: AuditRepos): GetNode => (level, index) => repos.audit.getNode(level, index);

export function createAuditLog(deps: AuditLogDeps) {
  const signer = parseSignerKey(deps.noteSigner);
  const verifierKey = verifierKeyFor(deps.noteSigner);
  formatCheckpoint({ origin: deps.origin, size: 0, rootHash: new Uint8Array(32) }); // validates the origin now

  async function sizeAtMost(repos: AuditRepos, size: number | undefined, field: string): Promise<number> {
    const current = await repos.audit.size();
    if (size === undefined) return current;
    if (!Number.isSafeInteger(size) || size < 0 || size > current) {
      throw new DomainError('invalid_input', `audit log: ${field} ${size} is outside the log (size ${current})`, {
        field,
        fix: `ask for a tree size between 0 and ${current}`,
      });
    }
    return size;
  }

  async function append(tx: AuditRepos, entry: AuditEntry): Promise<{ index: number; leafHash: Uint8Array }> {
    const text = encodeEntry(entry);
    const index = await tx.audit.size();
    const leaf = leafHash(utf8(text));
    const nodes = await nodesToAdd(index, leaf, nodeReader(tx));
    await tx.audit.appendEntry({ index, entry: text, createdAt: deps.clock().toISOString() });
    await tx.audit.putNodes(nodes);
    return { index, leafHash: leaf };
  }

  async function root(repos: AuditRepos, size?: number): Promise<Uint8Array> {
    const n = await sizeAtMost(repos, size, 'size');
    return rangeHash(0, n, nodeReader(repos));
  }

  async function inclusion(repos: AuditRepos, index: number, size?: number): Promise<InclusionProofResult> {
    const treeSize = await sizeAtMost(repos, size, 'size');
    const getNode = nodeReader(repos);
    const proof = await inclusionProof(index, treeSize, getNode);
    const leaf = await rangeHash(index, index + 1, getNode);
    return { treeSize, leafIndex: index, leafHash: leaf, rootHash: await rangeHash(0, treeSize, getNode), proof };
  }

  async function consistency(repos: AuditRepos, from: number, to: number): Promise<ConsistencyProofResult> {
    await sizeAtMost(repos, to, 'to');
    const getNode = nodeReader(repos);
    const proof = await consistencyProof(from, to, getNode);
    const [root1, root2] = [await rangeHash(0, from, getNode), await rangeHash(0, to, getNode)];
    return { size1: from, size2: to, proof, root1, root2 };
  }

  async function checkpoint(repos: AuditRepos): Promise<string> {
    const size = await repos.audit.size();
    const rootHash = await rangeHash(0, size, nodeReader(repos));
    const note = signNote(formatCheckpoint({ origin: deps.origin, size, rootHash }), signer);
    await repos.audit.putCheckpoint({ size, note, createdAt: deps.clock().toISOString() });
    return note;
  }

  /** JSON Lines export of entries [from, size-at-start), one page at a time. */
  async function* exportLines(repos: AuditRepos, from = 0): AsyncGenerator<string> {
    const end = await repos.audit.size();
    for (let start = await sizeAtMost(repos, from, 'from'); start < end; start += EXPORT_PAGE_SIZE) {
      const rows = await repos.audit.listEntries(start, Math.min(EXPORT_PAGE_SIZE, end - start));
      for (const [k, row] of rows.entries()) {
        if (row.index !== start + k) {
          throw new DomainError('internal', `audit log: expected entry ${start + k}, the store returned ${row.index}`, {
            fix: 'the stored log has a gap; run `stagegate audit verify` and restore from a backup',
          });
        }
        let entry: unknown;
        try {
          entry = JSON.parse(row.entry);
        } catch {
          entry = row.entry; // unreadable text is exported as a string, so verification names this index
        }
        const stored = await repos.audit.getNode(0, row.index);
        yield JSON.stringify({ index: row.index, entry, leafHash: stored ? b64(stored) : '' });
      }
      if (rows.length === 0) break;
    }
  }

  /** Recompute every leaf from the stored text; compare with stored leaves, stored root and latest checkpoint. */
  async function verifyStored(repos: AuditRepos): Promise<LogCheckResult> {
    const size = await repos.audit.size();
    const latest = await repos.audit.latestCheckpoint();
    let cp: { size: number; rootHash: Uint8Array } | undefined;
    if (latest !== undefined) {
      const note = verifyNote(latest.note, verifierKey);
      if (!note.ok) return { ok: false, reason: `the latest stored checkpoint does not verify: ${note.reason}` };
      const parsed = parseCheckpoint(note.body);
      if (!parsed.ok) return { ok: false, reason: parsed.reason };
      if (parsed.checkpoint.origin !== deps.origin) {
        return { ok: false, reason: `the latest checkpoint is for origin ${parsed.checkpoint.origin}, not ${deps.origin}` };
      }
      cp = parsed.checkpoint;
      if (cp.size > size) {
        return { ok: false, reason: `the log has ${size} entries but its signed checkpoint covers ${cp.size}: entries were removed` };
      }
    }
    const acc = createRootAccumulator();
    /** the last recomputed node of each level: the left siblings nodesToAdd asks for */
    const frontier: Uint8Array[] = [];
    let cpRoot = cp?.size === 0 ? acc.root() : undefined;
    for (let start = 0; start < size; start += EXPORT_PAGE_SIZE) {
      const rows = await repos.audit.listEntries(start, Math.min(EXPORT_PAGE_SIZE, size - start));
      for (let k = 0; k < Math.min(EXPORT_PAGE_SIZE, size - start); k++) {
        const index = start + k;
        const row = rows[k];
        if (row === undefined || row.index !== index) return { ok: false, index, reason: `entry ${index} is missing from the store` };
        const leaf = leafHash(utf8(row.entry));
        const stored = await repos.audit.getNode(0, index);
        if (stored === undefined || !bytesEqual(stored, leaf)) {
          let value: unknown;
          try {
            value = JSON.parse(row.entry);
          } catch {}
          return {
            ok: false,
            index,
            reason: `entry ${index} (${describeEntry(value)}) does not match its ${stored ? 'stored leaf hash' : 'missing leaf node'}: its stored text was changed after it was logged`,
          };
        }
        for (const node of await nodesToAdd(index, leaf, async (level) => frontier[level])) {
          frontier[node.level] = node.hash;
          if (node.level === 0) continue;
          const storedNode = await repos.audit.getNode(node.level, node.index);
          if (storedNode === undefined || !bytesEqual(storedNode, node.hash)) {
            const first = node.index * 2 ** node.level;
            return {
              ok: false,
              reason: `the stored tree node (level ${node.level}, index ${node.index}) over entries ${first}..${first + 2 ** node.level - 1} does not match the entries: the interior tree nodes were changed`,
            };
          }
        }
        acc.push(leaf);
        if (cp !== undefined && acc.size() === cp.size) cpRoot = acc.root();
      }
    }
    const computed = acc.root();
    let storedRoot: Uint8Array;
    try {
      storedRoot = await rangeHash(0, size, nodeReader(repos));
    } catch (e) {
      return { ok: false, reason: `the stored tree cannot be read: ${(e as Error).message}` };
    }
    if (!bytesEqual(computed, storedRoot)) {
      return { ok: false, reason: 'the stored interior tree nodes do not match the entries: the tree nodes were changed' };
    }
    if (cp !== undefined && (cpRoot === undefined || !bytesEqual(cpRoot, cp.rootHash))) {
      return {
        ok: false,
        reason: `the first ${cp.size} entries do not match the signed checkpoint root: entries and their hashes were rewritten`,
      };
    }
    return { ok: true, size, rootHash: computed };
  }

  return {
    origin: deps.origin,
    verifierKey,
    keyName: signer.name,
    append,
    root,
    inclusionProof: inclusion,
    consistencyProof: consistency,
    checkpoint,
    exportLines,
    verifyStored,
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
