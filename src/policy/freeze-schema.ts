/**
 * Freeze windows in the project file (`environments[].freezes`): zod schemas (the edge parser) and
 * the normalized `FreezeWindow` shape `freeze.ts` evaluates. A window is either one-off
 * (`start`, `end`: ISO-8601 instants with an offset) or recurring (`cron`: 5 fields, `duration`,
 * `timezone`: an IANA zone, default UTC). Every string, list and span is bounded; every message
 * names the field and says what is wrong.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const freezeLimits = {
  /** windows per environment */
  windows: 100,
  /** services one window names */
  services: 256,
  reasonChars: 500,
  cronChars: 100,
  timezoneChars: 64,
  durationChars: 24,
  instantChars: 40,
  /** a one-off window spans at most 366 days (a leap year) */
  maxOneOffMs: 366 * DAY_MS,
  /** a recurring window's duration: at least 1 minute, at most 7 days */
  minDurationMs: MINUTE_MS,
  maxDurationMs: 7 * DAY_MS,
} as const;

/** A one-off window: an absolute span of time. */
export interface OneOffSchedule {
  kind: 'one-off';
  /** epoch ms, inclusive */
  start: number;
  /** epoch ms, exclusive */
  end: number;
  /** the UTC offset written in `start` (`+01:00`, `Z` as `+00:00`); times are shown in it */
  zone: string;
}
/** A recurring window: starts whenever `cron` matches in `timezone`, lasts `durationMs` of elapsed time. */
export interface RecurringSchedule {
  kind: 'recurring';
  /** 5-field cron expression, fields separated by single spaces */
  cron: string;
  durationMs: number;
  /** canonical IANA time zone name, e.g. `Europe/Berlin`, `UTC` */
  timezone: string;
}
export type FreezeSchedule = OneOffSchedule | RecurringSchedule;

export interface FreezeWindow {
  name: string;
  reason: string;
  /** the services it freezes; absent = every service of the environment */
  services?: readonly string[];
  schedule: FreezeSchedule;
  /** the environment the window belongs to; set by the project loader (see `withEnvironment`) */
  environment?: string;
}

// ---------------------------------------------------------------------------------------------
// Field parsers. Each returns the parsed value or a message that names the field.

/** `30m`, `2h`, `1d`, `1h30m`, `2d16h`: units in the order d, h, m, s, each at most once. */
export const FREEZE_DURATION_RE = /^(?=.)(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/;

/** Parse a freeze duration to milliseconds; a string saying what is wrong otherwise. */
export function parseFreezeDuration(text: string): number | string {
  const m = FREEZE_DURATION_RE.exec(text);
  if (!m) {
    return `duration "${clip(text)}" is not a duration: write it like 30m, 2h, 1d or 1h30m (units d, h, m, s in that order)`;
  }
  const [, d, h, min, s] = m;
  const ms = Number(d ?? 0) * DAY_MS + Number(h ?? 0) * HOUR_MS + Number(min ?? 0) * MINUTE_MS + Number(s ?? 0) * 1000;
  if (ms < freezeLimits.minDurationMs) return `duration "${text}" is shorter than 1 minute; a recurring window lasts at least 1m`;
  if (ms > freezeLimits.maxDurationMs) return `duration "${text}" is longer than 7 days; a recurring window lasts at most 7d`;
  return ms;
}

export const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parse an ISO-8601 date-time with an explicit offset (`2025-12-20T00:00:00+01:00`, `...Z`) to epoch
 * ms and the offset as written; a string saying what is wrong otherwise. Calendar-checked: no
 * 30 February, no hour 24.
 */
export function parseInstant(field: string, text: string): { ms: number; zone: string } | string {
  const m = INSTANT_RE.exec(text);
  const want = `write it as YYYY-MM-DDTHH:MM[:SS]±HH:MM or ...Z, e.g. 2025-12-20T00:00:00+01:00`;
  if (!m) {
    const noOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(text);
    return noOffset
      ? `${field} "${clip(text)}" has no UTC offset, so its instant is ambiguous: add one (Z, +01:00, -05:00)`
      : `${field} "${clip(text)}" is not an ISO-8601 date-time with offset: ${want}`;
  }
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)] as const;
  const local = Date.UTC(...fields, Number((frac ?? '0').padEnd(3, '0')));
  const back = new Date(local);
  if (
    back.getUTCFullYear() !== fields[0] ||
    back.getUTCMonth() !== fields[1] ||
    back.getUTCDate() !== fields[2] ||
    back.getUTCHours() !== fields[3] ||
    back.getUTCMinutes() !== fields[4] ||
    back.getUTCSeconds() !== fields[5]
  ) {
    return `${field} "${text}" is not a real date and time (check the day of the month and the hour 00-23)`;
  }
  if (fields[0] < 1970 || fields[0] > 9000) return `${field} "${text}" has a year outside 1970-9000`;
  if (z) return { ms: local, zone: '+00:00' };
  const offH = Number(oh);
  const offM = Number(om);
  if (offH > 14 || offM > 59 || (offH === 14 && offM > 0)) {
    return `${field} "${text}" has offset ${sign}${oh}:${om}; UTC offsets range from -14:00 to +14:00`;
  }
  const offset = (sign === '-' ? -1 : 1) * (offH * 60 + offM);
  return { ms: local - offset * MINUTE_MS, zone: `${sign}${oh}:${om}` };
}

