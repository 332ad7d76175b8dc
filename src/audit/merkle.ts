/**
 * RFC 9162 section 2.1 Merkle tree hashing, proofs from stored complete-subtree hashes, and the
 * proof verification algorithms of 2.1.3.2 (inclusion) and 2.1.4.2 (consistency).
 *
 * Stored node (level k, index i) = hash of the complete subtree of 2^k leaves starting at leaf
 * i * 2^k; level 0 holds the leaf hashes. Every hash this module needs for a tree of size n is
 * either one stored node or a right fold of the complete subtrees of a range's binary
 * decomposition, so roots and proofs cost O(log n) node reads.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { MerkleNodeRow } from '../store/store.ts';

export type GetNode = (level: number, index: number) => Promise<Uint8Array | undefined>;
export type VerifyResult = { ok: true } | { ok: false; reason: string };

export const HASH_SIZE = 32;
const LEAF_PREFIX = Uint8Array.of(0);
const NODE_PREFIX = Uint8Array.of(1);

export const emptyRoot = (): Uint8Array => new Uint8Array(createHash('sha256').digest());

export const leafHash = (data: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest());

export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Largest power of two strictly smaller than n (n >= 2). */
const splitPoint = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/**
 * Streaming root computation with O(log n) memory: push leaf hashes in order, ask for the root of
 * everything pushed so far.
 */
export function createRootAccumulator(): { push(leaf: Uint8Array): void; root(): Uint8Array; size(): number } {
  const stack: { level: number; hash: Uint8Array }[] = [];
  let count = 0;
  return {
    push(leaf) {
      let hash = leaf;
      let level = 0;
      for (let top = stack.at(-1); top !== undefined && top.level === level; top = stack.at(-1)) {
        hash = nodeHash(top.hash, hash);
        stack.pop();
        level++;
      }
      stack.push({ level, hash });
      count++;
    },
    root() {
      let acc: Uint8Array | undefined;
      for (let i = stack.length - 1; i >= 0; i--) {
        const h = (stack[i] as { hash: Uint8Array }).hash;
        acc = acc === undefined ? h : nodeHash(h, acc);
      }
      return acc ?? emptyRoot();
    },
    size: () => count,
  };
}

export function rootFromLeafHashes(hashes: Iterable<Uint8Array>): Uint8Array {
  const acc = createRootAccumulator();
  for (const h of hashes) acc.push(h);
  return acc.root();
}

async function readNode(getNode: GetNode, level: number, index: number): Promise<Uint8Array> {
  const h = await getNode(level, index);
  if (h === undefined) {
    throw new DomainError('internal', `audit log: Merkle node (level ${level}, index ${index}) is missing`, {
      fix: 'the stored audit tree is incomplete; run `stagegate audit verify` and restore the store from a backup',
    });
  }
  return h;
}

/** MTH(D[start:end]) from stored complete subtrees; start must be aligned as in the RFC tree. */
export async function rangeHash(start: number, end: number, getNode: GetNode): Promise<Uint8Array> {
  if (end <= start) return emptyRoot();
  const parts: Uint8Array[] = [];
  let pos = start;
  let rest = end - start;
  for (let level = Math.floor(Math.log2(rest)); rest > 0; level--) {
    const width = 2 ** level;
    if (rest < width) continue;
    if (pos % width !== 0) {
      throw new DomainError('internal', `audit log: range [${start}, ${end}) is not aligned to stored subtrees`, {
        fix: 'this is a bug in the Merkle proof construction; report it',
      });
    }
    parts.push(await readNode(getNode, level, pos / width));
    pos += width;
    rest -= width;
  }
  let acc = parts.pop() as Uint8Array;
  while (parts.length > 0) acc = nodeHash(parts.pop() as Uint8Array, acc);
  return acc;
}

/** The rows to persist when the leaf with index `size` is appended: the leaf and each subtree it completes. */
export async function nodesToAdd(size: number, newLeafHash: Uint8Array, getNode: GetNode): Promise<MerkleNodeRow[]> {
  const rows: MerkleNodeRow[] = [{ level: 0, index: size, hash: newLeafHash }];
  let hash = newLeafHash;
  let index = size;
  let level = 0;
  while (index % 2 === 1) {
    hash = nodeHash(await readNode(getNode, level, index - 1), hash);
    index = (index - 1) / 2;
    level++;
    rows.push({ level, index, hash });
  }
  return rows;
}

