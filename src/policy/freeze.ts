/**
 * Freeze windows: which windows block a service in an environment now, which will block and when,
 * and the facts gate rules see. Pure functions of the windows and a time; no clock is read.
 *
 * An occurrence is the half-open span [from, until). A one-off window has one occurrence. A
 * recurring window has one per cron match in its time zone, each lasting its duration of elapsed
 * time. Any matching active occurrence freezes (deny wins). Across DST changes croner's rules
 * apply: a start time that falls into the spring-forward gap starts at the first valid time after
 * the gap (02:30 becomes 03:00); a fixed start time that occurs twice in autumn starts once, at its
 * first occurrence; patterns with wildcards or steps in minute or hour run on both.
 */
import { Cron } from 'croner';
import { DomainError } from '../domain/errors.ts';
import type { FreezeSchedule, FreezeWindow } from './freeze-schema.ts';

const DAY_MS = 86_400_000;

export const freezeQueryLimits = {
  /** occurrences one upcoming listing returns at most */
  occurrences: 200,
  /** the longest horizon a listing may look ahead */
  maxHorizonMs: 366 * DAY_MS,
  /** instants outside these years are refused (croner covers years 1-9999) */
  minYear: 1970,
  maxYear: 9000,
} as const;

/** a sensible default for `stagegate freeze list --upcoming` */
export const DEFAULT_UPCOMING_HORIZON_MS = 30 * DAY_MS;

/** One span during which a window blocks. */
export interface FreezeOccurrence {
  name: string;
  reason: string;
  environment?: string;
  /** the services it blocks, or `all` */
  services: readonly string[] | 'all';
  /** first frozen instant (inclusive) */
  from: Date;
  /** first instant no longer frozen by this occurrence (exclusive) */
  until: Date;
  /** the zone to show times in: an IANA name for recurring windows, the written offset (`+01:00`) for one-off ones */
  timezone: string;
}

export interface ActiveQuery {
  /** the service being promoted; windows without `services` match every service */
  service: string;
  at: Date;
  /** when given, only windows tagged with this environment (or untagged) count */
  environment?: string;
}

export interface UpcomingQuery {
  /** when given, only windows that freeze this service */
  service?: string;
  environment?: string;
  from: Date;
  /** how far ahead to look; 0 lists the occurrences active at `from` */
  horizonMs: number;
  /** at most this many occurrences (default and maximum 200) */
  limit?: number;
}

export interface UpcomingFreezes {
  /** occurrences overlapping [from, from + horizon], sorted by from, until, environment, name */
  occurrences: FreezeOccurrence[];
  /** true when more occurrences overlap the horizon than were returned */
  truncated: boolean;
}

/** What gate rules (CEL) see: `freeze.active`, `freeze.windows`. */
export interface FreezeFacts {
  active: boolean;
  /** names of the active windows, sorted, each once */
  windows: string[];
}

// ---------------------------------------------------------------------------------------------

const cronCache = new Map<string, Cron>();
const CRON_CACHE_MAX = 512;

function cronOf(schedule: Extract<FreezeSchedule, { kind: 'recurring' }>): Cron {
  const key = `${schedule.timezone}\u0000${schedule.cron}`;
  let c = cronCache.get(key);
  if (!c) {
    try {
      c = new Cron(schedule.cron, { mode: '5-part', timezone: schedule.timezone });
    } catch (e) {
      throw new DomainError('internal', `freeze window cron "${schedule.cron}" was not validated: ${(e as Error).message}`, {
        fix: 'parse freeze windows with freezeWindowsSchema before evaluating them',
      });
    }
    if (cronCache.size >= CRON_CACHE_MAX) cronCache.clear();
    cronCache.set(key, c);
  }
  return c;
}

function checkInstant(field: string, d: Date): number {
  const t = d instanceof Date ? d.getTime() : Number.NaN;
  const lo = Date.UTC(freezeQueryLimits.minYear, 0, 1);
  const hi = Date.UTC(freezeQueryLimits.maxYear, 0, 1);
  if (!Number.isFinite(t) || t < lo || t >= hi) {
    throw new DomainError('invalid_input', `${field} is not a time between ${freezeQueryLimits.minYear} and ${freezeQueryLimits.maxYear}`, {
      field,
      fix: 'give an ISO-8601 time such as 2025-12-20T00:00:00Z',
    });
  }
  return t;
}

