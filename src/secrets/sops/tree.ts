/**
 * The ordered tree of a SOPS document and its three stores (JSON, YAML, dotenv). Order matters: the
 * SOPS MAC hashes the values in document order, so maps are kept as ordered entry lists rather than
 * JS objects (which would move integer-like keys to the front).
 */
import { isDeepStrictEqual } from 'node:util';
import { Scalar, isMap, isPair, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { DomainError } from '../../domain/errors.ts';
import type { Leaf } from './value-cipher.ts';

export const sopsFormats = ['json', 'yaml', 'dotenv'] as const;
export type SopsFormat = (typeof sopsFormats)[number];

export type TreeNode =
  | { k: 'map'; entries: Array<[string, TreeNode]> }
  | { k: 'list'; items: TreeNode[] }
  | { k: 'leaf'; leaf: Leaf };
export type MapNode = Extract<TreeNode, { k: 'map' }>;

export const MAX_DEPTH = 64;

export interface ParsedSopsText {
  body: MapNode;
  /** the raw `sops` metadata, as plain JS (dotenv keys already unflattened) */
  sops: unknown;
}

const invalid = (message: string, field?: string, fix?: string): DomainError =>
  new DomainError('invalid_input', message, {
    ...(field ? { field } : {}),
    fix: fix ?? 'check that the file is a SOPS file in the stated format',
  });

// ---------- plain JS <-> tree ----------

/** A plain JS value to a tree; `numbers` says how numbers are typed (sops' JSON store uses float). */
export function fromPlain(value: unknown, numbers: 'json' | 'yaml', path = '', depth = 0): TreeNode {
  if (depth > MAX_DEPTH) throw invalid(`the document is nested deeper than ${MAX_DEPTH} levels`, path);
  if (value === null) return { k: 'leaf', leaf: { t: 'null' } };
  if (typeof value === 'string') return { k: 'leaf', leaf: { t: 'str', v: value } };
  if (typeof value === 'boolean') return { k: 'leaf', leaf: { t: 'bool', v: value } };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`the number at ${path || '/'} is not finite`, path);
    const t = numbers === 'yaml' && Number.isSafeInteger(value) ? 'int' : 'float';
    return { k: 'leaf', leaf: { t, v: value } };
  }
  if (Array.isArray(value)) {
    return { k: 'list', items: value.map((v, i) => fromPlain(v, numbers, `${path}[${i}]`, depth + 1)) };
  }
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return {
      k: 'map',
      entries: Object.entries(value as Record<string, unknown>).map(([key, v]) => [
        key,
        fromPlain(v, numbers, path ? `${path}.${key}` : key, depth + 1),
      ]),
    };
  }
  throw invalid(`unsupported value at ${path || '/'} (${typeof value})`, path, 'use strings, numbers, booleans, null, arrays and objects');
}

export function toPlain(node: TreeNode): unknown {
  switch (node.k) {
    case 'leaf':
      return node.leaf.t === 'null' ? null : node.leaf.v;
    case 'list':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [key, v] of node.entries) {
        Object.defineProperty(out, key, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

// ---------- parse ----------

function fromYamlNode(node: unknown, format: 'json' | 'yaml', path: string, depth: number): TreeNode {
  if (depth > MAX_DEPTH) throw invalid(`the document is nested deeper than ${MAX_DEPTH} levels`, path);
  if (node === null || node === undefined) return { k: 'leaf', leaf: { t: 'null' } };
  if (isMap(node)) {
    const entries: Array<[string, TreeNode]> = [];
    for (const item of node.items) {
      if (!isPair(item)) throw invalid(`unexpected map item at ${path || '/'}`, path);
      const key = keyOf(item.key, path);
      entries.push([key, fromYamlNode(item.value, format, path ? `${path}.${key}` : key, depth + 1)]);
    }
    return { k: 'map', entries };
  }
  if (isSeq(node)) {
    return { k: 'list', items: node.items.map((v, i) => fromYamlNode(v, format, `${path}[${i}]`, depth + 1)) };
  }
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return { k: 'leaf', leaf: { t: 'null' } };
    if (typeof v === 'string') return { k: 'leaf', leaf: { t: 'str', v } };
    if (typeof v === 'boolean') return { k: 'leaf', leaf: { t: 'bool', v } };
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid(`the number at ${path} is not finite`, path);
      const src = typeof node.source === 'string' ? node.source : '';
      const floaty = /[.eE]|inf|nan/i.test(src);
      const t = format === 'yaml' && Number.isSafeInteger(v) && !floaty ? 'int' : 'float';
      return { k: 'leaf', leaf: { t, v } };
    }
    throw invalid(`unsupported scalar at ${path} (${typeof v})`, path, 'use strings, numbers, booleans and null');
  }
  throw invalid(`unsupported YAML node at ${path || '/'} (aliases and tags are not supported)`, path);
}

function keyOf(key: unknown, path: string): string {
  if (isScalar(key)) {
    if (typeof key.value === 'string') return key.value;
    if (typeof key.source === 'string') return key.source;
    if (typeof key.value === 'number' || typeof key.value === 'boolean') return String(key.value);
  }
  throw invalid(`a map key at ${path || '/'} is not a scalar`, path, 'use string keys');
}

function parseYamlOrJson(text: string, format: 'json' | 'yaml'): ParsedSopsText {
  let jsonCheck: unknown;
  if (format === 'json') {
    try {
      jsonCheck = JSON.parse(text);
    } catch (e) {
      throw invalid(`the file is not valid JSON: ${(e as Error).message}`);
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw invalid(`the file is not valid ${format.toUpperCase()}: ${doc.errors[0]?.message}`);
  const root = fromYamlNode(doc.contents as YamlNode | null, format, '', 0);
  if (root.k !== 'map') throw invalid('the top level of a SOPS file must be a map');
  if (format === 'json' && !isDeepStrictEqual(toPlain(root), jsonCheck)) {
    throw invalid('the JSON file uses constructs this reader does not support (duplicate keys?)');
  }
  const sopsEntry = root.entries.find(([key]) => key === 'sops');
  return {
    body: { k: 'map', entries: root.entries.filter(([key]) => key !== 'sops') },
    sops: sopsEntry ? toPlain(sopsEntry[1]) : undefined,
  };
}

/** `a__list_0__map_b` -> a[0].b, as sops' dotenv store flattens its metadata. */
function unflattenDotenv(flat: Array<[string, string]>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of flat) {
    const parts = key.split('__');
    let cur: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      const last = i === parts.length - 1;
      const next = parts[i + 1] ?? '';
      const seg: string | number = i === 0 ? part : /^list_\d+$/.test(part) ? Number(part.slice(5)) : part.replace(/^map_/, '');
      if (typeof seg === 'number' && seg > 1000) throw invalid(`list index too large in sops_${key}`, `sops_${key}`);
      const container = cur as Record<string | number, unknown>;
      if (last) {
        container[seg] = value;
      } else {
        if (container[seg] === undefined) container[seg] = /^list_\d+$/.test(next) ? [] : {};
        cur = container[seg] as Record<string, unknown> | unknown[];
      }
    }
  }
  return root;
}

function parseDotenv(text: string): ParsedSopsText {
  const entries: Array<[string, TreeNode]> = [];
  const meta: Array<[string, string]> = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new DomainError('invalid_input', `line ${i + 1} is not KEY=VALUE`, {
        line: i + 1,
        fix: 'every non-comment line of a dotenv SOPS file is KEY=VALUE',
      });
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).replaceAll('\\n', '\n');
    if (seen.has(key)) throw new DomainError('invalid_input', `duplicate key ${key} on line ${i + 1}`, { line: i + 1, field: key });
    seen.add(key);
    if (key.startsWith('sops_')) meta.push([key.slice(5), value]);
    else entries.push([key, { k: 'leaf', leaf: { t: 'str', v: value } }]);
  }
  return { body: { k: 'map', entries }, sops: meta.length > 0 ? unflattenDotenv(meta) : undefined };
}

