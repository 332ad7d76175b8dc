/**
 * Load a masking policy: YAML (line/column kept), zod-validated, each field rule checked on its own
 * so every problem is reported at once as `file:line:col: field: what — fix: what to do`.
 */
import { readFile, stat } from 'node:fs/promises';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { type FieldRule, fixedRuleSchema, limits, type MaskPolicy, methodNames, methodRuleSchemas, policyFileSchema } from './policy-schema.ts';

export interface PolicyProblem {
  line: number;
  column: number;
  field: string;
  message: string;
  fix: string;
}

export interface LoadedPolicy {
  file: string;
  policy: MaskPolicy;
  /** line and column of a field key in the policy file (for errors found later) */
  where(fieldKey: string): { line: number; column: number };
}

type Path = (string | number)[];
const fieldLabel = (path: Path): string => path.map((p, i) => (i === 0 ? String(p) : typeof p === 'number' ? `[${p}]` : `[${JSON.stringify(p)}]`)).join('') || '(top level)';

function locate(doc: Document, lc: LineCounter, path: Path, key?: string): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
      if (isNode(pair?.key) && pair.key.range) {
        const p = lc.linePos(pair.key.range[0]);
        return { line: p.line, column: p.col };
      }
    }
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return { line: 1, column: 1 };
}

const FIX_DOCS = 'see docs/data-masking.md for the policy format';

