import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import {
  freezeLimits,
  freezeWindowFields,
  freezeWindowSchema,
  freezeWindowsSchema,
  parseCron,
  parseFreezeDuration,
  parseFreezeWindows,
  parseInstant,
  parseTimezone,
  withEnvironment,
} from './freeze-schema.ts';

const H = 3_600_000;
const D = 24 * H;

/** [path, message] of every issue, for compact assertions */
const issuesOf = (input: unknown): [string, string][] => {
  const r = freezeWindowsSchema.safeParse(input);
  assert.equal(r.success, false, `expected ${JSON.stringify(input)} to be refused`);
  return r.success ? [] : r.error.issues.map((i) => [i.path.join('.'), i.message]);
};
const base = { name: 'year-end', reason: 'code freeze over the holidays' };

describe('freezeWindowSchema: valid windows', () => {
  test('one-off window with offsets becomes epoch ms and keeps the offset of start for display', () => {
    const [w] = freezeWindowsSchema.parse([{ ...base, start: '2025-12-20T00:00:00+01:00', end: '2026-01-02T06:30:00Z' }]);
    assert.deepEqual(w, {
      name: 'year-end',
      reason: 'code freeze over the holidays',
      schedule: { kind: 'one-off', start: Date.UTC(2025, 11, 19, 23), end: Date.UTC(2026, 0, 2, 6, 30), zone: '+01:00' },
    });
  });

  test('recurring window: cron normalized to single spaces, duration in ms, timezone canonical, default UTC', () => {
    const [a, b] = freezeWindowsSchema.parse([
      { name: 'weekend', reason: 'no deploys at the weekend', services: ['checkout', 'cart'], cron: ' 0  16 * *\tFRI ', duration: '2d16h', timezone: 'europe/berlin' },
      { name: 'nightly', reason: 'backups', cron: '0 2 * * *', duration: '1h30m' },
    ]);
    assert.deepEqual(a, {
      name: 'weekend',
      reason: 'no deploys at the weekend',
      services: ['checkout', 'cart'],
      schedule: { kind: 'recurring', cron: '0 16 * * FRI', durationMs: 64 * H, timezone: 'Europe/Berlin' },
    });
    assert.deepEqual(b?.schedule, { kind: 'recurring', cron: '0 2 * * *', durationMs: 1.5 * H, timezone: 'UTC' });
  });

  test('bounds that are allowed: 7d duration, 366-day one-off, 100 windows, 500-char reason', () => {
    assert.equal(freezeWindowSchema.parse({ ...base, cron: '0 0 * * MON', duration: '7d' }).schedule.kind, 'recurring');
    const w = freezeWindowSchema.parse({ ...base, start: '2024-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' });
    assert.equal(w.schedule.kind === 'one-off' && w.schedule.end - w.schedule.start, 366 * D);
    const many = Array.from({ length: 100 }, (_, i) => ({ name: `w${i}`, reason: 'r'.repeat(500), cron: '0 0 * * *', duration: '1m' }));
    assert.equal(freezeWindowsSchema.parse(many).length, 100);
  });

  test('the example in docs/freeze-windows.md parses', () => {
    const doc = readFileSync(new URL('../../docs/freeze-windows.md', import.meta.url), 'utf8');
    const yamlText = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const env = (parseYaml(yamlText) as { environments: { freezes: unknown }[] }).environments[0];
    const ws = freezeWindowsSchema.parse(env?.freezes);
    assert.deepEqual(
      ws.map((w) => [w.name, w.schedule.kind]),
      [
        ['year-end', 'one-off'],
        ['weekend', 'recurring'],
        ['payments-audit', 'one-off'],
      ],
    );
  });

  test('withEnvironment tags every window', () => {
    const ws = withEnvironment('prod', freezeWindowsSchema.parse([{ ...base, cron: '0 0 * * *', duration: '1h' }]));
    assert.equal(ws[0]?.environment, 'prod');
  });
});

