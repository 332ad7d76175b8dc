/**
 * The standard sops `.sops.yaml` of a project: `creation_rules: [{path_regex, age}]`. The first rule
 * whose `path_regex` (RE2 syntax, as sops uses Go's regexp) matches the file's path relative to the
 * folder of `.sops.yaml` gives the file's age recipients; a rule without `path_regex` matches every file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RE2JS } from 're2js';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { MAX_RECIPIENTS } from './sops/sops-file.ts';

export const SOPS_CONFIG_FILE = '.sops.yaml';
const AGE_RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;
const MAX_RULES = 256;

export interface CreationRule {
  /** index in `creation_rules` */
  index: number;
  pathRegex: string | undefined;
  recipients: string[];
  matches(relPath: string): boolean;
}
export interface SopsConfig {
  file: string;
  rules: CreationRule[];
}

const unsupported = ['pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri', 'key_groups', 'shamir_threshold', 'encrypted_regex', 'unencrypted_regex', 'encrypted_suffix', 'encrypted_comment_regex', 'unencrypted_comment_regex', 'mac_only_encrypted'] as const;

const ruleSchema = z
  .object({
    path_regex: z.string().max(1000).optional(),
    age: z.union([z.string().max(20_000), z.array(z.string().max(200)).max(MAX_RECIPIENTS)]),
    unencrypted_suffix: z.literal('_unencrypted').optional(),
  })
  .loose();
const configSchema = z
  .object({ creation_rules: z.array(z.unknown()).min(1).max(MAX_RULES) })
  .loose();

function bad(file: string, message: string, field: string, fix: string, line?: number): DomainError {
  return new DomainError('invalid_input', `${file}: ${message}`, { file, field, fix, ...(line ? { line } : {}) });
}

/** Parse and validate `.sops.yaml` text; `file` names it in errors. */
export function parseSopsConfig(text: string, file: string): SopsConfig {
  if (Buffer.byteLength(text) > 256 * 1024) throw bad(file, 'is over 256 KiB', '', 'keep .sops.yaml small');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw bad(file, `is not valid YAML: ${err.message.split('\n')[0]}`, '', 'fix the YAML syntax', line);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    throw bad(file, `cannot be read: ${(e as Error).message} (YAML aliases are not supported)`, '', 'write every value out instead of using anchors and aliases');
  }
  const top = configSchema.safeParse(js);
  if (!top.success) {
    throw bad(file, 'needs a non-empty creation_rules list', 'creation_rules', `add creation_rules: [{ path_regex: ^secrets/prod/, age: "age1...,age1..." }] (at most ${MAX_RULES} rules)`);
  }
  const rules = top.data.creation_rules.map((raw, index) => {
    const field = `creation_rules[${index}]`;
    const r = ruleSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      const at = issue?.path.length ? `${field}.${issue.path.join('.')}` : field;
      throw bad(file, `${at}: ${issue?.message ?? 'invalid'}`, at, 'each rule needs age: "age1...,age1..." (and optionally path_regex); unencrypted_suffix may only be _unencrypted');
    }
    const other = unsupported.find((k) => k in (raw as object));
    if (other) throw bad(file, `${field}.${other} is not supported by stagegate`, `${field}.${other}`, 'use age recipients only, without key groups or encryption rules');
    const list = Array.isArray(r.data.age) ? r.data.age : r.data.age.split(/[\s,]+/);
    const recipients = list.map((s) => s.trim()).filter(Boolean);
    if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
      throw bad(file, `${field}.age lists ${recipients.length} recipients`, `${field}.age`, `list 1 to ${MAX_RECIPIENTS} age recipients: one per environment plus the recovery recipient`);
    }
    const wrong = recipients.find((s) => !AGE_RECIPIENT_RE.test(s));
    if (wrong) {
      throw bad(file, `${field}.age: "${wrong.slice(0, 70)}" is not an age X25519 recipient`, `${field}.age`, 'use public keys of the form age1... (age-keygen -y KEYFILE prints one)');
    }
    const pathRegex = r.data.path_regex === '' ? undefined : r.data.path_regex;
    let re: RE2JS | undefined;
    if (pathRegex !== undefined) {
      try {
        re = RE2JS.compile(pathRegex);
      } catch (e) {
        throw bad(file, `${field}.path_regex ${JSON.stringify(pathRegex.slice(0, 100))} is not a valid regular expression: ${(e as Error).message}`, `${field}.path_regex`, 'use RE2 syntax (as sops does), e.g. ^secrets/prod/');
      }
    }
    return { index, pathRegex, recipients: [...new Set(recipients)], matches: (p: string) => (re ? re.matcher(p).find() : true) };
  });
  return { file, rules };
}

/** the file's path as rules see it: relative to the config's folder, with forward slashes */
export function rulePath(configFile: string, file: string): string {
  const rel = path.relative(path.dirname(path.resolve(configFile)), path.resolve(file));
  return rel.split(path.sep).join('/');
}

/** the recipients of `file` by the first matching rule, or a clear error */
export function recipientsFor(config: SopsConfig, file: string): { rule: CreationRule; recipients: string[] } {
  const rel = rulePath(config.file, file);
  const rule = config.rules.find((r) => r.matches(rel));
  if (!rule) {
    throw new DomainError('invalid_input', `${config.file}: no creation rule matches ${rel}`, {
      file: config.file,
      field: 'creation_rules',
      fix: `add a rule whose path_regex matches ${rel} (e.g. path_regex: ^${rel.split('/').slice(0, 2).join('/')}/), or a last rule without path_regex`,
    });
  }
  return { rule, recipients: rule.recipients };
}

/** read `<projectDir>/.sops.yaml` */
export async function loadSopsConfig(projectDir: string): Promise<SopsConfig> {
  const file = path.join(projectDir, SOPS_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read ${file}: ${code ?? (e as Error).message}`, {
      file,
      fix: 'create .sops.yaml in the project folder with creation_rules: [{ path_regex: ^secrets/<env>/, age: "<env recipient>,<recovery recipient>" }]',
    });
  }
  return parseSopsConfig(text, file);
}
