/**
 * Load a Cedar policy set: every `*.cedar` file of a policy folder plus its `schema.cedarschema`
 * (or the shipped default schema), each policy validated against the schema before anything
 * is decided. Every problem in every file is reported together, as one DomainError naming
 * `file:line:column` for each; malformed Cedar never reaches decision time.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import canonicalize from 'canonicalize';
import { DomainError } from '../../domain/errors.ts';
import { cedarActions, cedarNamespace, requiredEntityTypes } from './actions.ts';
import { charOffset, lineColumn, splitPolicies } from './source.ts';

/** the shipped default policies: `policies/default` at the repository root */
export const defaultPolicyDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../policies/default');
export const schemaFileName = 'schema.cedarschema';

export const policyLimits = {
  files: 64,
  fileBytes: 256 * 1024,
  policies: 1000,
  idLength: 128,
  reasonLength: 500,
  problems: 50,
} as const;

export interface LoadedPolicy {
  /** `@id("...")`, else `<file basename without .cedar>:<n>` (n counts from 0 within the file) */
  id: string;
  effect: 'permit' | 'forbid';
  /** `@reason("...")`, the plain-words explanation, if the policy has one */
  reason?: string;
  /** the policy text as written, from its first line (comments included) to its `;` */
  text: string;
  /** where it is: file path as loaded, 1-based line and column */
  file: string;
  line: number;
  column: number;
}

export interface CedarPolicySet {
  /** the folder the policies came from */
  dir: string;
  /** true when these are the shipped defaults */
  isDefault: boolean;
  schemaFile: string;
  schemaText: string;
  policies: readonly LoadedPolicy[];
  /** validator warnings (e.g. a policy that can never apply), each `file:line:column: message` */
  warnings: readonly string[];
  /** sha256 over schema and policies; see policyDigest */
  digest: string;
}

export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export const formatProblem = (p: Problem): string => `${p.file}:${p.line}:${p.column}: ${p.message}`;

/**
 * `sha256:<hex>` of the canonical JSON `{"policies":{id: text, ...},"schema": text}` (keys sorted,
 * RFC 8785), so the same policies in any file order give the same digest and any edit changes it.
 */