const applies = (w: FreezeWindow, service: string | undefined, environment: string | undefined): boolean =>
  (service === undefined || w.services === undefined || w.services.includes(service)) &&
  (environment === undefined || w.environment === undefined || w.environment === environment);

function occurrence(w: FreezeWindow, from: number, until: number): FreezeOccurrence {
  return {
    name: w.name,
    reason: w.reason,
    ...(w.environment !== undefined ? { environment: w.environment } : {}),
    services: w.services ? [...w.services] : 'all',
    from: new Date(from),
    until: new Date(until),
    timezone: w.schedule.kind === 'recurring' ? w.schedule.timezone : w.schedule.zone,
  };
}

/** The latest cron start <= t (starts are whole minutes; croner's previousRuns excludes its reference). */
function latestStartAtOrBefore(cron: Cron, t: number): number | undefined {
  const ref = Math.floor(t / 1000) * 1000 + 1000;
  const prev = cron.previousRuns(1, new Date(ref))[0];
  return prev ? prev.getTime() : undefined;
}

/** The occurrence of `w` that covers `t` and ends last, if any. */
function coveringOccurrence(w: FreezeWindow, t: number): [number, number] | undefined {
  const s = w.schedule;
  if (s.kind === 'one-off') return s.start <= t && t < s.end ? [s.start, s.end] : undefined;
  // Every occurrence lasts the same elapsed time, so the latest start <= t ends last: if it does
  // not cover t, no earlier one does.
  const start = latestStartAtOrBefore(cronOf(s), t);
  return start !== undefined && t < start + s.durationMs ? [start, start + s.durationMs] : undefined;
}

const byOccurrence = (a: FreezeOccurrence, b: FreezeOccurrence): number =>
  a.from.getTime() - b.from.getTime() ||
  a.until.getTime() - b.until.getTime() ||
  (a.environment ?? '').localeCompare(b.environment ?? '') ||
  a.name.localeCompare(b.name);

/**
 * The windows that freeze `service` at `at`, each with the occurrence that covers `at` (for a
 * recurring window whose occurrences overlap, the one that ends last), sorted by from.
 */
export function activeFreezes(windows: readonly FreezeWindow[], query: ActiveQuery): FreezeOccurrence[] {
  const t = checkInstant('at', query.at);
  const out: FreezeOccurrence[] = [];
  for (const w of windows) {
    if (!applies(w, query.service, query.environment)) continue;
    const span = coveringOccurrence(w, t);
    if (span) out.push(occurrence(w, span[0], span[1]));
  }
  return out.sort(byOccurrence);
}

/**
 * The occurrences that overlap [from, from + horizonMs] (an occurrence [a, b) overlaps when
 * a <= from + horizon and b > from, so one that began long ago and still runs is listed), sorted,
 * at most `limit` (200).
 */
export function upcomingFreezes(windows: readonly FreezeWindow[], query: UpcomingQuery): UpcomingFreezes {
  const from = checkInstant('from', query.from);
  const horizon = query.horizonMs;
  if (!Number.isFinite(horizon) || horizon < 0 || horizon > freezeQueryLimits.maxHorizonMs) {
    throw new DomainError('invalid_input', `horizon must be between 0 and 366 days; got ${String(horizon)} ms`, {
      field: 'horizon',
      fix: 'look ahead at most 366 days, e.g. --horizon 30d',
    });
  }
  const limit = query.limit ?? freezeQueryLimits.occurrences;
  if (!Number.isInteger(limit) || limit < 1 || limit > freezeQueryLimits.occurrences) {
    throw new DomainError('invalid_input', `limit must be a whole number from 1 to ${freezeQueryLimits.occurrences}`, {
      field: 'limit',
      fix: `ask for at most ${freezeQueryLimits.occurrences} occurrences`,
    });
  }
  const to = from + horizon;
  const found: FreezeOccurrence[] = [];
  for (const w of windows) {
    if (!applies(w, query.service, query.environment)) continue;
    const s = w.schedule;
    if (s.kind === 'one-off') {
      if (s.start <= to && s.end > from) found.push(occurrence(w, s.start, s.end));
      continue;
    }
    const cron = cronOf(s);
    // Starts strictly after from - duration end after from. One more than the limit per window is
    // enough to know whether the merged list was cut.
    let cursor = new Date(from - s.durationMs);
    for (let n = 0; n <= limit; n++) {
      const next = cron.nextRun(cursor);
      if (!next || next.getTime() > to) break;
      found.push(occurrence(w, next.getTime(), next.getTime() + s.durationMs));
      cursor = next;
    }
  }
  found.sort(byOccurrence);
  return { occurrences: found.slice(0, limit), truncated: found.length > limit };
}

