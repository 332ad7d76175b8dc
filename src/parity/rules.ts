/**
 * Allowed differences (parity.yaml rules), as the pure report engine sees them: a pattern, the
 * environment pair, optional services, who owns the exception and until when it holds.
 */
import { patternCovers } from './pointer.ts';

export interface ParityRule {
  id: string;
  /** the pattern as written (JSON Pointer, `*` segments) */
  path: string;
  /** its parsed segments */
  pattern: readonly string[];
  /** an unordered pair of environment names, or `*` for every pair */
  environments: '*' | readonly [string, string];
  /** only these services; absent: every service (and the environment-level flags) */
  services?: readonly string[];
  reason: string;
  owner: string;
  /** YYYY-MM-DD: the rule holds through the end of that day (UTC) */
  expires: string;
  /** where the rule starts in parity.yaml, when loaded from it */
  line?: number;
  column?: number;
}

export interface ParityRules {
  allow: readonly ParityRule[];
  /** secret ages that differ by at most this many days are equal */
  secretAgeToleranceDays: number;
}

export const DEFAULT_SECRET_AGE_TOLERANCE_DAYS = 30;
export const noParityRules: ParityRules = { allow: [], secretAgeToleranceDays: DEFAULT_SECRET_AGE_TOLERANCE_DAYS };

const DAY_MS = 86_400_000;

/** has the rule expired at `now`? (it holds through the whole `expires` day, UTC) */
export const ruleExpired = (rule: Pick<ParityRule, 'expires'>, now: Date): boolean => now.getTime() >= Date.parse(`${rule.expires}T00:00:00Z`) + DAY_MS;

/** the rules that have expired at `now`: every difference they allowed is a finding again */
export function expiredParityRules(rules: ParityRules | readonly ParityRule[], now: Date): ParityRule[] {
  const list = 'allow' in rules ? rules.allow : rules;
  return list.filter((r) => ruleExpired(r, now));
}

function pairMatches(rule: ParityRule, a: string, b: string): boolean {
  if (rule.environments === '*') return true;
  const [x, y] = rule.environments;
  return (x === a && y === b) || (x === b && y === a);
}

export type RuleMatch = { rule: ParityRule; expired: boolean } | undefined;

/**
 * The rule that allows a difference: the first live rule that covers it; if only expired rules
 * cover it, the first of those (so the finding can say which rule expired and when).
 */
export function matchRule(rules: readonly ParityRule[], env: { a: string; b: string }, service: string | undefined, segments: readonly string[], now: Date): RuleMatch {
  let expired: ParityRule | undefined;
  for (const rule of rules) {
    if (!pairMatches(rule, env.a, env.b)) continue;
    if (rule.services && (service === undefined || !rule.services.includes(service))) continue;
    if (!patternCovers(rule.pattern, segments)) continue;
    if (!ruleExpired(rule, now)) return { rule, expired: false };
    expired ??= rule;
  }
  return expired ? { rule: expired, expired: true } : undefined;
}
