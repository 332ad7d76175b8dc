/**
 * `parity.yaml` in the project folder: the allowed differences between environments. Validated
 * with zod; every problem is reported as `file:line:col: field: what — fix: what to do`, all at once.
 * No file means no allowed differences.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import { parsePointer } from './pointer.ts';
import { DEFAULT_SECRET_AGE_TOLERANCE_DAYS, type ParityRule, type ParityRules } from './rules.ts';

export const PARITY_FILE_NAME = 'parity.yaml';
export const PARITY_SCHEMA_ID = 'https://stagegate.dev/schemas/parity.schema.json';
const MAX_BYTES = 256 * 1024;
/** RFC 6901 syntax, for the published JSON Schema (the loader checks it itself, to name the rule) */
const POINTER_PATTERN = '^(/([^~/]|~[01])*)*$';

const name = z.string().max(63).regex(NAME_RE, 'lowercase letters, digits and dashes; starts with a letter');
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a real calendar date');

export const parityRuleSchema = z
  .strictObject({
    id: name.describe('unique name of the rule, shown in reports'),
    path: z
      .string()
      .max(1024)
      .meta({ pattern: POINTER_PATTERN })
      .describe('JSON Pointer of the allowed difference, e.g. /checkout/runtime/replicas; a segment `*` matches any one segment; covers everything below it'),
    environments: z
      .union([z.literal('*'), z.tuple([name, name])])
      .describe('the pair of environments (order does not matter), or "*" for every pair'),
    services: z.array(name).min(1).max(256).optional().describe('only these services; absent: every service and the environment-level flags'),
    reason: z.string().trim().min(1, 'a reason is required: say why the environments may differ here').max(1024),
    owner: z.string().trim().min(1, 'an owner is required: who answers for this difference').max(256),
    expires: date.describe('the last day (UTC) the rule holds; after it, its differences are findings again'),
  })
  .describe('an allowed difference');

export const parityFileSchema = z
  .strictObject({
    allow: z.array(parityRuleSchema).max(1000).default([]).describe('allowed differences'),
    secretAgeToleranceDays: z.number().int().min(0).max(3650).optional().describe(`secret ages within this many days are equal (default ${DEFAULT_SECRET_AGE_TOLERANCE_DAYS})`),
  })
  .describe('stagegate parity.yaml: allowed differences between environments');

export function parityJsonSchemaText(): string {
  const generated = z.toJSONSchema(parityFileSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return `${JSON.stringify({ $schema, $id: PARITY_SCHEMA_ID, title: 'stagegate parity file', ...rest }, null, 2)}\n`;
}

interface Problem {
  at: (string | number)[];
  message: string;
  fix: string;
}

function where(doc: Document, lc: LineCounter, at: readonly (string | number)[]): { line: number; col: number } {
  for (let n = at.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

const field = (at: readonly (string | number)[]) => at.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(file)';

/** known names, to catch a typo in an environment or service name */
export interface ParityFileContext {
  environments?: readonly string[];
  services?: readonly string[];
}

/** parse and validate parity.yaml text; throws one DomainError listing every problem */
export function parseParityFile(text: string, file: string, known: ParityFileContext = {}): ParityRules {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const fail = (problems: Problem[]): never => {
    const lines = problems.slice(0, 100).map((p) => {
      const pos = where(doc, lc, p.at);
      return `${file}:${pos.line}:${pos.col}: ${field(p.at)}: ${p.message} — fix: ${p.fix}`;
    });
    const first = problems[0]!;
    const pos = where(doc, lc, first.at);
    throw new DomainError('invalid_input', `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`, { file, line: pos.line, column: pos.col, field: field(first.at), fix: first.fix });
  };
  const yamlErr = doc.errors[0];
  if (yamlErr) {
    const pos = lc.linePos(yamlErr.pos[0]);
    throw new DomainError('invalid_input', `${file}:${pos.line}:${pos.col}: ${yamlErr.message.split('\n')[0]}`, { file, line: pos.line, column: pos.col, fix: 'fix the YAML syntax here' });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new DomainError('invalid_input', `${file}: cannot read the YAML: ${(e as Error).message.slice(0, 200)}`, { file, fix: 'use plain YAML: at most 100 aliases, each to an anchor defined earlier' });
  }
  const parsed = parityFileSchema.safeParse(data);
  if (!parsed.success) {
    fail(parsed.error.issues.map((i) => ({ at: i.path as (string | number)[], message: i.message, fix: 'see docs/parity-and-drift.md for the parity.yaml format (schema/parity.schema.json)' })));
  }
  const f = parsed.data!;
  const problems: Problem[] = [];
  const ids = new Set<string>();
  const allow: ParityRule[] = [];
  f.allow.forEach((r, i) => {
    const at = (k: string) => ['allow', i, k];
    if (ids.has(r.id)) problems.push({ at: at('id'), message: `rule id "${r.id}" is used twice`, fix: 'give each rule its own id' });
    ids.add(r.id);
    const p = parsePointer(r.path);
    if (!p.ok) problems.push({ at: at('path'), message: `rule ${r.id}: path is not a JSON Pointer: ${p.message}`, fix: p.fix });
    for (const e of r.environments === '*' ? [] : r.environments) {
      if (known.environments && !known.environments.includes(e)) problems.push({ at: at('environments'), message: `rule ${r.id}: environment "${e}" is not in the project`, fix: `use one of ${known.environments.join(', ')}` });
    }
    if (r.environments !== '*' && r.environments[0] === r.environments[1]) problems.push({ at: at('environments'), message: `rule ${r.id}: the pair names ${r.environments[0]} twice`, fix: 'name two different environments, or "*"' });
    for (const s of r.services ?? []) {
      if (known.services && !known.services.includes(s)) problems.push({ at: at('services'), message: `rule ${r.id}: service "${s}" is not in the project`, fix: `use one of ${known.services.join(', ')}` });
    }
    const pos = where(doc, lc, ['allow', i]);
    if (p.ok) allow.push({ ...r, pattern: p.segments, environments: r.environments === '*' ? '*' : [r.environments[0], r.environments[1]], line: pos.line, column: pos.col });
  });
  if (problems.length) fail(problems);
  return { allow, secretAgeToleranceDays: f.secretAgeToleranceDays ?? DEFAULT_SECRET_AGE_TOLERANCE_DAYS };
}

/** read `parity.yaml` from the project folder; none = no allowed differences */
export async function loadParityFile(projectDir: string, known: ParityFileContext = {}): Promise<ParityRules> {
  const file = path.join(projectDir, PARITY_FILE_NAME);
  const info = await stat(file).catch(() => undefined);
  if (!info) return { allow: [], secretAgeToleranceDays: DEFAULT_SECRET_AGE_TOLERANCE_DAYS };
  if (!info.isFile() || info.size > MAX_BYTES) {
    throw new DomainError('invalid_input', `${file} is not a file of at most ${MAX_BYTES} bytes`, { file, fix: 'keep parity.yaml a plain YAML file under 256 KiB' });
  }
  return parseParityFile(await readFile(file, 'utf8'), file, known);
}