/** The freeze facts for gate rules: is `service` frozen at `at`, and by which windows. */
export function freezeFacts(windows: readonly FreezeWindow[], query: ActiveQuery): FreezeFacts {
  const names = [...new Set(activeFreezes(windows, query).map((o) => o.name))].sort();
  return { active: names.length > 0, windows: names };
}

/**
 * A gate message for a frozen environment: which windows, why, until when, and what to do.
 * `active` comes from activeFreezes; returns undefined when it is empty.
 */
export function describeFreeze(active: readonly FreezeOccurrence[], environment: string): string | undefined {
  if (active.length === 0) return undefined;
  const until = new Date(Math.max(...active.map((o) => o.until.getTime())));
  const which = active.map((o) => `"${o.name}" (${o.reason}) until ${isoUtc(o.until)}`).join(', ');
  return `environment ${environment} is frozen by ${active.length === 1 ? 'window' : 'windows'} ${which}; the promotion waits until ${isoUtc(until)} (or a later window), or use break-glass to skip the freeze`;
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** `2025-10-24T14:00:00Z` (seconds, no milliseconds). */
export function isoUtc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    if (formatters.size >= 256) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const OFFSET_RE = /^([+-])(\d{2}):(\d{2})$/;

/**
 * `d` as ISO-8601 local time with its offset in `zone` (an IANA name or a fixed `+01:00`),
 * e.g. `2025-10-24T16:00:00+02:00`.
 */
export function isoInZone(d: Date, zone: string): string {
  const t = Math.floor(d.getTime() / 1000) * 1000;
  const fixed = OFFSET_RE.exec(zone);
  let offsetMin: number;
  if (fixed) {
    offsetMin = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
  } else {
    const parts: Record<string, number> = {};
    for (const p of wallFormatter(zone).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const wall = Date.UTC(parts['year'] ?? 0, (parts['month'] ?? 1) - 1, parts['day'] ?? 1, parts['hour'] ?? 0, parts['minute'] ?? 0, parts['second'] ?? 0);
    offsetMin = Math.round((wall - t) / 60_000);
  }
  const w = new Date(t + offsetMin * 60_000);
  const abs = Math.abs(offsetMin);
  const off = `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}${off}`;
}

/** One row of `stagegate freeze list`: every value a string, ready for a table or JSON. */
export interface FreezeRow {
  name: string;
  environment: string;
  services: string;
  /** ISO-8601 UTC */
  from: string;
  until: string;
  /** ISO-8601 in the window's zone, with offset */
  fromLocal: string;
  untilLocal: string;
  timezone: string;
  reason: string;
}

export function formatFreeze(o: FreezeOccurrence): FreezeRow {
  return {
    name: o.name,
    environment: o.environment ?? '-',
    services: o.services === 'all' ? 'all' : o.services.join(','),
    from: isoUtc(o.from),
    until: isoUtc(o.until),
    fromLocal: isoInZone(o.from, o.timezone),
    untilLocal: isoInZone(o.until, o.timezone),
    timezone: o.timezone,
    reason: o.reason,
  };
}

const clipCell = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The `stagegate freeze list` table: a header line and one line per occurrence. */
export function formatFreezeTable(occurrences: readonly FreezeOccurrence[], truncated = false): string[] {
  if (occurrences.length === 0) return ['no freeze windows in this period'];
  const header = ['NAME', 'ENVIRONMENT', 'SERVICES', 'FROM (UTC)', 'UNTIL (UTC)', 'LOCAL (WINDOW ZONE)', 'REASON'];
  const rows = occurrences.map((o) => {
    const r = formatFreeze(o);
    return [r.name, r.environment, clipCell(r.services, 40), r.from, r.until, `${r.fromLocal} → ${r.untilLocal} ${r.timezone}`, clipCell(r.reason, 60)];
  });
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const lines = all.map((row) => row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
  if (truncated) lines.push(`(only the first ${occurrences.length} occurrences are shown; shorten the horizon to see the rest)`);
  return lines;
}
