/**
 * Whether a regular expression may backtrack catastrophically: a group that holds an unbounded
 * quantifier (`+`, `*`, `{n,}`) and is itself repeated without bound, like `(a+)+` or `(\w*x)*`.
 */
export function hasNestedQuantifier(pattern: string): boolean {
  const stack: boolean[] = [];
  let lastGroupUnbounded = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    let closedGroup = false;
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(') {
      stack.push(false);
    } else if (c === ')') {
      lastGroupUnbounded = stack.pop() ?? false;
      closedGroup = true;
    } else if (c === '+' || c === '*' || (c === '{' && /^\{\d*,\}/.test(pattern.slice(i)))) {
      if (stack.length > 0) stack[stack.length - 1] = true;
    }
    if (closedGroup) {
      const next = pattern[i + 1];
      const unboundedNext = next === '+' || next === '*' || (next === '{' && /^\{\d*,\}/.test(pattern.slice(i + 1)));
      if (unboundedNext && lastGroupUnbounded) return true;
      // a repeated group counts as unbounded for its enclosing group
      if (lastGroupUnbounded && stack.length > 0) stack[stack.length - 1] = true;
    }
  }
  return false;
}