function issueText(issue: z.core.$ZodIssue): { message: string; fix: string; key?: string } {
  switch (issue.code) {
    case 'unrecognized_keys':
      return { message: `unknown option(s) ${issue.keys.map((k) => `\`${k.slice(0, 64)}\``).join(', ')}`, fix: 'remove it or check the spelling; each method takes only its own options (docs/data-masking.md)', key: issue.keys[0] };
    case 'invalid_value':
      return { message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, fix: `use one of ${issue.values.map(String).join(', ')}` };
    case 'invalid_type':
      return { message: `expected ${issue.expected}`, fix: `write a ${issue.expected} here; ${FIX_DOCS}` };
    default:
      return { message: issue.message, fix: FIX_DOCS };
  }
}

/** Validate one entry of `fields`: a method name, `{fixed: VALUE}`, or `{method: NAME, ...options}`. */
export function parseFieldRule(raw: unknown): { ok: true; rule: FieldRule } | { ok: false; issues: { path: Path; message: string; fix: string; key?: string }[] } {
  const methods = methodNames.join(', ');
  if (typeof raw === 'string') {
    const schema = (methodRuleSchemas as Record<string, z.ZodType<FieldRule>>)[raw];
    if (schema) return { ok: true, rule: schema.parse({ method: raw }) };
    return { ok: false, issues: [{ path: [], message: `unknown method ${JSON.stringify(raw.slice(0, 64))}`, fix: `use one of ${methods}, or {fixed: VALUE}` }] };
  }
  if (raw === null)
    return { ok: false, issues: [{ path: [], message: 'no method (the value is empty or a bare YAML null)', fix: `write a method (${methods}); for the null method write "null" in quotes` }] };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, issues: [{ path: [], message: 'expected a method name or a mapping', fix: `write a method (${methods}), {fixed: VALUE} or {method: NAME, ...options}` }] };
  const schema: z.ZodType<unknown> | undefined =
    'fixed' in raw ? fixedRuleSchema : (methodRuleSchemas as Record<string, z.ZodType<unknown>>)[String((raw as { method?: unknown }).method)];
  if (!schema) {
    const m = (raw as { method?: unknown }).method;
    return {
      ok: false,
      issues: [{ path: m === undefined ? [] : ['method'], message: m === undefined ? 'missing `method` (or `fixed`)' : `unknown method ${JSON.stringify(String(m).slice(0, 64))}`, fix: `use one of ${methods}, or {fixed: VALUE}` }],
    };
  }
  const r = schema.safeParse(raw);
  if (!r.success) return { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), ...issueText(i) })) };
  return { ok: true, rule: 'fixed' in raw ? { method: 'fixed', value: (r.data as { fixed: string | number | boolean | null }).fixed } : (r.data as FieldRule) };
}

export function failPolicy(file: string, problems: PolicyProblem[]): never {
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  const listed = problems.slice(0, 100).map((p) => `${file}:${p.line}:${p.column}: ${p.field}: ${p.message} — fix: ${p.fix}`);
  const first = problems[0];
  throw new DomainError('invalid_input', `masking policy ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${listed.join('\n')}`, {
    file,
    ...(first ? { line: first.line, column: first.column, field: first.field } : {}),
    fix: 'fix each problem listed (file:line:column: field); see docs/data-masking.md',
  });
}

/** Parse and validate policy text; `file` is the name shown in messages. */
export function parsePolicy(text: string, file: string): LoadedPolicy {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const yamlErrors = doc.errors.map((e): PolicyProblem => {
    const p = lc.linePos(e.pos[0]);
    return { line: p.line, column: p.col, field: '(yaml)', message: e.message.split('\n')[0] ?? e.message, fix: 'fix the YAML syntax here (indentation, quotes, colons, duplicate keys)' };
  });
  if (yamlErrors.length) failPolicy(file, yamlErrors.slice(0, 1));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    failPolicy(file, [{ line: 1, column: 1, field: '(yaml)', message: `cannot read the YAML: ${(e as Error).message}`, fix: 'use few aliases, each after its anchor' }]);
  }
  if (data === null || data === undefined) failPolicy(file, [{ line: 1, column: 1, field: '(top level)', message: 'the policy is empty', fix: 'write at least `fields:` with one entry per column or field' }]);
  const problems: PolicyProblem[] = [];
  const add = (path: Path, message: string, fix: string, key?: string) => problems.push({ ...locate(doc, lc, path, key), field: fieldLabel(key === undefined ? path : [...path, key]), message, fix });
  const top = policyFileSchema.safeParse(data);
  if (!top.success) {
    for (const i of top.error.issues) {
      const path = i.path.map((p) => (typeof p === 'number' ? p : String(p)));
      if (i.code === 'invalid_type' && path.length === 1 && (data as Record<string, unknown>)[String(path[0])] === undefined) add([], `missing required field \`${path[0]}\``, `add \`${path[0]}:\``);
      else {
        const t = issueText(i);
        add(path, t.message, t.fix, t.key);
      }
    }
  }
  const rawFields = (data as { fields?: unknown }).fields;
  const fields = new Map<string, FieldRule>();
  const entries = rawFields !== null && typeof rawFields === 'object' && !Array.isArray(rawFields) ? Object.entries(rawFields).slice(0, limits.fields) : [];
  for (const [key, raw] of entries) {
    const r = parseFieldRule(raw);
    if (r.ok) fields.set(key, r.rule);
    else for (const i of r.issues) add(['fields', key, ...i.path], i.message, i.fix, i.key);
  }
  if (fields.size === 0 && problems.length === 0) add(['fields'], '`fields` is empty', 'list each column (CSV) or JSON Pointer (JSON Lines) with its method');
  if (problems.length || !top.success) failPolicy(file, problems);
  const t = top.data;
  return {
    file,
    policy: { ...(t.format ? { format: t.format } : {}), default: t.default, delimiter: t.csv?.delimiter ?? ',', maxRecordBytes: t.maxRecordBytes, fields },
    where: (fieldKey) => locate(doc, lc, ['fields'], fieldKey),
  };
}

/** Read (bounded) and parse a policy file. */
export async function loadPolicy(path: string, shownAs = path): Promise<LoadedPolicy> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw new DomainError('invalid_input', `masking policy ${shownAs} not found`, { file: shownAs, fix: 'pass --policy FILE with the path of a policy YAML file (docs/data-masking.md)' });
  if (s.size > limits.policyBytes) throw new DomainError('invalid_input', `masking policy ${shownAs} is larger than ${limits.policyBytes} bytes`, { file: shownAs, fix: 'keep the policy under 256 KiB' });
  return parsePolicy(await readFile(path, 'utf8'), shownAs);
}

