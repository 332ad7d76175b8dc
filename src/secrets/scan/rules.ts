/**
 * The gitleaks rule set, loaded as data at run time from data/gitleaks/gitleaks.toml (gitleaks,
 * MIT; see data/gitleaks/SOURCE) and compiled with re2js, so the RE2 syntax of the rules (inline
 * flags mid-pattern, `\z`, `(?s:.)`, `(?-i:...)`) means what it means in gitleaks' Go engine.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RE2JS } from 're2js';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';

export const defaultRulesPath = fileURLToPath(new URL('../../../data/gitleaks/gitleaks.toml', import.meta.url));

export type RegexTarget = 'secret' | 'match' | 'line';
export type AllowlistCondition = 'OR' | 'AND';

export interface CompiledAllowlist {
  description?: string;
  condition: AllowlistCondition;
  regexTarget: RegexTarget;
  regexes: readonly RE2JS[];
  paths: readonly RE2JS[];
  /** lower-cased; a secret containing one (case-insensitively) is allowed */
  stopwords: readonly string[];
}

export interface Rule {
  id: string;
  description: string;
  /** absent for path-only rules (a finding for the file itself) */
  regex?: RE2JS;
  /**
   * For regexes of the form `(?i)[\w.-]{0,50}?REST` (gitleaks' semi-generic rules): REST alone,
   * which re2js matches about twice as fast; the scanner finds REST and extends the match back
   * over up to 50 word characters, which gives exactly the match of the whole regex.
   */
  suffix?: RE2JS;
  /** the capture group holding the secret; 0 = the first non-empty group, or the whole match */
  secretGroup: number;
  /** a secret must have Shannon entropy above this (0 = no threshold) */
  entropy: number;
  /** lower-cased; the rule runs only where one occurs */
  keywords: readonly string[];
  /** the rule applies only to files whose path matches */
  path?: RE2JS;
  allowlists: readonly CompiledAllowlist[];
  tags: readonly string[];
  /**
   * How far from a keyword a match may reach: 'lines' (a few lines around it) for most rules,
   * 'wide' for regexes that can span many lines (`(?s)`, `[\s\S]`, explicit `\r`/`\n`,
   * unbounded whitespace): private keys, Kubernetes secrets, curl commands.
   */
  reach: 'lines' | 'wide';
}