export const TIMEZONE_RE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/** Validate an IANA time zone name with Intl; returns the canonical name or a message. */
export function parseTimezone(text: string): string | { error: string } {
  const fail = {
    error: `timezone "${clip(text)}" is not an IANA time zone name; write one like Europe/Berlin, America/New_York or UTC`,
  };
  if (!TIMEZONE_RE.test(text)) return fail;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone;
  } catch {
    return fail;
  }
}

const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const CRON_FIELD_RE = /^[0-9A-Za-z*,/#-]+$/;
/** a fixed reference for the "does it ever match" check, so parsing does not depend on the clock */
const CRON_REFERENCE = new Date(Date.UTC(2000, 0, 1));

/**
 * Validate a 5-field cron expression (minute hour day-of-month month day-of-week; names like MON and
 * JAN, ranges, lists, steps, and croner's L, W and # are allowed). Returns the expression with single
 * spaces, or a message that names the field and what is wrong.
 */
export function parseCron(text: string): string | { error: string } {
  const parts = text.trim().split(/[ \t]+/);
  const shown = `cron "${clip(text)}"`;
  if (text.trim() === '' || parts.length !== 5) {
    const n = text.trim() === '' ? 0 : parts.length;
    return {
      error: `${shown} has ${n} field${n === 1 ? '' : 's'}; a cron expression has exactly 5: minute hour day-of-month month day-of-week (e.g. "0 16 * * FRI")`,
    };
  }
  for (const [i, part] of parts.entries()) {
    if (!CRON_FIELD_RE.test(part)) {
      return {
        error: `${shown}: the ${CRON_FIELDS[i]} field "${clip(part)}" has characters other than digits, names (MON, JAN), * , - / L W #`,
      };
    }
  }
  const normalized = parts.join(' ');
  let cron: Cron;
  try {
    cron = new Cron(normalized, { mode: '5-part', timezone: 'UTC' });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/^CronPattern:\s*/, '');
    return { error: `${shown} is not a valid cron expression: ${clip(why, 200)}` };
  }
  let next: Date | null;
  try {
    next = cron.nextRun(CRON_REFERENCE);
  } catch (e) {
    return { error: `${shown} cannot be evaluated: ${clip(e instanceof Error ? e.message : String(e), 200)}` };
  }
  if (!next) return { error: `${shown} never matches a date (e.g. 30 February); fix the day-of-month and month fields` };
  return normalized;
}

