/**
 * The JSON side of a policy: its JSON Pointers compiled into a trie, and the walk that applies
 * them to one record. Unlisted members follow the policy's `default`; null and empty containers
 * carry no data and never fail. Errors name the line and the pointer, never the value.
 */
import { DomainError } from '../domain/errors.ts';
import { type Action, compileAction, type MaskStats, maskJsonScalar } from './actions.ts';
import { failPolicy, type LoadedPolicy, type PolicyProblem } from './policy-load.ts';
import { createPointerTrie, formatPointer, insertPointer, parsePointer, type PointerNode } from './pointer.ts';
import type { Prf } from './prf.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export const DROP = Symbol('drop');
export type Rule = { action: Action; key: string };

/** Compile the policy's pointers; throws a policy error (file:line:col) for bad or overlapping pointers. */
export function compilePointers(loaded: LoadedPolicy, prf: Prf): PointerNode<Rule> {
  const root = createPointerTrie<Rule>();
  const problems: PolicyProblem[] = [];
  for (const [key, rule] of loaded.policy.fields) {
    if (!key.startsWith('/')) continue; // a CSV column: one policy may cover a CSV and a JSON Lines export
    const p = parsePointer(key);
    const problem = (message: string, fix: string) => problems.push({ ...loaded.where(key), field: `fields[${JSON.stringify(key.slice(0, 100))}]`, message, fix });
    if (!p.ok) {
      problem(p.message, p.fix);
      continue;
    }
    const scope = [...p.tokens].reverse().find((t) => t !== '*') ?? key;
    const overlap = insertPointer(root, key, p.tokens, { action: compileAction(rule, prf, scope), key });
    if (overlap) problem(`${key} ${overlap}`, 'keep one of them; to mask some members of an object and keep the rest, list each member');
  }
  if (problems.length) failPolicy(loaded.file, problems);
  return root;
}

export interface Ctx {
  input: string;
  line: number;
  loaded: LoadedPolicy;
  stats: MaskStats;
}
type Seg = { token: string | number; index: boolean };

const located = (ctx: Ctx, path: Seg[], message: string, fix: string) => {
  const pointer = formatPointer(path.map((s) => s.token));
  return new DomainError('invalid_input', `${ctx.input}:${ctx.line}: field ${pointer} ${message}`, { file: ctx.input, line: ctx.line, field: pointer, fix });
};

/** true when `value` nests deeper than `limit` (looks no deeper than that) */
export function tooDeep(value: Json, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (limit === 0) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (tooDeep(v, limit - 1)) return true;
  return false;
}

/** first pointer under `value` that holds data (not null, not an empty container) */
function firstData(value: Json, path: Seg[]): Seg[] | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = firstData(value[i] as Json, [...path, { token: i, index: true }]);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = firstData(v, [...path, { token: k, index: false }]);
      if (p) return p;
    }
    return undefined;
  }
  return path;
}

function unlisted(value: Json, path: Seg[], ctx: Ctx): Json | typeof DROP {
  const d = ctx.loaded.policy.default;
  if (d === 'keep') return value;
  if (d === 'drop') {
    ctx.stats.droppedByDefault.add(formatPointer(path.map((s) => (s.index ? '*' : s.token))));
    return DROP;
  }
  const p = firstData(value, path);
  if (!p) return value;
  const pattern = formatPointer(p.map((s) => (s.index ? '*' : s.token)));
  throw located(ctx, p, `is not in the masking policy ${ctx.loaded.file} (default: error)`, `add "${pattern}" under fields: with a method (email, phone, id, name, text, keep, drop, null or {fixed: VALUE}), or set default: keep|drop`);
}

function apply(rule: Rule, value: Json, path: Seg[], ctx: Ctx): Json | typeof DROP {
  ctx.stats.used.add(rule.key);
  const a = rule.action;
  switch (a.kind) {
    case 'keep':
      return value;
    case 'drop':
      return DROP;
    case 'null':
      return null;
    case 'fixed':
      return a.value;
    case 'mask':
      if (value !== null && typeof value === 'object')
        throw located(ctx, path, `is ${Array.isArray(value) ? 'an array' : 'an object'}; method ${a.method} masks strings and numbers`, `point at its members instead (e.g. ${rule.key}/* for array items), or use keep, drop, null or {fixed: VALUE}`);
      return maskJsonScalar(a, value);
  }
}

export function visit(value: Json, node: PointerNode<Rule> | undefined, path: Seg[], ctx: Ctx): Json | typeof DROP {
  if (node?.rule) return apply(node.rule, value, path, ctx);
  if (value === null) return null;
  if (!node || typeof value !== 'object') return unlisted(value, path, ctx);
  if (Array.isArray(value)) {
    const out: Json[] = [];
    value.forEach((item, i) => {
      const child = node.children.get(String(i)) ?? node.star;
      const seg = [...path, { token: i, index: true }];
      const r = child ? visit(item, child, seg, ctx) : unlisted(item, seg, ctx);
      if (r !== DROP) out.push(r);
    });
    return out;
  }
  const out: { [k: string]: Json } = Object.create(null); // a member named __proto__ stays a member
  for (const [k, v] of Object.entries(value)) {
    const child = node.children.get(k);
    const seg = [...path, { token: k, index: false }];
    const r = child ? visit(v, child, seg, ctx) : unlisted(v, seg, ctx);
    if (r !== DROP) out[k] = r;
  }
  return out;
}
