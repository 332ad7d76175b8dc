/**
 * Secret detection on one text, the way gitleaks does it: keywords pick the rules worth running,
 * the rule's RE2 regex finds candidates, the secret group is taken, entropy and the generic-rule
 * digit check filter them, then global, rule and project allowlists. A finding never holds the
 * secret: only its first characters (at most 4), its SHA-256 and its entropy.
 */
import { createHash } from 'node:crypto';
import type { RE2JS } from 're2js';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { type CompiledAllowlist, LAZY_WORD_CHAR, type Rule, type RuleSet, compileRe2, defaultRules } from './rules.ts';

export interface Finding {
  ruleId: string;
  description: string;
  /** the file, relative to the scan root; inside an archive `archive.tgz!inner/path` */
  file: string;
  /** 1-based line and column (UTF-16 code units) where the secret starts */
  line: number;
  column: number;
  /** redacted: at most the first 4 characters of the secret, then '…' */
  match: string;
  /** SHA-256 (hex) of the secret: for deduplication and allowlists, never the secret itself */
  secretHash: string;
  /** Shannon entropy (bits per character) of the secret */
  entropy: number;
}

/** A finding's fingerprint: a prefix (16 to 64 hex digits) of the SHA-256 of its secret. */
export const FINGERPRINT_RE = /^[0-9a-f]{16,64}$/;
/** The fingerprint reports print for a finding (16 hex digits of its secretHash). */
export const fingerprintOf = (f: Pick<Finding, 'secretHash'>): string => f.secretHash.slice(0, 16);