describe('freezeWindowSchema: refused, with the field named', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['both forms', { ...base, start: '2025-12-20T00:00:00Z', end: '2025-12-21T00:00:00Z', cron: '0 0 * * *', duration: '1h' }, '0.cron', /either one-off .* or recurring .* not both/],
    ['neither form', base, '0', /no schedule: give start and end .* or cron and duration/],
    ['start without end', { ...base, start: '2025-12-20T00:00:00Z' }, '0.end', /end is missing/],
    ['end without start', { ...base, end: '2025-12-20T00:00:00Z' }, '0.start', /start is missing/],
    ['cron without duration', { ...base, cron: '0 0 * * *' }, '0.duration', /duration is missing/],
    ['duration without cron', { ...base, duration: '1h' }, '0.cron', /cron is missing/],
    ['timezone on a one-off window', { ...base, start: '2025-12-20T00:00:00Z', end: '2025-12-21T00:00:00Z', timezone: 'UTC' }, '0.timezone', /recurring windows .* only/],
    ['end before start', { ...base, start: '2025-12-20T00:00:00Z', end: '2025-12-19T00:00:00Z' }, '0.end', /end must be after start/],
    ['end equal to start', { ...base, start: '2025-12-20T01:00:00+01:00', end: '2025-12-20T00:00:00Z' }, '0.end', /end must be after start/],
    ['one-off longer than 366 days', { ...base, start: '2025-01-01T00:00:00Z', end: '2026-01-02T00:00:01Z' }, '0.end', /at most 366 days; this one lasts 367 days/],
    ['start without offset', { ...base, start: '2025-12-20T00:00:00', end: '2025-12-21T00:00:00Z' }, '0.start', /start "2025-12-20T00:00:00" has no UTC offset/],
    ['date only', { ...base, start: '2025-12-20', end: '2025-12-21T00:00:00Z' }, '0.start', /not an ISO-8601 date-time with offset/],
    ['30 February', { ...base, start: '2025-02-30T00:00:00Z', end: '2025-12-21T00:00:00Z' }, '0.start', /not a real date and time/],
    ['hour 24', { ...base, start: '2025-02-03T24:00:00Z', end: '2025-12-21T00:00:00Z' }, '0.start', /not a real date and time/],
    ['offset +15:00', { ...base, start: '2025-02-03T00:00:00+15:00', end: '2025-12-21T00:00:00Z' }, '0.start', /offsets range from -14:00 to \+14:00/],
    ['cron with 4 fields', { ...base, cron: '0 16 * *', duration: '1h' }, '0.cron', /has 4 fields; .* exactly 5: minute hour/],
    ['cron with 6 fields', { ...base, cron: '0 0 16 * * *', duration: '1h' }, '0.cron', /has 6 fields/],
    ['cron nickname', { ...base, cron: '@daily', duration: '1h' }, '0.cron', /has 1 field;/],
    ['cron minute 61', { ...base, cron: '61 * * * *', duration: '1h' }, '0.cron', /not a valid cron expression: Invalid value for minute: 61/],
    ['cron stray character', { ...base, cron: '0 16 * * $', duration: '1h' }, '0.cron', /day-of-week field "\$" has characters/],
    ['cron ? is not standard', { ...base, cron: '0 0 ? * *', duration: '1h' }, '0.cron', /day-of-month field "\?"/],
    ['cron that never matches', { ...base, cron: '0 0 30 2 *', duration: '1h' }, '0.cron', /never matches a date/],
    ['cron step 0', { ...base, cron: '*/0 * * * *', duration: '1h' }, '0.cron', /illegal stepping/],
    ['empty cron', { ...base, cron: '', duration: '1h' }, '0.cron', /has 0 fields/],
    ['duration over 7 days', { ...base, cron: '0 0 * * *', duration: '7d1m' }, '0.duration', /longer than 7 days/],
    ['duration under a minute', { ...base, cron: '0 0 * * *', duration: '30s' }, '0.duration', /shorter than 1 minute/],
    ['duration units out of order', { ...base, cron: '0 0 * * *', duration: '30m2h' }, '0.duration', /not a duration/],
    ['duration as a number', { ...base, cron: '0 0 * * *', duration: 60 }, '0.duration', /string/],
    ['unknown time zone', { ...base, cron: '0 0 * * *', duration: '1h', timezone: 'Mars/Olympus_Mons' }, '0.timezone', /not an IANA time zone name/],
    ['offset as time zone', { ...base, cron: '0 0 * * *', duration: '1h', timezone: '+01:00' }, '0.timezone', /not an IANA time zone name/],
    ['bad name', { ...base, name: 'Year End', cron: '0 0 * * *', duration: '1h' }, '0.name', /lowercase letters, digits and dashes/],
    ['empty reason', { ...base, reason: '', cron: '0 0 * * *', duration: '1h' }, '0.reason', /must not be empty/],
    ['blank reason', { ...base, reason: '   ', cron: '0 0 * * *', duration: '1h' }, '0.reason', /must not be blank/],
    ['multi-line reason', { ...base, reason: 'a\nb', cron: '0 0 * * *', duration: '1h' }, '0.reason', /one line/],
    ['long reason', { ...base, reason: 'r'.repeat(501), cron: '0 0 * * *', duration: '1h' }, '0.reason', /longer than 500/],
    ['empty services', { ...base, services: [], cron: '0 0 * * *', duration: '1h' }, '0.services', /leave the field out to freeze every service/],
    ['duplicate service', { ...base, services: ['a', 'a'], cron: '0 0 * * *', duration: '1h' }, '0.services.1', /listed twice/],
    ['bad service name', { ...base, services: ['Checkout'], cron: '0 0 * * *', duration: '1h' }, '0.services.0', /service name/],
    ['unknown field', { ...base, cron: '0 0 * * *', duration: '1h', until: 'x' }, '0', /until/],
  ];
  for (const [what, input, path, message] of cases) {
    test(what, () => {
      const found = issuesOf([input]);
      assert.ok(
        found.some(([p, m]) => p === path && message.test(m)),
        `want ${path} ~ ${message}; got ${JSON.stringify(found)}`,
      );
    });
  }

  test('duplicate window names and more than 100 windows', () => {
    const w = { ...base, cron: '0 0 * * *', duration: '1h' };
    assert.deepEqual(issuesOf([w, w]), [['1.name', 'freeze window name "year-end" is used twice; names must be unique']]);
    const many = Array.from({ length: 101 }, (_, i) => ({ ...w, name: `w${i}` }));
    assert.match(issuesOf(many)[0]?.[1] ?? '', /at most 100 freeze windows/);
  });

  test('parseFreezeWindows throws DomainError naming every field', () => {
    assert.throws(
      () => parseFreezeWindows([{ ...base, cron: '0 16 * *', duration: '8d' }], 'environments[2].freezes'),
      (e: unknown) => {
        assert.ok(e instanceof DomainError);
        assert.equal(e.code, 'invalid_input');
        assert.equal(e.details.field, 'environments[2].freezes[0].cron');
        assert.match(e.message, /environments\[2\]\.freezes\[0\]\.cron: cron "0 16 \* \*" has 4 fields/);
        assert.match(e.message, /environments\[2\]\.freezes\[0\]\.duration: duration "8d" is longer than 7 days/);
        assert.match(e.details.fix ?? '', /docs\/freeze-windows\.md/);
        return true;
      },
    );
    assert.deepEqual(parseFreezeWindows([]), []);
  });

  test('freezeWindowFields lists the allowed fields', () => {
    assert.deepEqual([...freezeWindowFields].sort(), ['cron', 'duration', 'end', 'name', 'reason', 'services', 'start', 'timezone']);
  });
});