function clip(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

// ---------------------------------------------------------------------------------------------
// zod schemas. The `pattern`s in .meta() only go into the published JSON Schema; zod checks the
// same things in the transforms, with messages that say what is wrong.

const CRON_JSON_PATTERN = '^[ \\t]*[0-9A-Za-z*,/#-]+(?:[ \\t]+[0-9A-Za-z*,/#-]+){4}[ \\t]*$';

const nameSchema = z
  .string()
  .max(63)
  .regex(NAME_RE, 'a window name is lowercase letters, digits and dashes, starting with a letter (at most 63 characters)')
  .describe('the window name, unique within the environment: lowercase letters, digits and dashes');

const reasonSchema = z
  .string()
  .min(1, 'reason must not be empty: say why deployments are frozen')
  .max(freezeLimits.reasonChars, `reason is longer than ${freezeLimits.reasonChars} characters`)
  .regex(/\S/, 'reason must not be blank: say why deployments are frozen')
  .regex(/^[^\p{Cc}]*$/u, 'reason must be one line without control characters')
  .describe('why deployments are frozen; shown to whoever is blocked');

const servicesSchema = z
  .array(z.string().max(63).regex(NAME_RE, 'a service name is lowercase letters, digits and dashes, starting with a letter'))
  .min(1, 'services must name at least one service; leave the field out to freeze every service')
  .max(freezeLimits.services)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s)) ctx.addIssue({ code: 'custom', path: [i], message: `service "${s}" is listed twice`, input: s });
      seen.add(s);
    });
  })
  .describe('the services the window freezes; leave out to freeze every service of the environment');

const instantSchema = (field: 'start' | 'end') =>
  z
    .string()
    .max(freezeLimits.instantChars, `${field} is longer than ${freezeLimits.instantChars} characters`)
    .meta({ pattern: INSTANT_RE.source })
    .describe(
      field === 'start'
        ? 'one-off window: first frozen instant, ISO-8601 with offset, e.g. 2025-12-20T00:00:00+01:00'
        : 'one-off window: first instant no longer frozen (exclusive), ISO-8601 with offset',
    )
    .transform((s, ctx) => {
      const r = parseInstant(field, s);
      if (typeof r === 'string') {
        ctx.addIssue({ code: 'custom', message: r, input: s });
        return z.NEVER;
      }
      return r;
    });

const cronSchema = z
  .string()
  .max(freezeLimits.cronChars, `cron is longer than ${freezeLimits.cronChars} characters`)
  .meta({ pattern: CRON_JSON_PATTERN })
  .describe('recurring window: when it starts, 5-field cron (minute hour day-of-month month day-of-week) in `timezone`')
  .transform((s, ctx) => {
    const r = parseCron(s);
    if (typeof r !== 'string') {
      ctx.addIssue({ code: 'custom', message: r.error, input: s });
      return z.NEVER;
    }
    return r;
  });

const durationSchema = z
  .string()
  .max(freezeLimits.durationChars, `duration is longer than ${freezeLimits.durationChars} characters`)
  .meta({ pattern: FREEZE_DURATION_RE.source })
  .describe('recurring window: how long each occurrence lasts (elapsed time), e.g. 30m, 2h, 1d, 1h30m; at most 7d')
  .transform((s, ctx) => {
    const r = parseFreezeDuration(s);
    if (typeof r === 'string') {
      ctx.addIssue({ code: 'custom', message: r, input: s });
      return z.NEVER;
    }
    return r;
  });

const timezoneSchema = z
  .string()
  .max(freezeLimits.timezoneChars, `timezone is longer than ${freezeLimits.timezoneChars} characters`)
  .meta({ pattern: TIMEZONE_RE.source })
  .describe('recurring window: IANA time zone the cron runs in, e.g. Europe/Berlin (default UTC)')
  .transform((s, ctx) => {
    const r = parseTimezone(s);
    if (typeof r !== 'string') {
      ctx.addIssue({ code: 'custom', message: r.error, input: s });
      return z.NEVER;
    }
    return r;
  });

const windowFieldsSchema = z.strictObject({
  name: nameSchema,
  reason: reasonSchema,
  services: servicesSchema.optional(),
  start: instantSchema('start').optional(),
  end: instantSchema('end').optional(),
  cron: cronSchema.optional(),
  duration: durationSchema.optional(),
  timezone: timezoneSchema.optional(),
});

/** Field names a window may have, for "unknown field" messages (`environments[].freezes[]`). */
export const freezeWindowFields: readonly string[] = Object.keys(windowFieldsSchema.shape);

type WindowFields = z.output<typeof windowFieldsSchema>;

