/**
 * Read one manifest YAML file: bounded size, one document, no duplicate keys, no tags; every error
 * names file:line:column and the fix. Keeps the parsed document to locate JSON Pointers later.
 */
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import { DomainError } from '../../domain/errors.ts';
import { segmentsOf } from './pointer.ts';

export const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_ALIASES = 100;

export interface ManifestYaml {
  file: string;
  data: unknown;
  /** line and column of the node at a JSON Pointer (nearest existing parent when it is missing) */
  locate(pointer: string): { line: number; column: number };
}

const fixes: Record<string, string> = {
  DUPLICATE_KEY: 'remove one of the two entries with this key',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MULTIPLE_DOCS: 'keep a single YAML document (remove the extra `---`)',
  TAG_RESOLVE_FAILED: 'remove the `!tag`; manifests use plain YAML values',
};

function nodeAt(doc: Document, pointer: string): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = isNode(node) ? node : undefined;
  const segs = segmentsOf(pointer);
  for (const [i, seg] of segs.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === seg);
      // the last segment points at its key (`name: value` starts there), others descend into values
      node = i === segs.length - 1 ? (pair?.key ?? pair?.value) : (pair?.value ?? pair?.key);
    } else if (isSeq(node)) node = node.items[Number(seg)];
    else node = undefined;
    if (!isNode(node)) break;
    found = node;
  }
  return found;
}

export function parseManifestYaml(text: string, file: string): ManifestYaml {
  const fail = (line: number, column: number, message: string, fix: string): never => {
    throw new DomainError('invalid_input', `${file}:${line}:${column}: ${message}`, { file, line, column, fix });
  };
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) fail(1, 1, `the file is larger than ${MAX_MANIFEST_BYTES} bytes`, 'split the configuration or move large data out of the manifest');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const first = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (first) {
    const pos = lc.linePos(first.pos[0]);
    fail(pos.line, pos.col, `YAML: ${first.message.split('\n')[0] ?? first.message}`, fixes[first.code] ?? 'fix the YAML syntax here (indentation, quotes, colons, brackets)');
  }
  const plainTags = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));
  visit(doc, (_key, node) => {
    const tag = isNode(node) ? node.tag : undefined;
    if (tag && !plainTags.has(tag) && isNode(node)) {
      const pos = lc.linePos(node.range?.[0] ?? 0);
      fail(pos.line, pos.col, `the tag ${tag} is not allowed`, 'remove the tag; manifests hold plain JSON-like values (strings, numbers, booleans, null, maps, lists)');
    }
  });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    fail(1, 1, `cannot read the YAML: ${(e as Error).message}`, `use at most ${MAX_ALIASES} alias (*name) references, only to anchors defined earlier`);
  }
  const locate = (pointer: string) => {
    const node = nodeAt(doc, pointer);
    const pos = node?.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
    return { line: pos.line, column: pos.col };
  };
  return { file, data: data ?? null, locate };
}
