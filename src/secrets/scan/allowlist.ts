/**
 * The `scan` section of the project file: allowlist entries for secret-scan findings. Each entry
 * names a gitleaks rule id, a path glob and/or a finding fingerprint, and must give a reason; an
 * entry with an `expires` date stops applying at that date. `effectiveAllowlist` turns the entries
 * that still apply into the scanner's allowlist.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FINGERPRINT_RE, type ScanAllowlist } from './detect.ts';
import { defaultRulesPath } from './rules.ts';

export const scanLimits = { entries: 500, reasonBytes: 500, globBytes: 512 } as const;

let ruleIdCache: ReadonlySet<string> | undefined;
/** The rule ids of the vendored gitleaks rules (read from the TOML text: no regex compiled). */
export function knownRuleIds(): ReadonlySet<string> {
  if (!ruleIdCache) {
    let text = '';
    try {
      text = readFileSync(defaultRulesPath, 'utf8');
    } catch {
      // the scanner itself reports the missing rules file; here no id is known
    }
    ruleIdCache = new Set(Array.from(text.matchAll(/^id\s*=\s*"([^"\n]{1,200})"/gm), (m) => m[1] as string));
  }
  return ruleIdCache;
}

const OWNER_RE = /^(?:user|service|group):[a-z][a-z0-9._-]{0,62}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** When an `expires` value stops applying (ms since the epoch): a date ends with its day, in UTC. */
export function expiryInstant(value: string): number | undefined {
  if (!DATE_RE.test(value)) return undefined;
  const t = value.length === 10 ? Date.parse(`${value}T00:00:00Z`) + 86_400_000 : Date.parse(value.replace(' ', 'T'));
  return Number.isFinite(t) ? t : undefined;
}

export const scanAllowEntrySchema = z
  .strictObject({
    rule: z
      .string()
      .min(1)
      .max(200)
      .refine((id) => knownRuleIds().size === 0 || knownRuleIds().has(id), {
        message: 'not a rule id of the gitleaks default rules; use the rule id a scan finding printed (e.g. aws-access-token, generic-api-key)',
      })
      .optional()
      .describe('a gitleaks rule id, as findings print it: only findings of that rule'),
    path: z
      .string()
      .min(1)
      .max(scanLimits.globBytes)
      .optional()
      .describe('a glob on the file path (`*` within a folder, `**` across folders, `?` one character); inside an archive `app.tgz!dir/file` also matches `app.tgz/dir/file`'),
    fingerprint: z
      .string()
      .max(64)
      .refine((s) => FINGERPRINT_RE.test(s), 'a fingerprint is 16 to 64 lower-case hex digits, as a scan finding prints it')
      .meta({ pattern: FINGERPRINT_RE.source })
      .optional()
      .describe('the fingerprint a finding prints (the first hex digits of the SHA-256 of the secret): only that secret'),
    reason: z
      .string()
      .max(scanLimits.reasonBytes)
      .refine((s) => s.trim().length > 0, 'a reason is required: say why this finding is not a secret or why it is accepted')
      .meta({ minLength: 1, pattern: '\\S' })
      .describe('required: why the match is not a secret, or why it is accepted; shown in reports and audit'),
    owner: z
      .string()
      .max(70)
      .refine((s) => OWNER_RE.test(s), 'not a principal id; write user:NAME, service:NAME or group:NAME, e.g. user:alice')
      .meta({ pattern: OWNER_RE.source })
      .optional()
      .describe('who answers for this entry'),
    expires: z
      .string()
      .max(40)
      .refine((s) => expiryInstant(s) !== undefined, 'a date YYYY-MM-DD or a timestamp such as 2026-12-31T12:00:00Z')
      .meta({ pattern: DATE_RE.source })
      .optional()
      .describe('the entry stops applying on this date (YYYY-MM-DD: at the end of that day, UTC) or at this instant'),
  })
  .refine((e) => e.rule !== undefined || e.path !== undefined || e.fingerprint !== undefined, {
    message: 'an allowlist entry must name at least one of rule, path, fingerprint; add the rule id, a path glob or the fingerprint the scan printed',
  })
  .meta({ anyOf: [{ required: ['rule'] }, { required: ['path'] }, { required: ['fingerprint'] }] })
  .describe('one allowed secret-scan finding (or group of them), with the reason it is allowed');

export const scanSectionSchema = z
  .strictObject({
    allow: z.array(scanAllowEntrySchema).max(scanLimits.entries).default([]).describe('allowlist entries; see docs/secret-scanning.md'),
  })
  .describe('secret scanning of releases: allowlisted findings (see docs/secret-scanning.md)');

export const scanAllowFields = Object.keys(scanAllowEntrySchema.shape);
export const scanSectionFields = Object.keys(scanSectionSchema.shape);

/** One normalized allowlist entry of a project (`index` is its place in `scan.allow`). */
export interface ScanAllowRule {
  index: number;
  rule?: string;
  path?: string;
  fingerprint?: string;
  reason: string;
  owner?: string;
  /** ISO instant from which the entry no longer applies */
  expiresAt?: string;
}
export interface ScanPolicy {
  allow: ScanAllowRule[];
}

/** Normalize the validated `scan` section (absent: no allowlist). */
export function normalizeScanSection(s: z.output<typeof scanSectionSchema> | undefined): ScanPolicy {
  return {
    allow: (s?.allow ?? []).map((e, index) => {
      const exp = e.expires === undefined ? undefined : expiryInstant(e.expires);
      return {
        index,
        ...(e.rule === undefined ? {} : { rule: e.rule }),
        ...(e.path === undefined ? {} : { path: e.path }),
        ...(e.fingerprint === undefined ? {} : { fingerprint: e.fingerprint }),
        reason: e.reason.trim(),
        ...(e.owner === undefined ? {} : { owner: e.owner }),
        ...(exp === undefined ? {} : { expiresAt: new Date(exp).toISOString() }),
      };
    }),
  };
}

/** RE2 source for a glob: `**` any run of characters, `*` any run within one folder, `?` one character; `/` and `!` match each other. */
export function globToRe2(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/' || glob[i + 1] === '!') {
        i++;
        out += '(?:.*[/!])?';
      } else out += '.*';
    } else if (c === '*') out += '[^/!]*';
    else if (c === '?') out += '[^/!]';
    else if (c === '/' || c === '!') out += '[/!]';
    else out += /[\\^$.|+()[\]{}]/.test(c) ? `\\${c}` : c;
  }
  return `${out}$`;
}