function toWindow(f: WindowFields, ctx: z.core.$RefinementCtx<WindowFields>): FreezeWindow {
  const oneOff = f.start !== undefined || f.end !== undefined;
  const recurring = f.cron !== undefined || f.duration !== undefined;
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: f });
  if (oneOff && recurring) {
    issue(
      ['cron'],
      'a window is either one-off (start, end) or recurring (cron, duration, timezone), not both: remove start and end, or cron and duration',
    );
    return z.NEVER;
  }
  if (!oneOff && !recurring) {
    issue(
      [],
      `window "${f.name}" has no schedule: give start and end (one-off), or cron and duration (recurring, with an optional timezone)`,
    );
    return z.NEVER;
  }
  const base = { name: f.name, reason: f.reason, ...(f.services ? { services: f.services } : {}) };
  if (oneOff) {
    if (f.timezone !== undefined) {
      issue(['timezone'], 'timezone applies to recurring windows (cron) only; start and end of a one-off window carry their own UTC offset');
    }
    if (!f.start) issue(['start'], 'start is missing: a one-off window needs start and end');
    if (!f.end) issue(['end'], 'end is missing: a one-off window needs start and end');
    if (!f.start || !f.end || f.timezone !== undefined) return z.NEVER;
    if (f.end.ms <= f.start.ms) {
      issue(['end'], 'end must be after start (end is the first instant no longer frozen)');
      return z.NEVER;
    }
    if (f.end.ms - f.start.ms > freezeLimits.maxOneOffMs) {
      const days = Math.ceil((f.end.ms - f.start.ms) / DAY_MS);
      issue(['end'], `a one-off window lasts at most 366 days; this one lasts ${days} days: split it or shorten it`);
      return z.NEVER;
    }
    return { ...base, schedule: { kind: 'one-off', start: f.start.ms, end: f.end.ms, zone: f.start.zone } };
  }
  if (!f.cron) issue(['cron'], 'cron is missing: a recurring window needs cron and duration, e.g. cron: "0 16 * * FRI"');
  if (f.duration === undefined) issue(['duration'], 'duration is missing: a recurring window needs cron and duration, e.g. duration: 64h');
  if (!f.cron || f.duration === undefined) return z.NEVER;
  return {
    ...base,
    schedule: { kind: 'recurring', cron: f.cron, durationMs: f.duration, timezone: f.timezone ?? 'UTC' },
  };
}

/** One freeze window as written in the project file, normalized to a `FreezeWindow`. */
export const freezeWindowSchema = windowFieldsSchema
  .transform((f, ctx): FreezeWindow => toWindow(f, ctx))
  .meta({
    oneOf: [
      { required: ['start', 'end'], not: { anyOf: [{ required: ['cron'] }, { required: ['duration'] }, { required: ['timezone'] }] } },
      { required: ['cron', 'duration'], not: { anyOf: [{ required: ['start'] }, { required: ['end'] }] } },
    ],
  })
  .describe('a freeze window: one-off (start, end) or recurring (cron, duration, timezone); while it is active, promotions wait');

/** The freeze windows of one environment (`environments[].freezes`): at most 100, unique names. */
export const freezeWindowsSchema = z
  .array(freezeWindowSchema)
  .max(freezeLimits.windows, `at most ${freezeLimits.windows} freeze windows per environment`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((w, i) => {
      if (seen.has(w.name)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `freeze window name "${w.name}" is used twice; names must be unique`, input: w.name });
      }
      seen.add(w.name);
    });
  })
  .describe('freeze windows: while any window that matches the service is active, promotions to this environment wait');

/** Tag windows with the environment they belong to (for listings across environments). */
export function withEnvironment(environment: string, windows: readonly FreezeWindow[]): FreezeWindow[] {
  return windows.map((w) => ({ ...w, environment }));
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : `.${String(seg)}`;
  return out;
}

/**
 * Parse the freeze windows of one environment outside the project loader (API bodies, tests).
 * Throws DomainError('invalid_input') listing every problem with its field path.
 */
export function parseFreezeWindows(input: unknown, field = 'freezes'): FreezeWindow[] {
  const r = freezeWindowsSchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 10);
  const lines = issues.map((i) => `${field}${formatPath(i.path)}: ${i.message}`);
  const more = r.error.issues.length - issues.length;
  throw new DomainError('invalid_input', `invalid freeze windows: ${lines.join('; ')}${more > 0 ? `; and ${more} more` : ''}`, {
    field: `${field}${formatPath(issues[0]?.path ?? [])}`,
    fix: 'each window needs name and reason, and either start and end (ISO-8601 with offset) or cron (5 fields) and duration (e.g. 2h, at most 7d) with an optional IANA timezone; see docs/freeze-windows.md',
  });
}