export function parseSopsText(text: string, format: SopsFormat): ParsedSopsText {
  return format === 'dotenv' ? parseDotenv(text) : parseYamlOrJson(text, format);
}

// ---------- emit ----------

/** The `sops` section as written: age entries, lastmodified, mac, unencrypted_suffix, version. */
export interface EmittedSopsMeta {
  age: Array<{ recipient: string; enc: string }>;
  lastmodified: string;
  mac: string;
  [key: string]: unknown;
}

function toJsForYaml(node: TreeNode): unknown {
  switch (node.k) {
    case 'leaf':
      return node.leaf.t === 'null' ? null : node.leaf.v;
    case 'list':
      return node.items.map(toJsForYaml);
    case 'map':
      return new Map(node.entries.map(([key, v]) => [key, toJsForYaml(v)]));
  }
}

function jsonOf(value: unknown, indent: string): string {
  if (value instanceof Map) {
    if (value.size === 0) return '{}';
    const inner = `${indent}  `;
    const parts = [...value].map(([key, v]) => `${inner}${JSON.stringify(key)}: ${jsonOf(v, inner)}`);
    return `{\n${parts.join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + jsonOf(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'number') return JSON.stringify(value);
  return JSON.stringify(value);
}

function metaMap(meta: EmittedSopsMeta): Map<string, unknown> {
  const m = new Map<string, unknown>();
  m.set('age', meta.age.map((a) => new Map([['recipient', a.recipient], ['enc', a.enc]])));
  for (const key of Object.keys(meta).filter((k) => k !== 'age').sort()) m.set(key, meta[key]);
  return m;
}

export function emitSopsText(body: MapNode, meta: EmittedSopsMeta, format: SopsFormat): string {
  if (format === 'dotenv') {
    const lines: string[] = [];
    for (const [key, node] of body.entries) {
      if (node.k !== 'leaf' || node.leaf.t !== 'str') {
        throw invalid(`dotenv values must be strings; ${key} is not`, key);
      }
      lines.push(`${key}=${node.leaf.v.replaceAll('\n', '\\n')}`);
    }
    const flat: Array<[string, string]> = [];
    meta.age.forEach((a, i) => {
      flat.push([`sops_age__list_${i}__map_enc`, a.enc]);
      flat.push([`sops_age__list_${i}__map_recipient`, a.recipient]);
    });
    for (const key of Object.keys(meta).filter((k) => k !== 'age')) flat.push([`sops_${key}`, String(meta[key])]);
    flat.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, v] of flat) lines.push(`${key}=${v.replaceAll('\n', '\\n')}`);
    return `${lines.join('\n')}\n`;
  }
  const root = toJsForYaml(body) as Map<string, unknown>;
  root.set('sops', metaMap(meta));
  if (format === 'json') return `${jsonOf(root, '')}\n`;
  const yamlMeta = metaMap(meta);
  // quoted like sops writes it, so no YAML 1.1 reader takes it for a timestamp
  const lm = new Scalar(meta.lastmodified);
  lm.type = 'QUOTE_DOUBLE';
  yamlMeta.set('lastmodified', lm);
  root.set('sops', yamlMeta);
  return stringify(root, { blockQuote: 'literal', lineWidth: 0, indentSeq: true });
}