/** True when a regex can plausibly match across many lines. */
export const spansManyLines = (source: string): boolean => /\(\?[a-z]*s|\[\\s\\S|\\[rn]|\\s[*+]|\\s\{[0-9]+,\}|\[\^[^\]]*\][*+]/.test(source);

export interface SkippedRule {
  id: string;
  reason: string;
}

export interface RuleSet {
  title: string;
  rules: readonly Rule[];
  /** rules (or rule allowlists) that re2js cannot compile: reported, not run */
  skipped: readonly SkippedRule[];
  global: readonly CompiledAllowlist[];
}

const pattern = z.string().max(20_000);
const allowlistToml = z.object({
  description: z.string().max(1000).optional(),
  condition: z.enum(['OR', 'AND']).optional(),
  regexTarget: z.enum(['secret', 'match', 'line']).optional(),
  regexes: z.array(pattern).max(10_000).optional(),
  paths: z.array(pattern).max(10_000).optional(),
  stopwords: z.array(z.string().max(1000)).max(100_000).optional(),
  commits: z.array(z.string().max(100)).max(10_000).optional(),
});
const ruleToml = z.object({
  id: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  regex: pattern.optional(),
  secretGroup: z.number().int().min(0).max(100).optional(),
  entropy: z.number().min(0).max(100).optional(),
  keywords: z.array(z.string().min(1).max(200)).max(1000).optional(),
  path: pattern.optional(),
  allowlists: z.array(allowlistToml).max(100).optional(),
  allowlist: allowlistToml.optional(),
  tags: z.array(z.string().max(200)).max(100).optional(),
});
const configToml = z.object({
  title: z.string().max(500).optional(),
  allowlist: allowlistToml.optional(),
  allowlists: z.array(allowlistToml).max(100).optional(),
  rules: z.array(ruleToml).min(1).max(5000),
});

/** The leading part of gitleaks' semi-generic rules: a lazy run of at most 50 word characters. */
export const LAZY_WORD_PREFIX = '(?i)[\\w.-]{0,50}?';
/** The prefix's characters under (?i): \w case-folded (with U+017F and U+212A), `.` and `-`. */
export const LAZY_WORD_CHAR = /[0-9A-Za-z_.\-\u017f\u212a]/;

/** True when `source` has a `|` outside every group and class (it would split the prefix off). */
export function hasTopLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[' && source[i + 1] === ':') i = Math.max(i, source.indexOf(':]', i + 2) + 1);
    } else if (c === '[') {
      inClass = true;
      if (source[i + 1] === '^') i++;
      if (source[i + 1] === ']') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

function suffixOf(regex: string): { suffix?: RE2JS } {
  const rest = regex.slice(LAZY_WORD_PREFIX.length);
  if (!regex.startsWith(LAZY_WORD_PREFIX) || rest === '' || hasTopLevelAlternation(rest)) return {};
  return { suffix: compileRe2(`(?i)${rest}`) };
}

export function compileRe2(source: string): RE2JS {
  return RE2JS.compile(source);
}

function compileAllowlist(a: z.infer<typeof allowlistToml>): CompiledAllowlist {
  return {
    ...(a.description === undefined ? {} : { description: a.description }),
    condition: a.condition ?? 'OR',
    regexTarget: a.regexTarget ?? 'secret',
    regexes: (a.regexes ?? []).map(compileRe2),
    paths: (a.paths ?? []).map(compileRe2),
    stopwords: (a.stopwords ?? []).map((s) => s.toLowerCase()),
  };
}

/** Parse and compile a gitleaks configuration. `file` names it in errors. */
export function loadRules(tomlText: string, file = 'gitleaks.toml'): RuleSet {
  let raw: unknown;
  try {
    raw = parseToml(tomlText);
  } catch (e) {
    const err = e as Error & { line?: number; column?: number };
    throw new DomainError('invalid_input', `${file} is not valid TOML: ${err.message.split('\n')[0]}`, {
      file,
      ...(err.line === undefined ? {} : { line: err.line }),
      ...(err.column === undefined ? {} : { column: err.column }),
      fix: 'restore the vendored rules from gitleaks (config/gitleaks.toml at the commit in data/gitleaks/SOURCE)',
    });
  }
  const parsed = configToml.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DomainError('invalid_input', `${file} is not a gitleaks configuration: ${issue?.message ?? 'invalid'}`, {
      file,
      field: issue ? issue.path.join('.') : '',
      fix: 'use a gitleaks v8 configuration: [[rules]] with id, regex or path, keywords, entropy, allowlists',
    });
  }
  const cfg = parsed.data;
  let global: CompiledAllowlist[];
  try {
    global = [...(cfg.allowlist ? [cfg.allowlist] : []), ...(cfg.allowlists ?? [])].map(compileAllowlist);
  } catch (e) {
    throw new DomainError('invalid_input', `${file}: a global allowlist regex does not compile: ${(e as Error).message}`, {
      file,
      field: 'allowlist',
      fix: 'fix the allowlist pattern (RE2 syntax)',
    });
  }
  const rules: Rule[] = [];
  const skipped: SkippedRule[] = [];
  const seen = new Set<string>();
  for (const r of cfg.rules) {
    if (seen.has(r.id)) throw new DomainError('invalid_input', `${file}: rule id ${r.id} appears twice`, { file, field: `rules.${r.id}`, fix: 'give every rule a unique id' });
    seen.add(r.id);
    if (r.regex === undefined && r.path === undefined) {
      skipped.push({ id: r.id, reason: 'neither regex nor path' });
      continue;
    }
    try {
      const lists = [...(r.allowlist ? [r.allowlist] : []), ...(r.allowlists ?? [])];
      rules.push({
        id: r.id,
        description: r.description ?? r.id,
        ...(r.regex === undefined ? {} : { regex: compileRe2(r.regex) }),
        ...(r.regex === undefined ? {} : suffixOf(r.regex)),
        secretGroup: r.secretGroup ?? 0,
        entropy: r.entropy ?? 0,
        keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
        ...(r.path === undefined ? {} : { path: compileRe2(r.path) }),
        allowlists: lists.map(compileAllowlist),
        tags: r.tags ?? [],
        reach: r.regex !== undefined && spansManyLines(r.regex) ? 'wide' : 'lines',
      });
    } catch (e) {
      skipped.push({ id: r.id, reason: (e as Error).message.slice(0, 300) });
    }
  }
  return { title: cfg.title ?? file, rules, skipped, global };
}

let cached: RuleSet | undefined;

/** The vendored gitleaks default rules, loaded and compiled once per process. */
export function defaultRules(): RuleSet {
  if (!cached) {
    let text: string;
    try {
      text = readFileSync(defaultRulesPath, 'utf8');
    } catch (e) {
      throw new DomainError('internal', `the secret-scanning rules cannot be read: ${(e as Error).message}`, {
        file: defaultRulesPath,
        fix: 'reinstall stagegate: data/gitleaks/gitleaks.toml ships with it',
      });
    }
    cached = loadRules(text, defaultRulesPath);
  }
  return cached;
}
