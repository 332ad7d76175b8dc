import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  consistencyProof,
  createRootAccumulator,
  emptyRoot,
  type GetNode,
  inclusionProof,
  leafHash,
  nodeHash,
  nodesToAdd,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

const vectorRoot = fileURLToPath(new URL('../../../shared/vectors/rfc9162/', import.meta.url));
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return jsonFiles(p);
    return name.endsWith('.json') ? [p] : [];
  });
}

/** RFC 9162 MTH written straight from the definition, as an independent reference. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return emptyRoot();
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** Build the stored-node map for a list of leaf hashes using nodesToAdd, as the log does. */
async function buildTree(leaves: Uint8Array[]): Promise<GetNode> {
  const nodes = new Map<string, Uint8Array>();
  const getNode: GetNode = async (l, i) => nodes.get(`${l}:${i}`);
  for (const [i, h] of leaves.entries()) {
    for (const row of await nodesToAdd(i, h, getNode)) nodes.set(`${row.level}:${row.index}`, row.hash);
  }
  return getNode;
}

const leavesOf = (n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));

describe('RFC 9162 vectors', () => {
  const inclusion = jsonFiles(join(vectorRoot, 'inclusion'));
  const consistency = jsonFiles(join(vectorRoot, 'consistency'));

  test('all vector files are found', () => {
    assert.equal(inclusion.length, 98, "inclusion vector files");
    assert.equal(consistency.length, 98, "consistency vector files");
    assert.ok(inclusion.some((f) => f.includes('single-entry')) && inclusion.some((f) => f.includes('additional')));
    assert.ok(consistency.some((f) => f.includes('additional')));
  });

  for (const file of inclusion) {
    test(`inclusion ${file.slice(vectorRoot.length)}`, () => {
      const v = JSON.parse(readFileSync(file, 'utf8'));
      const res = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
      assert.equal(res.ok, !v.wantErr, `${v.desc}: ${res.ok ? 'ok' : res.reason}`);
    });
  }

  for (const file of consistency) {
    test(`consistency ${file.slice(vectorRoot.length)}`, () => {
      const v = JSON.parse(readFileSync(file, 'utf8'));
      const res = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
      assert.equal(res.ok, !v.wantErr, `${v.desc}: ${res.ok ? 'ok' : res.reason}`);
    });
  }
});

describe('hashing', () => {
  test('empty root, leaf and node prefixes', () => {
    assert.equal(Buffer.from(emptyRoot()).toString('base64'), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    assert.equal(
      Buffer.from(leafHash(new Uint8Array())).toString('hex'),
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    assert.notDeepEqual(nodeHash(leafHash(Uint8Array.of(1)), leafHash(Uint8Array.of(2))), leafHash(Uint8Array.of(1, 2)));
  });

  test('rootFromLeafHashes and the accumulator agree with MTH for sizes 0..70', () => {
    const leaves = leavesOf(70);
    const acc = createRootAccumulator();
    for (let n = 0; n <= 70; n++) {
      assert.deepEqual(rootFromLeafHashes(leaves.slice(0, n)), mth(leaves.slice(0, n)), `size ${n}`);
      assert.deepEqual(acc.root(), mth(leaves.slice(0, n)));
      if (n < 70) acc.push(leaves[n] as Uint8Array);
    }
    assert.equal(acc.size(), 70);
  });
});

describe('proofs from stored nodes', () => {
  test('every inclusion and consistency proof of trees up to 40 leaves verifies', async () => {
    const leaves = leavesOf(40);
    const getNode = await buildTree(leaves);
    for (let n = 1; n <= 40; n++) {
      const root = mth(leaves.slice(0, n));
      for (let i = 0; i < n; i++) {
        const proof = await inclusionProof(i, n, getNode);
        const res = verifyInclusion(i, n, leaves[i] as Uint8Array, proof, root);
        assert.ok(res.ok, `inclusion ${i} in ${n}`);
        assert.equal(verifyInclusion(i, n, leaves[(i + 1) % n] as Uint8Array, proof, root).ok, n === 1);
      }
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyProof(m, n, getNode);
        const res = verifyConsistency(m, n, proof, mth(leaves.slice(0, m)), root);
        assert.ok(res.ok, `consistency ${m} -> ${n}: ${res.ok ? '' : res.reason}`);
      }
    }
  });

  test('bad requests throw DomainError, missing nodes are reported', async () => {
    const getNode = await buildTree(leavesOf(5));
    await assert.rejects(inclusionProof(5, 5, getNode), { code: 'invalid_input' });
    await assert.rejects(inclusionProof(-1, 5, getNode), { code: 'invalid_input' });
    await assert.rejects(consistencyProof(0, 5, getNode), { code: 'invalid_input' });
    await assert.rejects(consistencyProof(4, 3, getNode), { code: 'invalid_input' });
    await assert.rejects(inclusionProof(0, 9, getNode), { code: 'internal', message: /missing/ });
    await assert.rejects(nodesToAdd(7, leafHash(Uint8Array.of()), async () => undefined), { code: 'internal' });
  });

  test('verify functions never throw on garbage', () => {
    const junk = [undefined, null, 'x', -1, 1.5, Number.NaN, 2 ** 60, {}, [1], new Uint8Array(3)];
    for (const a of junk) {
      for (const b of junk) {
        const f = verifyInclusion as (...args: unknown[]) => { ok: boolean };
        const g = verifyConsistency as (...args: unknown[]) => { ok: boolean };
        assert.equal(f(a, b, a, b, a).ok, false);
        assert.equal(f(0, 1, new Uint8Array(32), b, a).ok, false);
        assert.equal(g(a, b, a, b, a).ok, false);
        assert.equal(g(1, 2, [new Uint8Array(32)], a, b).ok, false);
      }
    }
  });

  test('property: random trees, proofs verify and a flipped bit fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        async (n, a, b, bit) => {
          const leaves = leavesOf(n);
          const getNode = await buildTree(leaves);
          const i = a % n;
          const root = mth(leaves);
          const proof = await inclusionProof(i, n, getNode);
          assert.ok(verifyInclusion(i, n, leaves[i] as Uint8Array, proof, root).ok);
          const m = (b % n) + 1;
          const cproof = await consistencyProof(m, n, getNode);
          const root1 = mth(leaves.slice(0, m));
          assert.ok(verifyConsistency(m, n, cproof, root1, root).ok);
          const flip = (arr: Uint8Array[]): Uint8Array[] => {
            const copy = arr.map((x) => Uint8Array.from(x));
            const j = bit % (copy.length * 256);
            const el = copy[Math.floor(j / 256)] as Uint8Array;
            el[(j % 256) >> 3] = (el[(j % 256) >> 3] as number) ^ (1 << (j % 8));
            return copy;
          };
          if (proof.length > 0) assert.equal(verifyInclusion(i, n, leaves[i] as Uint8Array, flip(proof), root).ok, false);
          const badRoot = flip([root])[0] as Uint8Array;
          assert.equal(verifyInclusion(i, n, leaves[i] as Uint8Array, proof, badRoot).ok, false);
          if (cproof.length > 0) assert.equal(verifyConsistency(m, n, flip(cproof), root1, root).ok, false);
          assert.equal(verifyConsistency(m, n, cproof, root1, badRoot).ok, false);
        },
      ),
      { numRuns: 150 },
    );
  });
});
