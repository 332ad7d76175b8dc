/**
 * JSON Pointers (RFC 6901) with `*` for "every item of an array", compiled into a trie. Pointers may
 * not overlap: one that is a prefix of another (`/customer` and `/customer/email`) would leave it
 * unclear which rule applies, so the policy is refused instead.
 */
export interface PointerNode<R> {
  rule?: R;
  /** the pointer as written in the policy, for messages */
  pointer?: string;
  children: Map<string, PointerNode<R>>;
  /** the `*` child: any array index */
  star?: PointerNode<R>;
}

export type ParsedPointer = { ok: true; tokens: string[] } | { ok: false; message: string; fix: string };

export function parsePointer(pointer: string): ParsedPointer {
  if (pointer === '') return { ok: false, message: 'the root pointer "" cannot be masked as a whole', fix: 'list the members of each record, e.g. /email' };
  if (!pointer.startsWith('/')) return { ok: false, message: `${JSON.stringify(pointer.slice(0, 64))} is not a JSON Pointer (it must start with /)`, fix: `write "/${pointer.slice(0, 64)}"` };
  const tokens = pointer.slice(1).split('/');
  for (const t of tokens) {
    if (/~[^01]|~$/.test(t)) return { ok: false, message: `${JSON.stringify(pointer.slice(0, 64))} has a ~ that is not ~0 or ~1`, fix: 'write ~0 for a literal ~ and ~1 for a literal / inside a member name' };
  }
  return { ok: true, tokens: tokens.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')) };
}

const isIndex = (t: string) => /^(0|[1-9][0-9]*)$/.test(t);

export const createPointerTrie = <R>(): PointerNode<R> => ({ children: new Map() });

/** Insert; returns a problem message when the pointer overlaps one already inserted. */
export function insertPointer<R>(root: PointerNode<R>, pointer: string, tokens: readonly string[], rule: R): string | undefined {
  let node = root;
  for (const t of tokens) {
    if (node.rule !== undefined) return `overlaps ${node.pointer}: that rule already covers everything under it`;
    if (t === '*' && [...node.children.keys()].some(isIndex)) return 'mixes `*` with an array index at the same level as another pointer';
    if (isIndex(t) && node.star) return 'mixes an array index with `*` at the same level as another pointer';
    let child = t === '*' ? node.star : node.children.get(t);
    if (!child) {
      child = { children: new Map() };
      if (t === '*') node.star = child;
      else node.children.set(t, child);
    }
    node = child;
  }
  if (node.rule !== undefined) return `repeats ${node.pointer}`;
  if (node.children.size > 0 || node.star) return 'overlaps a longer pointer listed in the policy: it would cover it';
  node.rule = rule;
  node.pointer = pointer;
  return undefined;
}

/** `/a/0/b` -> token escape for messages */
export { toPointer as formatPointer } from '../domain/json-pointer.ts';