describe('field parsers', () => {
  test('parseInstant: Z, offsets, fractions, leap days', () => {
    assert.deepEqual(parseInstant('start', '2024-02-29T12:00:00Z'), { ms: Date.UTC(2024, 1, 29, 12), zone: '+00:00' });
    assert.deepEqual(parseInstant('start', '2024-02-29T12:00-05:30'), { ms: Date.UTC(2024, 1, 29, 17, 30), zone: '-05:30' });
    assert.deepEqual(parseInstant('start', '2024-02-29T12:00:00.25+14:00'), { ms: Date.UTC(2024, 1, 28, 22, 0, 0, 250), zone: '+14:00' });
    assert.match(String(parseInstant('start', '2025-02-29T12:00:00Z')), /not a real date/);
    assert.match(String(parseInstant('end', '1969-12-31T23:59:59Z')), /end .* year outside 1970-9000/);
    assert.match(String(parseInstant('start', '2025-01-01T00:60:00Z')), /not a real date/);
  });

  test('parseInstant agrees with Date.parse on every valid instant', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-02T00:00:00Z'), max: new Date('8999-12-30T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (d, offsetMin) => {
          const local = new Date(d.getTime() + offsetMin * 60_000);
          const abs = Math.abs(offsetMin);
          const off = `${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const text = `${local.toISOString().slice(0, 23)}${off}`;
          const r = parseInstant('start', text);
          assert.deepEqual(r, { ms: d.getTime(), zone: off });
          assert.equal(Date.parse(text), d.getTime());
        },
      ),
    );
  });

  test('parseFreezeDuration', () => {
    assert.equal(parseFreezeDuration('30m'), 30 * 60_000);
    assert.equal(parseFreezeDuration('2h'), 2 * H);
    assert.equal(parseFreezeDuration('1d'), D);
    assert.equal(parseFreezeDuration('1h30m'), 1.5 * H);
    assert.equal(parseFreezeDuration('1m30s'), 90_000);
    assert.equal(parseFreezeDuration('168h'), 7 * D);
    assert.equal(parseFreezeDuration('10080m'), 7 * D);
    for (const bad of ['', 'h', '1', '1w', '1H', '2h1d', ' 1h', '1h ', '-1h', '1.5h']) assert.equal(typeof parseFreezeDuration(bad), 'string', bad);
    assert.match(String(parseFreezeDuration('0m')), /shorter than 1 minute/);
    assert.match(String(parseFreezeDuration('169h')), /longer than 7 days/);
  });

  test('parseFreezeDuration: sum of parts, bounded to [1m, 7d]', () => {
    fc.assert(
      fc.property(fc.nat(9), fc.nat(200), fc.nat(20_000), (d, h, m) => {
        const text = `${d}d${h}h${m}m`;
        const ms = (d * 24 * 60 + h * 60 + m) * 60_000;
        const r = parseFreezeDuration(text);
        if (ms < freezeLimits.minDurationMs || ms > freezeLimits.maxDurationMs) assert.equal(typeof r, 'string');
        else assert.equal(r, ms);
      }),
    );
  });

  test('parseTimezone', () => {
    assert.equal(parseTimezone('Europe/Berlin'), 'Europe/Berlin');
    assert.equal(parseTimezone('utc'), 'UTC');
    assert.equal(parseTimezone('America/Port-au-Prince'), 'America/Port-au-Prince');
    assert.equal(parseTimezone('Etc/GMT+5'), 'Etc/GMT+5');
    for (const bad of ['', 'Europe/Nowhere', '+01:00', 'Europe/../etc', 'x'.repeat(70)]) assert.equal(typeof parseTimezone(bad), 'object', bad);
  });

  test('parseCron: names, ranges, lists, steps and croner extensions', () => {
    for (const ok of ['0 16 * * FRI', '*/15 9-17 * * MON-FRI', '0 0 1,15 * *', '0 0 L * *', '0 0 * * 5#2', '30 2 29 2 *', '0 0 * JAN-MAR SUN']) {
      assert.equal(parseCron(ok), ok);
    }
  });
});

describe('JSON Schema (what the published schema of the project file will contain)', () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(z.toJSONSchema(freezeWindowsSchema, { target: 'draft-2020-12', io: 'input' }));
  test('accepts both forms and refuses mixed or missing schedules, bad durations, bad instants', () => {
    assert.equal(validate([{ ...base, start: '2025-12-20T00:00:00+01:00', end: '2026-01-02T00:00:00Z' }]), true, JSON.stringify(validate.errors));
    assert.equal(validate([{ ...base, services: ['a'], cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' }]), true);
    for (const bad of [
      { ...base },
      { ...base, start: '2025-12-20T00:00:00Z', end: '2026-01-02T00:00:00Z', cron: '0 0 * * *', duration: '1h' },
      { ...base, start: '2025-12-20T00:00:00Z', end: '2026-01-02T00:00:00Z', timezone: 'UTC' },
      { ...base, start: '2025-12-20T00:00:00Z' },
      { ...base, start: '2025-12-20T00:00:00', end: '2026-01-02T00:00:00Z' },
      { ...base, cron: '0 0 * * *', duration: '2h1d' },
      { ...base, cron: '0 0 * * *', duration: '' },
      { ...base, cron: '0 0 * *', duration: '1h' },
      { ...base, cron: '0 0 * * *', duration: '1h', extra: true },
    ]) {
      assert.equal(validate([bad]), false, JSON.stringify(bad));
    }
  });
});

describe('property: parsing never throws anything but zod issues or DomainError', () => {
  const str = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('0 16 * * FRI', '*/5 * * * *', '0 0 31 2 *', '61 * * * *', '@weekly', '0 0 L W *', '1-2/0 * * * *', '0 0 * * 7#6'),
    fc.constantFrom('1h', '7d', '0m', '8d', '2h30m', '999d', '1d24h'),
    fc.constantFrom('2025-12-20T00:00:00+01:00', '2025-12-20T00:00:00Z', '2025-02-29T00:00:00Z', '9999-12-31T23:59:59Z'),
    fc.constantFrom('Europe/Berlin', 'UTC', 'Nope/Nope', 'Etc/GMT+14'),
  );
  const nearWindow = fc.record(
    {
      name: fc.oneof(fc.constantFrom('a', 'b', 'weekend'), fc.string({ maxLength: 70 })),
      reason: fc.oneof(fc.constant('why'), fc.string({ maxLength: 20 })),
      services: fc.oneof(fc.array(fc.constantFrom('a', 'b', 'A'), { maxLength: 3 }), fc.anything()),
      start: str,
      end: str,
      cron: str,
      duration: str,
      timezone: str,
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  );
  test('safeParse never throws; parseFreezeWindows throws only DomainError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.array(nearWindow, { maxLength: 4 })), (input) => {
        const r = freezeWindowsSchema.safeParse(input);
        if (r.success) {
          for (const w of r.data) {
            assert.match(w.name, /^[a-z][a-z0-9-]{0,62}$/);
            if (w.schedule.kind === 'one-off') assert.ok(w.schedule.end > w.schedule.start && w.schedule.end - w.schedule.start <= 366 * D);
            else assert.ok(w.schedule.durationMs >= 60_000 && w.schedule.durationMs <= 7 * D);
          }
        }
        try {
          parseFreezeWindows(input);
        } catch (e) {
          assert.ok(e instanceof DomainError, String(e));
          assert.ok(e.message.length < 10_000);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