const regexSource = z
  .string()
  .min(1)
  .max(1000)
  .refine((s) => {
    try {
      compileRe2(s);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid RE2 regular expression');

/** One allowlist entry of a project: every field given must match, and a reason is required. */
export const scanAllowlistEntrySchema = z
  .object({
    /** RE2 regex on the file path (relative to the scan root; archive entries as `a.tgz!inner/path`) */
    path: regexSource.optional(),
    /** RE2 regex on the secret */
    regex: regexSource.optional(),
    /** the finding's secretHash (64 lower-case hex digits) */
    secretHash: z.string().regex(/^[0-9a-f]{64}$/, 'a secretHash is 64 lower-case hex digits, as printed in findings').optional(),
    /** a gitleaks rule id: only findings of that rule */
    rule: z.string().min(1).max(200).optional(),
    /** the finding's fingerprint as reports print it: the first 16 (up to 64) hex digits of its secretHash */
    fingerprint: z.string().regex(FINGERPRINT_RE, 'a fingerprint is 16 to 64 lower-case hex digits, as printed in findings').optional(),
    /** why this is not a secret, or why it is accepted: required, shown in reports and audit */
    reason: z.string().trim().min(3, 'an allowlist entry needs a reason').max(500),
  })
  .strict()
  .refine((e) => e.path !== undefined || e.regex !== undefined || e.secretHash !== undefined || e.rule !== undefined || e.fingerprint !== undefined, {
    message: 'an allowlist entry needs at least one of path, regex, secretHash, rule, fingerprint',
  });
export const scanAllowlistSchema = z.array(scanAllowlistEntrySchema).max(1000);
export type ScanAllowlistEntry = z.infer<typeof scanAllowlistEntrySchema>;
export type ScanAllowlist = z.infer<typeof scanAllowlistSchema>;

export interface ScanTextOptions {
  /** the file the text came from: used by path rules, path allowlists and findings */
  file?: string;
  /** defaults to the vendored gitleaks rules */
  rules?: RuleSet;
  /** the project's allowlist entries (validated with scanAllowlistSchema) */
  allowlist?: ScanAllowlist;
  /** called for each finding a project allowlist entry suppressed, with the entry's reason */
  onSuppressed?: (finding: Finding, reason: string) => void;
}

interface CompiledEntry {
  path?: RE2JS;
  regex?: RE2JS;
  secretHash?: string;
  rule?: string;
  fingerprint?: string;
  reason: string;
}

const compiledEntries = new WeakMap<ScanAllowlist, CompiledEntry[]>();
function compileEntries(list: ScanAllowlist): CompiledEntry[] {
  let c = compiledEntries.get(list);
  if (!c) {
    c = list.map((e, i) => {
      try {
        return {
          ...(e.path === undefined ? {} : { path: compileRe2(e.path) }),
          ...(e.regex === undefined ? {} : { regex: compileRe2(e.regex) }),
          ...(e.secretHash === undefined ? {} : { secretHash: e.secretHash }),
          ...(e.rule === undefined ? {} : { rule: e.rule }),
          ...(e.fingerprint === undefined ? {} : { fingerprint: e.fingerprint }),
          reason: e.reason,
        };
      } catch (err) {
        throw new DomainError('invalid_input', `scan allowlist entry ${i} has an invalid regex: ${(err as Error).message}`, {
          field: `allowlist[${i}]`,
          fix: 'use RE2 syntax (no lookaround, no backreferences)',
        });
      }
    });
    compiledEntries.set(list, c);
  }
  return c;
}

/** Shannon entropy in bits per character (code point), as gitleaks computes it. */
export function shannonEntropy(s: string): number {
  const chars = Array.from(s);
  if (chars.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of chars) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The first characters of a secret (at most 4, and at most half of it), then '…'. */
export function redact(secret: string): string {
  const chars = Array.from(secret);
  return `${chars.slice(0, Math.min(4, Math.floor(chars.length / 2))).join('')}…`;
}

export const sha256Hex = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

const matches = (re: RE2JS, s: string): boolean => re.matcher(s).find();

/** Paths are matched with forward slashes, and an archive's `!` as a directory separator. */
const pathForMatching = (file: string): string => file.replaceAll('\\', '/').replaceAll('!', '/');

/** True when a global allowlist excludes the whole file (gitleaks skips such fragments). */
export function pathAllowlisted(file: string, rules: RuleSet): boolean {
  const p = pathForMatching(file);
  return rules.global.some(
    (a) => a.paths.length > 0 && (a.condition === 'OR' || (a.regexes.length === 0 && a.stopwords.length === 0)) && a.paths.some((re) => matches(re, p)),
  );
}

interface Candidate {
  secret: string;
  match: string;
  line: string;
  path: string;
}

function allowedBy(lists: readonly CompiledAllowlist[], c: Candidate): boolean {
  for (const a of lists) {
    const target = a.regexTarget === 'match' ? c.match : a.regexTarget === 'line' ? c.line : c.secret;
    const lower = a.stopwords.length > 0 ? c.secret.toLowerCase() : '';
    const pathOk = () => c.path !== '' && a.paths.some((re) => matches(re, c.path));
    const regexOk = () => a.regexes.some((re) => matches(re, target));
    const stopOk = () => a.stopwords.some((w) => lower.includes(w));
    let allowed: boolean;
    if (a.condition === 'AND') {
      const checks: (() => boolean)[] = [];
      if (a.paths.length > 0) checks.push(pathOk);
      if (a.regexes.length > 0) checks.push(regexOk);
      if (a.stopwords.length > 0) checks.push(stopOk);
      allowed = checks.length > 0 && checks.every((f) => f());
    } else {
      allowed = pathOk() || regexOk() || stopOk();
    }
    if (allowed) return true;
  }
  return false;
}

function projectAllowed(entries: readonly CompiledEntry[], file: string, ruleId: string, secret: string, hash: string): string | undefined {
  for (const e of entries) {
    if (e.rule !== undefined && e.rule !== ruleId) continue;
    if (e.fingerprint !== undefined && !hash.startsWith(e.fingerprint)) continue;
    if (e.secretHash !== undefined && e.secretHash !== hash) continue;
    if (e.path && !matches(e.path, file)) continue;
    if (e.regex && !matches(e.regex, secret)) continue;
    return e.reason;
  }
  return undefined;
}

/** Lower-case ASCII letters only, so indices in the result are indices in the input. */
function lowerSameLength(text: string): string {
  const l = text.toLowerCase();
  return l.length === text.length ? l : text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** How far around a keyword hit a rule's regex looks (always snapped out to whole lines). */
const LINES_BEFORE = 2;
const LINES_AFTER = 8;
const WIDE_BEFORE = 1024;
const WIDE_AFTER = 16 * 1024;
const MAX_HITS = 20_000;

function linesBack(text: string, i: number, n: number): number {
  let s = lineStart(text, i);
  for (let k = 0; k < n && s > 0; k++) s = lineStart(text, s - 1);
  return s;
}
function linesForward(text: string, i: number, n: number): number {
  let e = lineEnd(text, i);
  for (let k = 0; k < n && e < text.length; k++) e = lineEnd(text, e + 1);
  return e;
}

/**
 * The spans of the text a rule's regex runs on: whole lines around each keyword occurrence
 * (a few lines for most rules, about 1 KiB before and 16 KiB after for rules that span lines),
 * merged; the whole text when the rule has no keywords or the spans cover most of it.
 */
function windowsFor(rule: Rule, text: string, lower: string): [number, number][] | undefined {
  if (rule.keywords.length === 0) return [[0, text.length]];
  const hits: number[] = [];
  for (const k of rule.keywords) {
    for (let i = lower.indexOf(k); i !== -1; i = lower.indexOf(k, i + 1)) {
      hits.push(i);
      if (hits.length > MAX_HITS) return [[0, text.length]];
    }
  }
  if (hits.length === 0) return undefined;
  hits.sort((a, b) => a - b);
  const wide = rule.reach === 'wide';
  const spans: [number, number][] = [];
  for (const h of hits) {
    const last = spans[spans.length - 1];
    if (last && h <= last[1]) {
      // the hit is inside the previous span: extend it
      const end = wide ? lineEnd(text, h + WIDE_AFTER) : linesForward(text, h, LINES_AFTER);
      if (end > last[1]) last[1] = end;
      continue;
    }
    const from = wide ? lineStart(text, h - WIDE_BEFORE) : linesBack(text, h, LINES_BEFORE);
    const to = wide ? lineEnd(text, h + WIDE_AFTER) : linesForward(text, h, LINES_AFTER);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else spans.push([from, to]);
  }
  let covered = 0;
  for (const [a, b] of spans) covered += b - a;
  return covered > text.length * 0.9 ? [[0, text.length]] : spans;
}

const lineStart = (text: string, i: number): number => (i <= 0 ? 0 : text.lastIndexOf('\n', i - 1) + 1);
function lineEnd(text: string, i: number): number {
  if (i >= text.length) return text.length;
  const j = text.indexOf('\n', i);
  return j === -1 ? text.length : j;
}

function lineIndex(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
function lineOf(starts: number[], pos: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Where the whole regex `(?i)[\w.-]{0,50}?REST` matches, given where REST matched (`k`): back over
 * the word characters before it, at most 50, not before where the search started. The lazy prefix
 * takes the leftmost REST match, so this is exactly the start of the whole regex's match.
 */
export function extendBack(chunk: string, k: number, floor: number): number {
  const limit = Math.max(floor, k - 50);
  let s = k;
  while (s > limit && LAZY_WORD_CHAR.test(chunk[s - 1] as string)) s--;
  return s;
}

/** Findings of path-only rules (e.g. pkcs12-file) for a file whose content hashes to `contentHash`. */
export function pathRuleFindings(file: string, contentHash: string, opts: Omit<ScanTextOptions, 'file'> = {}): Finding[] {
  const rules = opts.rules ?? defaultRules();
  const p = pathForMatching(file);
  if (pathAllowlisted(file, rules)) return [];
  const entries = compileEntries(opts.allowlist ?? []);
  const out: Finding[] = [];
  for (const r of rules.rules) {
    if (r.regex || !r.path || !matches(r.path, p)) continue;
    const c: Candidate = { secret: '', match: '', line: '', path: p };
    if (allowedBy(rules.global, c) || allowedBy(r.allowlists, c)) continue;
    const f: Finding = { ruleId: r.id, description: r.description, file, line: 1, column: 1, match: '(the whole file)', secretHash: contentHash, entropy: 0 };
    const reason = projectAllowed(entries, file, r.id, '', contentHash);
    if (reason !== undefined) opts.onSuppressed?.(f, reason);
    else out.push(f);
  }
  return out;
}

/** Scan one text with the rules; findings in order of position. Never throws on any text. */
export function scanText(text: string, opts: ScanTextOptions = {}): Finding[] {
  const rules = opts.rules ?? defaultRules();
  const file = opts.file ?? '<text>';
  const p = opts.file === undefined ? '' : pathForMatching(opts.file);
  if (p !== '' && pathAllowlisted(p, rules)) return [];
  const entries = compileEntries(opts.allowlist ?? []);
  const out: (Finding & { pos: number; secret: string; reason?: string })[] = [];
  if (opts.file !== undefined) for (const f of pathRuleFindings(opts.file, sha256Hex(text), opts)) out.push({ ...f, pos: -1, secret: '' });
  if (text.length === 0) return out.map(({ pos: _pos, secret: _secret, ...f }) => f);
  const lower = lowerSameLength(text);
  let starts: number[] | undefined;
  for (const rule of rules.rules) {
    const regex = rule.regex;
    if (!regex) continue;
    if (rule.path && (p === '' || !matches(rule.path, p))) continue;
    const spans = windowsFor(rule, text, lower);
    if (!spans) continue;
    for (const [from, to] of spans) {
      const chunk = from === 0 && to === text.length ? text : text.slice(from, to);
      const m = (rule.suffix ?? regex).matcher(chunk);
      const groups = m.groupCount();
      let prevEnd = 0;
      while (m.find()) {
        const start = rule.suffix ? extendBack(chunk, m.start(), prevEnd) : m.start();
        const end = m.end();
        prevEnd = end;
        if (end <= start) continue;
        let secret = chunk.slice(start, end);
        let secretStart = start;
        if (groups >= 1) {
          if (rule.secretGroup > 0) {
            if (rule.secretGroup > groups) continue;
            const g = m.group(rule.secretGroup);
            if (g === null || g === undefined) continue;
            secret = g;
            secretStart = m.start(rule.secretGroup);
          } else {
            for (let i = 1; i <= groups; i++) {
              const g = m.group(i);
              if (g) {
                secret = g;
                secretStart = m.start(i);
                break;
              }
            }
          }
        }
        if (secret === '') continue;
        const entropy = shannonEntropy(secret);
        if (rule.entropy > 0 && entropy <= rule.entropy) continue;
        // gitleaks: a generic rule's secret must contain a digit
        if (rule.id.startsWith('generic') && !/[0-9]/.test(secret)) continue;
        const absStart = from + secretStart;
        starts ??= lineIndex(text);
        const li = lineOf(starts, absStart);
        const ls = starts[li] ?? 0;
        const c: Candidate = { secret, match: chunk.slice(start, end), line: text.slice(ls, lineEnd(text, absStart)), path: p };
        if (allowedBy(rules.global, c) || allowedBy(rule.allowlists, c)) continue;
        const secretHash = sha256Hex(secret);
        const f: Finding = {
          ruleId: rule.id,
          description: rule.description,
          file,
          line: li + 1,
          column: absStart - ls + 1,
          match: redact(secret),
          secretHash,
          entropy: Math.round(entropy * 1000) / 1000,
        };
        const reason = projectAllowed(entries, file, rule.id, secret, secretHash);
        out.push({ ...f, pos: absStart, secret, ...(reason === undefined ? {} : { reason }) });
      }
    }
  }
  // gitleaks: a generic finding gives way to a specific rule's finding on the same line whose
  // secret contains it
  const kept = out.filter(
    (f) => !f.ruleId.includes('generic') || !out.some((o) => o.line === f.line && o.ruleId !== f.ruleId && !o.ruleId.includes('generic') && o.secret.includes(f.secret)),
  );
  kept.sort((a, b) => a.pos - b.pos || a.ruleId.localeCompare(b.ruleId));
  const findings: Finding[] = [];
  for (const { pos: _pos, secret: _secret, reason, ...f } of kept) {
    if (reason === undefined) findings.push(f);
    else opts.onSuppressed?.(f, reason);
  }
  return findings;
}
