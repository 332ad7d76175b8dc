/**
 * Failed-authentication limiter. Keys are strings the caller chooses, e.g. `addr:203.0.113.7` and
 * `token:AbCd1234`: after `maxFailures` failures of one key within `windowMs`, that key is locked for
 * `lockoutMs`, and a request is allowed only when none of its keys is locked. Memory is bounded: at
 * most `maxKeys` keys are kept; to make room, expired entries go first, then unlocked ones, least recently
 * used first.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';

export interface FailureLimiterOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  clock: () => Date;
  /** default 10,000 */
  maxKeys?: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise how long until every key is unlocked (for Retry-After) */
  retryAfterMs: number;
}

export interface FailureLimiter {
  check(keys: readonly string[]): LimitDecision;
  fail(keys: readonly string[]): LimitDecision;
  succeed(keys: readonly string[]): void;
  /** how many keys are held (for metrics and tests) */
  size(): number;
}

interface Entry {
  windowStart: number;
  failures: number;
  lockedUntil: number;
}

/** keys longer than this are stored as their SHA-256, so a huge key cannot pin memory */
const MAX_KEY_CHARS = 128;
const MAX_KEYS_PER_CALL = 8;
/** how many of the oldest entries to inspect for an expired one before evicting the oldest */
const EVICTION_SCAN = 32;

const normalize = (key: string): string => (key.length <= MAX_KEY_CHARS ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`);

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const { maxFailures, windowMs, lockoutMs, clock } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  for (const [k, v] of Object.entries({ maxFailures, windowMs, lockoutMs, maxKeys })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new DomainError('invalid_input', `failure limiter: ${k} must be a positive integer`, { field: k });
  }
  // Map iteration order is insertion order: re-inserting on every touch makes it an LRU list
  const entries = new Map<string, Entry>();

  const keysOf = (keys: readonly string[]): string[] => {
    if (keys.length > MAX_KEYS_PER_CALL) throw new DomainError('internal', `failure limiter: at most ${MAX_KEYS_PER_CALL} keys per request`);
    return [...new Set(keys.map(normalize))];
  };
  const live = (e: Entry, now: number) => e.lockedUntil > now || now - e.windowStart < windowMs;

  /** make room: the first expired entry among the oldest few, else the first one not locked, else the oldest */
  function evict(now: number): void {
    let scanned = 0;
    let unlocked: string | undefined;
    for (const [k, e] of entries) {
      if (!live(e, now)) {
        entries.delete(k);
        return;
      }
      if (unlocked === undefined && e.lockedUntil <= now) unlocked = k;
      if (++scanned >= EVICTION_SCAN) break;
    }
    const victim = unlocked ?? entries.keys().next().value;
    if (victim !== undefined) entries.delete(victim);
  }

  function decision(keys: string[], now: number): LimitDecision {
    let until = 0;
    for (const k of keys) {
      const e = entries.get(k);
      if (e && e.lockedUntil > now) until = Math.max(until, e.lockedUntil);
    }
    return until > now ? { allowed: false, retryAfterMs: until - now } : { allowed: true, retryAfterMs: 0 };
  }

  function check(keys: readonly string[]): LimitDecision {
    return decision(keysOf(keys), clock().getTime());
  }

  function fail(keys: readonly string[]): LimitDecision {
    const ks = keysOf(keys);
    const now = clock().getTime();
    for (const k of ks) {
      let e = entries.get(k);
      if (e) entries.delete(k);
      else if (entries.size >= maxKeys) evict(now);
      if (!e || (now - e.windowStart >= windowMs && e.lockedUntil <= now)) e = { windowStart: now, failures: 0, lockedUntil: 0 };
      // failures while locked extend nothing: the lockout is fixed, so a locked-out client cannot be kept out forever by others
      if (e.lockedUntil <= now) {
        e.failures += 1;
        if (e.failures >= maxFailures) {
          e.lockedUntil = now + lockoutMs;
          e.failures = 0;
          e.windowStart = now;
        }
      }
      entries.set(k, e);
    }
    return decision(ks, now);
  }

  /** forget the failures of these keys; an active lockout stays until it ends */
  function succeed(keys: readonly string[]): void {
    const now = clock().getTime();
    for (const k of keysOf(keys)) {
      const e = entries.get(k);
      if (!e) continue;
      if (e.lockedUntil > now) {
        e.failures = 0;
      } else {
        entries.delete(k);
      }
    }
  }

  return { check, fail, succeed, size: () => entries.size };
}