const describeEntry = (e: ScanAllowRule): string =>
  [`scan.allow[${e.index}]`, e.rule && `rule ${e.rule}`, e.path && `path ${e.path}`, e.fingerprint && `fingerprint ${e.fingerprint}`].filter(Boolean).join(' ');

/** The scanner allowlist of the entries that apply at `now`; notes name each expired entry. */
export function effectiveAllowlist(policy: ScanPolicy | undefined, now: Date): { allowlist: ScanAllowlist; notes: string[] } {
  const allowlist: ScanAllowlist = [];
  const notes: string[] = [];
  for (const e of policy?.allow ?? []) {
    if (e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now.getTime()) {
      notes.push(`${describeEntry(e)} expired at ${e.expiresAt} and no longer applies (reason was: ${e.reason}); renew its expires date or remove it`);
      continue;
    }
    const reason = `${e.reason}${e.owner ? ` (owner ${e.owner})` : ''} [${describeEntry(e)}]`;
    allowlist.push({
      ...(e.rule === undefined ? {} : { rule: e.rule }),
      ...(e.path === undefined ? {} : { path: globToRe2(e.path) }),
      ...(e.fingerprint === undefined ? {} : { fingerprint: e.fingerprint }),
      reason,
    });
  }
  return { allowlist, notes };
}
