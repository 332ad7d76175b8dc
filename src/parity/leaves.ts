/**
 * Leaf-level differences of two JSON documents: microdiff finds the changed subtrees, each is then
 * expanded into leaves (a scalar, or an empty object/array) so every difference has one JSON Pointer
 * and one value per side, and rules can allow a single leaf.
 */
import diff from 'microdiff';

export interface LeafDifference {
  segments: string[];
  /** absent on that side when `hasA`/`hasB` is false */
  a?: unknown;
  b?: unknown;
  hasA: boolean;
  hasB: boolean;
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;

/** call `fn` for every leaf of `value` under `prefix` */
export function forEachLeaf(value: unknown, prefix: string[], fn: (segments: string[], leaf: unknown) => void): void {
  if (isContainer(value)) {
    const keys = Object.keys(value);
    if (keys.length > 0) {
      for (const k of keys) forEachLeaf((value as Record<string, unknown>)[k], [...prefix, k], fn);
      return;
    }
  }
  fn(prefix, value);
}

export function countLeaves(value: unknown): number {
  if (!isContainer(value)) return 1;
  const keys = Object.keys(value);
  if (keys.length === 0) return 1;
  let n = 0;
  for (const k of keys) n += countLeaves((value as Record<string, unknown>)[k]);
  return n;
}

/**
 * Every leaf that differs between `a` and `b` (both objects; a missing side is `{}`), with
 * `prefix` prepended to each path; and how many leaves were compared (the union of both sides).
 */
export function diffLeaves(a: Record<string, unknown>, b: Record<string, unknown>, prefix: readonly string[]): { differences: LeafDifference[]; compared: number } {
  const differences: LeafDifference[] = [];
  let onlyB = 0;
  for (const d of diff(a, b)) {
    const base = [...prefix, ...d.path.map(String)];
    const byPointer = new Map<string, LeafDifference>();
    const key = (segs: string[]) => segs.join('\u0000');
    if (d.type !== 'CREATE') {
      forEachLeaf(d.oldValue, base, (segments, leaf) => byPointer.set(key(segments), { segments, a: leaf, hasA: true, hasB: false }));
    }
    if (d.type !== 'REMOVE') {
      forEachLeaf(d.value, base, (segments, leaf) => {
        const k = key(segments);
        const have = byPointer.get(k);
        if (have) {
          have.b = leaf;
          have.hasB = true;
        } else {
          byPointer.set(k, { segments, b: leaf, hasA: false, hasB: true });
          onlyB++;
        }
      });
    }
    for (const l of byPointer.values()) if (!(l.hasA && l.hasB && Object.is(l.a, l.b))) differences.push(l);
  }
  let leavesA = 0;
  for (const k of Object.keys(a)) leavesA += countLeaves(a[k]);
  return { differences, compared: leavesA + onlyB };
}
