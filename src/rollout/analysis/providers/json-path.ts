/**
 * A tiny JSON path: `$`, `$.a.b`, `$.items[0].value`, `$['key with space']`. No wildcards, filters
 * or recursion: at most 32 steps, names up to 128 characters.
 */
export type PathStep = string | number;

const STEP = /^(?:\.([A-Za-z_$][A-Za-z0-9_$-]{0,127})|\[(\d{1,6})\]|\['([^'\\]{1,128})'\]|\["([^"\\]{1,128})"\])/;

/** Parse a path; throws with the offending position when it is not one we support. */
export function parseJsonPath(path: string): PathStep[] {
  if (path.length > 256) throw new Error('a JSON path is at most 256 characters');
  if (!path.startsWith('$')) throw new Error(`JSON path ${JSON.stringify(path)} must start with $`);
  const steps: PathStep[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (!m) throw new Error(`JSON path ${JSON.stringify(path)}: cannot read ${JSON.stringify(rest.slice(0, 20))} at column ${path.length - rest.length + 1}; write steps like .name, [0] or ['a key']`);
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4] ?? ''));
    rest = rest.slice(m[0].length);
    if (steps.length > 32) throw new Error(`JSON path ${JSON.stringify(path)} has more than 32 steps`);
  }
  return steps;
}

export function selectJsonPath(value: unknown, steps: readonly PathStep[], path: string): unknown {
  let cur = value;
  for (const [i, step] of steps.entries()) {
    const at = () => `$${steps.slice(0, i + 1).map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')}`;
    if (typeof step === 'number') {
      if (!Array.isArray(cur)) throw new Error(`JSON path ${path}: ${at()} indexes something that is not an array`);
      if (step >= cur.length) throw new Error(`JSON path ${path}: ${at()} is past the end (the array has ${cur.length} items)`);
      cur = cur[step];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, step)) throw new Error(`JSON path ${path}: ${at()} is not in the response`);
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}