export function policyDigest(set: Pick<CedarPolicySet, 'schemaText' | 'policies'>): string {
  const policies: Record<string, string> = {};
  for (const p of set.policies) policies[p.id] = p.text;
  const canonical = canonicalize({ schema: set.schemaText, policies });
  if (canonical === undefined) throw new DomainError('internal', 'policy digest: canonicalize returned nothing');
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

interface CedarDetailedError {
  message: string;
  help: string | null;
  sourceLocations?: { start: number; end: number; label: string | null }[];
}

/** `message (label; help)` in one line */
function describe(e: CedarDetailedError): string {
  const label = e.sourceLocations?.find((l) => l.label)?.label;
  const extra = [label, e.help].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const message = e.message.replace(/^failed to parse (policies|policy( with id `[^`]*`)?|schema) from string: /, '').replace(/^for policy `[^`]*`, /, '');
  return (extra.length > 0 ? `${message} (${extra.join('; ')})` : message).replace(/\s+/g, ' ');
}

/** the problem at the first source location of `e`, located in `text` at `base` chars into `fileText` */
function locate(file: string, fileText: string, text: string, base: number, e: CedarDetailedError): Problem {
  const loc = e.sourceLocations?.[0];
  const offset = base + (loc ? charOffset(text, loc.start) : 0);
  return { file, ...lineColumn(fileText, offset), message: describe(e) };
}

const annotation = (annotations: Record<string, string | null> | undefined, key: string): string | undefined => {
  const v = annotations?.[key];
  return typeof v === 'string' ? v : undefined;
};

/** check the schema parses and declares every entity type and action the authorizer uses */
function checkSchema(file: string, text: string, problems: Problem[]): boolean {
  const parsed = cedar.checkParseSchema(text);
  if (parsed.type === 'failure') {
    for (const e of parsed.errors) problems.push(locate(file, text, text, 0, e));
    return false;
  }
  const json = cedar.schemaToJson(text);
  if (json.type === 'failure') {
    for (const e of json.errors) problems.push(locate(file, text, text, 0, e));
    return false;
  }
  const ns = json.json[cedarNamespace];
  if (!ns) {
    problems.push({ file, line: 1, column: 1, message: `the schema declares no namespace ${cedarNamespace}; stagegate's entity types and actions live there` });
    return false;
  }
  const missing = [
    ...requiredEntityTypes.filter((t) => !(t in ns.entityTypes)).map((t) => `entity type ${t}`),
    ...cedarActions.filter((a) => (ns.actions[a]?.appliesTo?.principalTypes.length ?? 0) === 0).map((a) => `action "${a}" (with appliesTo)`),
  ];
  if (missing.length > 0) {
    problems.push({ file, line: 1, column: 1, message: `the schema must declare ${missing.join(', ')} in namespace ${cedarNamespace}; start from policies/default/${schemaFileName}` });
    return false;
  }
  return true;
}

/**
 * Cedar reports an unknown attribute once per entity type it could be on; say it once per place:
 * "attribute `x` on entity type `A`, `B`, `C` not found".
 */
function mergeByEntityType(problems: Problem[]): void {
  const pattern = /entity type `[^`]+`/;
  const merged: Problem[] = [];
  const groups = new Map<string, { problem: Problem; types: string[] }>();
  for (const p of problems) {
    const type = p.message.match(pattern)?.[0];
    if (!type) {
      merged.push(p);
      continue;
    }
    const key = `${p.file}:${p.line}:${p.column}:${p.message.replace(/ \(.*\)$/, '').replace(pattern, '')}`;
    const g = groups.get(key);
    if (g) {
      g.types.push(type.slice('entity type '.length));
      continue;
    }
    const entry = { problem: { ...p }, types: [type.slice('entity type '.length)] };
    groups.set(key, entry);
    merged.push(entry.problem);
  }
  for (const g of groups.values()) {
    if (g.types.length > 1) g.problem.message = g.problem.message.replace(/ \(.*\)$/, '').replace(pattern, `entity types ${g.types.join(', ')}`);
  }
  merged.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  problems.splice(0, problems.length, ...merged);
}

interface Located {
  policy: LoadedPolicy;
  fileText: string;
  start: number;
}

async function readBounded(file: string, what: string): Promise<string> {
  const s = await stat(file);
  if (s.size > policyLimits.fileBytes) {
    throw new DomainError('invalid_input', `${what} ${file} is ${s.size} bytes, over the limit of ${policyLimits.fileBytes}`, {
      file,
      fix: 'split the policies into several files, or remove what is not needed',
    });
  }
  return readFile(file, 'utf8');
}

/**
 * Parse, name and validate policies from in-memory files (the loader's core; exported for tests
 * and for callers holding policy text that is not on disk). `files` maps a display path to text.
 */
export function buildPolicySet(input: { dir: string; isDefault: boolean; schemaFile: string; schemaText: string; files: ReadonlyMap<string, string> }): CedarPolicySet {
  const problems: Problem[] = [];
  const schemaOk = checkSchema(input.schemaFile, input.schemaText, problems);
  const located = new Map<string, Located>();
  for (const [file, fileText] of input.files) {
    const whole = cedar.checkParsePolicySet({ staticPolicies: fileText });
    if (whole.type === 'failure') {
      const located = whole.errors.filter((e) => (e.sourceLocations?.length ?? 0) > 0);
      for (const e of located) problems.push(locate(file, fileText, fileText, 0, e));
      if (located.length < whole.errors.length) {
        // errors about the set as a whole (e.g. a template among static policies): find the policy
        const perPolicy: Problem[] = [];
        for (const chunk of splitPolicies(fileText)) {
          const one = cedar.policyToJson(chunk.text);
          if (one.type === 'failure') for (const e of one.errors) perPolicy.push(locate(file, fileText, chunk.text, chunk.start, e));
        }
        if (perPolicy.length > 0) problems.push(...perPolicy);
        else for (const e of whole.errors.filter((x) => !located.includes(x))) problems.push(locate(file, fileText, fileText, 0, e));
      }
      continue;
    }
    const base = path.basename(file).replace(/\.cedar$/, '');
    const chunks = splitPolicies(fileText);
    const parts = cedar.policySetTextToParts(fileText);
    const partCount = parts.type === 'success' ? parts.policies.length + parts.policy_templates.length : -1;
    if (partCount !== chunks.length) {
      problems.push({ file, line: 1, column: 1, message: `found ${chunks.length} policies where Cedar sees ${partCount}; report this as a bug with the file attached` });
      continue;
    }
    chunks.forEach((chunk, n) => {
      const json = cedar.policyToJson(chunk.text);
      if (json.type === 'failure') {
        for (const e of json.errors) problems.push(locate(file, fileText, chunk.text, chunk.start, e));
        return;
      }
      const at = lineColumn(fileText, chunk.start);
      const annotations = json.json.annotations as Record<string, string | null> | undefined;
      const id = annotation(annotations, 'id') ?? `${base}:${n}`;
      const reason = annotation(annotations, 'reason');
      if (id.length === 0 || id.length > policyLimits.idLength || /[\u0000-\u001f\u007f]/.test(id)) {
        problems.push({ file, ...at, message: `policy id ${JSON.stringify(id.slice(0, 40))} must be 1 to ${policyLimits.idLength} printable characters` });
        return;
      }
      if (reason !== undefined && reason.length > policyLimits.reasonLength) {
        problems.push({ file, ...at, message: `@reason of ${id} is over ${policyLimits.reasonLength} characters` });
        return;
      }
      const seen = located.get(id);
      if (seen) {
        problems.push({ file, ...at, message: `policy id ${JSON.stringify(id)} is already used at ${seen.policy.file}:${seen.policy.line}:${seen.policy.column}; give each policy its own @id` });
        return;
      }
      const policy: LoadedPolicy = { id, effect: json.json.effect, text: chunk.text, file, ...at, ...(reason === undefined ? {} : { reason }) };
      located.set(id, { policy, fileText, start: chunk.start });
    });
  }
  if (located.size > policyLimits.policies) {
    problems.push({ file: input.dir, line: 1, column: 1, message: `${located.size} policies, over the limit of ${policyLimits.policies}` });
  }
  const warnings: string[] = [];
  if (schemaOk && problems.length === 0) {
    const staticPolicies: Record<string, string> = {};
    for (const [id, l] of located) staticPolicies[id] = l.policy.text;
    const answer = cedar.validate({ schema: input.schemaText, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
    const where = (policyId: string, e: CedarDetailedError): Problem => {
      const l = located.get(policyId);
      return l ? locate(l.policy.file, l.fileText, l.policy.text, l.start, e) : { file: input.dir, line: 1, column: 1, message: describe(e) };
    };
    if (answer.type === 'failure') {
      for (const e of answer.errors) problems.push({ file: input.schemaFile, line: 1, column: 1, message: describe(e) });
    } else {
      for (const v of answer.validationErrors) problems.push(where(v.policyId, v.error));
      for (const v of answer.validationWarnings) warnings.push(formatProblem(where(v.policyId, v.error)));
      for (const e of answer.otherWarnings) warnings.push(`${input.dir}: ${describe(e)}`);
    }
  }
  if (problems.length > 0) {
    mergeByEntityType(problems);
    const first = problems[0] as Problem;
    const shown = problems.slice(0, policyLimits.problems).map(formatProblem);
    if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
    throw new DomainError('invalid_input', `policy set in ${input.dir} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${shown.join('\n')}`, {
      file: first.file,
      line: first.line,
      column: first.column,
      problems: problems.slice(0, policyLimits.problems),
      fix: 'fix each file:line:column above, then run `stagegate policy validate`',
    });
  }
  const policies = [...located.values()].map((l) => l.policy);
  const digest = policyDigest({ schemaText: input.schemaText, policies });
  return { dir: input.dir, isDefault: input.isDefault, schemaFile: input.schemaFile, schemaText: input.schemaText, policies, warnings, digest };
}

/**
 * Read `DIR/*.cedar` (sorted by name) and `DIR/schema.cedarschema` (the shipped schema when the
 * folder has none). Without `dir`, the shipped defaults.
 */
export async function loadPolicySet(opts: { dir?: string } = {}): Promise<CedarPolicySet> {
  const isDefault = opts.dir === undefined || path.resolve(opts.dir) === defaultPolicyDir;
  const dir = opts.dir ?? defaultPolicyDir;
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new DomainError('not_found', `policy folder ${dir} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file: dir,
      fix: 'create the folder with your *.cedar files, or leave the policy folder unset to use the shipped defaults',
    });
  }
  const cedarNames = names.filter((n) => n.endsWith('.cedar'));
  if (cedarNames.length === 0) {
    throw new DomainError('invalid_input', `policy folder ${dir} has no *.cedar files, so every request would be denied`, {
      file: dir,
      fix: `copy the shipped defaults from ${defaultPolicyDir} and edit them`,
    });
  }
  if (cedarNames.length > policyLimits.files) {
    throw new DomainError('invalid_input', `policy folder ${dir} has ${cedarNames.length} .cedar files, over the limit of ${policyLimits.files}`, {
      file: dir,
      fix: 'merge related policies into fewer files',
    });
  }
  const files = new Map<string, string>();
  for (const n of cedarNames) {
    const file = path.join(dir, n);
    files.set(file, await readBounded(file, 'policy file'));
  }
  const schemaFile = names.includes(schemaFileName) ? path.join(dir, schemaFileName) : path.join(defaultPolicyDir, schemaFileName);
  const schemaText = await readBounded(schemaFile, 'schema file');
  return buildPolicySet({ dir, isDefault, schemaFile, schemaText, files });
}