const checkSize = (what: string, v: number): void => {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new DomainError('invalid_input', `audit log: ${what} ${v} is not a non-negative integer`, {
      field: what,
      fix: `pass a whole number ${what}`,
    });
  }
};

/** RFC 9162 2.1.3.1 PATH(index, D[size]), leaf side first. */
export async function inclusionProof(index: number, size: number, getNode: GetNode): Promise<Uint8Array[]> {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) {
    throw new DomainError('invalid_input', `audit log: leaf ${index} is not in a tree of size ${size}`, {
      field: 'index',
      fix: `ask for an index below ${size}`,
    });
  }
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  let m = index;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < k) {
      path.push(await rangeHash(lo + k, hi, getNode));
      hi = lo + k;
    } else {
      path.push(await rangeHash(lo, lo + k, getNode));
      lo += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true). Needs 0 < m <= n. */
export async function consistencyProof(m: number, n: number, getNode: GetNode): Promise<Uint8Array[]> {
  checkSize('from', m);
  checkSize('to', n);
  if (m === 0 || m > n) {
    throw new DomainError('invalid_input', `audit log: no consistency proof from size ${m} to size ${n}`, {
      field: 'from',
      fix: 'ask for 1 <= from <= to <= the current log size (any tree is consistent with the empty tree)',
    });
  }
  const proof: Uint8Array[] = [];
  let lo = 0;
  let hi = n;
  let mm = m;
  let whole = true;
  while (mm !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      proof.push(await rangeHash(lo + k, hi, getNode));
      hi = lo + k;
    } else {
      proof.push(await rangeHash(lo, lo + k, getNode));
      lo += k;
      mm -= k;
      whole = false;
    }
  }
  if (!whole) proof.push(await rangeHash(lo, hi, getNode));
  return proof.reverse();
}

const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHash = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === HASH_SIZE;
const isProof = (p: unknown): p is Uint8Array[] => Array.isArray(p) && p.every(isHash);
const fail = (reason: string): VerifyResult => ({ ok: false, reason });
const half = (v: number): number => Math.floor(v / 2);

/** RFC 9162 2.1.3.2. Never throws. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): VerifyResult {
  if (!isSize(leafIndex) || !isSize(treeSize)) return fail('leaf index and tree size must be non-negative integers');
  if (leafIndex >= treeSize) return fail(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  if (!isHash(leaf) || !isHash(root)) return fail('leaf hash and root hash must be 32 bytes');
  if (!isProof(proof)) return fail('every proof element must be a 32-byte hash');
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return fail('the proof is longer than the path for this tree size');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return fail('the proof is shorter than the path for this tree size');
  if (!bytesEqual(r, root)) return fail('the root computed from the proof does not match the given root');
  return { ok: true };
}

/** RFC 9162 2.1.4.2 (plus: equal sizes need an empty proof and equal roots; size 0 proves nothing). Never throws. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): VerifyResult {
  if (!isSize(size1) || !isSize(size2)) return fail('tree sizes must be non-negative integers');
  if (size1 > size2) return fail(`size1 ${size1} is greater than size2 ${size2}`);
  if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return fail('roots must be byte arrays');
  if (!Array.isArray(proof)) return fail('the proof must be an array');
  if (size1 === 0) return fail('a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length !== 0) return fail('sizes are equal but the proof is not empty');
    return bytesEqual(root1, root2) ? { ok: true } : fail('sizes are equal but the roots differ');
  }
  if (proof.length === 0) return fail('the proof is empty');
  if (!isProof(proof) || !isHash(root1) || !isHash(root2)) return fail('roots and proof elements must be 32-byte hashes');
  const path = isPow2(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return fail('the proof is longer than needed for these sizes');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return fail('the proof is shorter than needed for these sizes');
  if (!bytesEqual(fr, root1)) return fail('the proof does not lead to root1 (the older tree)');
  if (!bytesEqual(sr, root2)) return fail('the proof does not lead to root2 (the newer tree)');
  return { ok: true };
}

function isPow2(v: number): boolean {
  let x = v;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
