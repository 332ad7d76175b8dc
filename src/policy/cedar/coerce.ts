/**
 * Turn `key=value` text (from command-line flags) into typed Cedar attribute values using the
 * schema: `true`/`false` for Bool attributes, integers for Long, strings otherwise.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { DomainError } from '../../domain/errors.ts';
import { cedarNamespace } from './actions.ts';
import type { AttrValue } from './authorizer.ts';

type AttrTypes = Record<string, string>;

interface ResolvedType {
  type?: string;
  attributes?: Record<string, { type?: string }>;
}

const cache = new Map<string, { entities: Record<string, AttrTypes>; contexts: Record<string, AttrTypes> }>();

function typesOf(schemaText: string) {
  const hit = cache.get(schemaText);
  if (hit) return hit;
  const answer = cedar.schemaToJsonWithResolvedTypes(schemaText);
  const entities: Record<string, AttrTypes> = {};
  const contexts: Record<string, AttrTypes> = {};
  if (answer.type === 'success') {
    const ns = answer.json[cedarNamespace];
    const common = (ns?.commonTypes ?? {}) as Record<string, ResolvedType>;
    const flat = (t: ResolvedType | undefined): AttrTypes => {
      const rec = t?.type && t.type !== 'Record' ? common[t.type.replace(`${cedarNamespace}::`, '')] : t;
      return Object.fromEntries(Object.entries(rec?.attributes ?? {}).map(([k, v]) => [k, v.type ?? 'String']));
    };
    for (const [name, e] of Object.entries(ns?.entityTypes ?? {})) entities[name] = flat((e as { shape?: ResolvedType }).shape);
    for (const [name, a] of Object.entries(ns?.actions ?? {})) contexts[name] = flat(a.appliesTo?.context as ResolvedType | undefined);
  }
  const types = { entities, contexts };
  cache.set(schemaText, types);
  return types;
}

/** parse `k=v` pairs; `what` names the flag in errors */
export function parsePairs(pairs: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new DomainError('invalid_input', `${what} ${JSON.stringify(pair)} is not key=value`, { field: what, fix: `write ${what} tier=prod` });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function coerce(raw: Record<string, string>, types: AttrTypes, where: string): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(raw)) {
    const t = types[k];
    if (t === 'Bool' || t === 'Boolean') {
      if (v !== 'true' && v !== 'false') throw new DomainError('invalid_input', `${where}.${k} is a Bool: write true or false, not ${JSON.stringify(v)}`, { field: `${where}.${k}` });
      out[k] = v === 'true';
    } else if (t === 'Long') {
      if (!/^-?\d{1,15}$/.test(v)) throw new DomainError('invalid_input', `${where}.${k} is a Long: write an integer, not ${JSON.stringify(v)}`, { field: `${where}.${k}` });
      out[k] = Number(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

export const coerceAttrs = (schemaText: string, entityType: string, raw: Record<string, string>): Record<string, AttrValue> =>
  coerce(raw, typesOf(schemaText).entities[entityType] ?? {}, 'resource');

export const coerceContext = (schemaText: string, action: string, raw: Record<string, string>): Record<string, AttrValue> =>
  coerce(raw, typesOf(schemaText).contexts[action] ?? {}, 'context');
