import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { freezeWindowsSchema, parseCron, withEnvironment } from './freeze-schema.ts';
import type { FreezeWindow } from './freeze-schema.ts';
import {
  activeFreezes,
  describeFreeze,
  formatFreeze,
  formatFreezeTable,
  freezeFacts,
  isoInZone,
  isoUtc,
  upcomingFreezes,
} from './freeze.ts';
import type { FreezeOccurrence } from './freeze.ts';

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const t = (iso: string): Date => new Date(iso);
const windows = (input: unknown[]): FreezeWindow[] => freezeWindowsSchema.parse(input);
const span = (o: FreezeOccurrence | undefined): [string, string] | undefined => (o ? [isoUtc(o.from), isoUtc(o.until)] : undefined);
const activeNames = (ws: FreezeWindow[], at: string, service = 'checkout'): string[] =>
  activeFreezes(ws, { service, at: t(at) }).map((o) => o.name);

describe('activeFreezes: one-off windows', () => {
  const ws = windows([{ name: 'year-end', reason: 'holidays', start: '2025-12-20T00:00:00+01:00', end: '2026-01-02T00:00:00+01:00' }]);
  test('start is inclusive, end exclusive', () => {
    assert.deepEqual(activeNames(ws, '2025-12-19T22:59:59.999Z'), []);
    assert.deepEqual(activeNames(ws, '2025-12-19T23:00:00Z'), ['year-end']);
    assert.deepEqual(activeNames(ws, '2026-01-01T22:59:59.999Z'), ['year-end']);
    assert.deepEqual(activeNames(ws, '2026-01-01T23:00:00Z'), []);
  });
  test('reports name, reason, services, span and the zone of the written offset', () => {
    assert.deepEqual(activeFreezes(ws, { service: 'x', at: t('2025-12-25T12:00:00Z') }), [
      { name: 'year-end', reason: 'holidays', services: 'all', from: t('2025-12-19T23:00:00Z'), until: t('2026-01-01T23:00:00Z'), timezone: '+01:00' },
    ]);
  });
});

describe('activeFreezes: services, environments, several windows', () => {
  const ws = [
    ...withEnvironment(
      'prod',
      windows([
        { name: 'payments-audit', reason: 'PCI audit', services: ['payments'], start: '2025-06-01T00:00:00Z', end: '2025-06-08T00:00:00Z' },
        { name: 'june', reason: 'migration', start: '2025-06-05T00:00:00Z', end: '2025-06-06T00:00:00Z' },
      ]),
    ),
    ...withEnvironment('staging', windows([{ name: 'staging-rebuild', reason: 'rebuild', start: '2025-06-01T00:00:00Z', end: '2025-06-30T00:00:00Z' }])),
  ];
  test('a window with services freezes only those services', () => {
    assert.deepEqual(activeFreezes(ws, { service: 'payments', at: t('2025-06-02T00:00:00Z'), environment: 'prod' }).map((o) => o.name), ['payments-audit']);
    assert.deepEqual(activeFreezes(ws, { service: 'checkout', at: t('2025-06-02T00:00:00Z'), environment: 'prod' }), []);
  });
  test('any matching window wins; both are reported, sorted by start', () => {
    const active = activeFreezes(ws, { service: 'payments', at: t('2025-06-05T12:00:00Z'), environment: 'prod' });
    assert.deepEqual(active.map((o) => [o.name, o.environment, o.services]), [
      ['payments-audit', 'prod', ['payments']],
      ['june', 'prod', 'all'],
    ]);
    assert.deepEqual(freezeFacts(ws, { service: 'payments', at: t('2025-06-05T12:00:00Z'), environment: 'prod' }), { active: true, windows: ['june', 'payments-audit'] });
  });
  test('windows of another environment do not count', () => {
    assert.deepEqual(freezeFacts(ws, { service: 'checkout', at: t('2025-06-20T00:00:00Z'), environment: 'prod' }), { active: false, windows: [] });
    assert.deepEqual(freezeFacts(ws, { service: 'checkout', at: t('2025-06-20T00:00:00Z'), environment: 'staging' }), { active: true, windows: ['staging-rebuild'] });
  });
});

describe('activeFreezes: recurring windows', () => {
  test('02:30 Europe/Berlin on the spring-forward day starts at 03:00 CEST (the first valid time after the gap)', () => {
    const ws = windows([{ name: 'nightly', reason: 'backups', cron: '30 2 * * *', duration: '1h', timezone: 'Europe/Berlin' }]);
    // the day before: 02:30 CET = 01:30Z
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-03-29T01:30:00Z') })[0]), ['2025-03-29T01:30:00Z', '2025-03-29T02:30:00Z']);
    // 2025-03-30: clocks jump from 02:00 CET to 03:00 CEST; 02:30 does not exist
    assert.deepEqual(activeNames(ws, '2025-03-30T00:59:59Z'), []);
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-03-30T01:00:00Z') })[0]), ['2025-03-30T01:00:00Z', '2025-03-30T02:00:00Z']);
    assert.deepEqual(activeNames(ws, '2025-03-30T01:59:59.999Z'), ['nightly']);
    assert.deepEqual(activeNames(ws, '2025-03-30T02:00:00Z'), []);
    // the day after: 02:30 CEST = 00:30Z
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-03-31T00:30:00Z') })[0]), ['2025-03-31T00:30:00Z', '2025-03-31T01:30:00Z']);
    const [o] = activeFreezes(ws, { service: 's', at: t('2025-03-30T01:30:00Z') });
    assert.equal(o && formatFreeze(o).fromLocal, '2025-03-30T03:00:00+02:00');
  });

  test('Friday 16:00 Europe/Berlin for 64h: elapsed time, so across the autumn change it ends at 07:00 CET', () => {
    const ws = windows([{ name: 'weekend', reason: 'no weekend deploys', cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' }]);
    // an ordinary week: Fri 16:00 CEST .. Mon 08:00 CEST
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-10-19T12:00:00Z') })[0]), ['2025-10-17T14:00:00Z', '2025-10-20T06:00:00Z']);
    // clocks go back on Sunday 2025-10-26 03:00 CEST -> 02:00 CET
    const [o] = activeFreezes(ws, { service: 's', at: t('2025-10-26T12:00:00Z') });
    assert.deepEqual(span(o), ['2025-10-24T14:00:00Z', '2025-10-27T06:00:00Z']);
    assert.ok(o);
    assert.deepEqual([formatFreeze(o).fromLocal, formatFreeze(o).untilLocal], ['2025-10-24T16:00:00+02:00', '2025-10-27T07:00:00+01:00']);
    assert.deepEqual(activeNames(ws, '2025-10-24T13:59:59.999Z'), []);
    assert.deepEqual(activeNames(ws, '2025-10-24T14:00:00Z'), ['weekend']);
    assert.deepEqual(activeNames(ws, '2025-10-27T05:59:59.999Z'), ['weekend']);
    assert.deepEqual(activeNames(ws, '2025-10-27T06:00:00Z'), []);
    // the next week starts at 16:00 CET = 15:00Z
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-10-31T15:00:00Z') })[0]), ['2025-10-31T15:00:00Z', '2025-11-03T07:00:00Z']);
  });

  test('a fixed time that occurs twice in autumn starts once, at its first occurrence', () => {
    const ws = windows([{ name: 'n', reason: 'r', cron: '30 2 * * *', duration: '30m', timezone: 'Europe/Berlin' }]);
    const { occurrences } = upcomingFreezes(ws, { from: t('2025-10-25T12:00:00Z'), horizonMs: 2 * D });
    assert.deepEqual(occurrences.map(span), [
      ['2025-10-26T00:30:00Z', '2025-10-26T01:00:00Z'],
      ['2025-10-27T01:30:00Z', '2025-10-27T02:00:00Z'],
    ]);
  });

  test('a window that started long ago is active while its duration lasts', () => {
    const ws = windows([{ name: 'month-start', reason: 'closing the books', cron: '0 0 1 * *', duration: '7d', timezone: 'America/New_York' }]);
    // 2025-03-01 00:00 EST = 05:00Z; DST starts 2025-03-09, after the 7 days end (2025-03-08T05:00Z)
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-03-08T04:59:59Z') })[0]), ['2025-03-01T05:00:00Z', '2025-03-08T05:00:00Z']);
    assert.deepEqual(activeNames(ws, '2025-03-08T05:00:00Z'), []);
    assert.deepEqual(activeNames(ws, '2025-03-31T12:00:00Z'), []);
  });

  test('overlapping occurrences: the window stays active and until is the end of the latest start', () => {
    const ws = windows([{ name: 'hourly', reason: 'r', cron: '0 * * * *', duration: '2h' }]);
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-05-05T10:30:00Z') })[0]), ['2025-05-05T10:00:00Z', '2025-05-05T12:00:00Z']);
    assert.deepEqual(activeFreezes(ws, { service: 's', at: t('2025-05-05T10:30:00Z') }).length, 1);
  });

  test('a start exactly at `at` counts (sub-second times too)', () => {
    const ws = windows([{ name: 'n', reason: 'r', cron: '15 10 * * *', duration: '1m' }]);
    assert.deepEqual(activeNames(ws, '2025-05-05T10:14:59.999Z'), []);
    assert.deepEqual(activeNames(ws, '2025-05-05T10:15:00.000Z'), ['n']);
    assert.deepEqual(activeNames(ws, '2025-05-05T10:15:59.999Z'), ['n']);
    assert.deepEqual(activeNames(ws, '2025-05-05T10:16:00.000Z'), []);
  });

  test('day of month and day of week both restricted: either matches (Vixie cron)', () => {
    const ws = windows([{ name: 'friday-or-13th', reason: 'r', cron: '0 0 13 * FRI', duration: '1h' }]);
    assert.deepEqual(activeNames(ws, '2025-10-13T00:30:00Z'), ['friday-or-13th']); // a Monday the 13th
    assert.deepEqual(activeNames(ws, '2025-10-17T00:30:00Z'), ['friday-or-13th']); // a Friday the 17th
    assert.deepEqual(activeNames(ws, '2025-10-14T00:30:00Z'), []);
  });

  test('a zone without DST and a half-hour offset', () => {
    const ws = windows([{ name: 'w', reason: 'r', cron: '0 9 * * MON-FRI', duration: '8h', timezone: 'Asia/Kolkata' }]);
    assert.deepEqual(span(activeFreezes(ws, { service: 's', at: t('2025-07-01T05:00:00Z') })[0]), ['2025-07-01T03:30:00Z', '2025-07-01T11:30:00Z']);
  });

  test('results do not depend on the process time zone (croner and Intl evaluate in the window zone)', () => {
    const script = [
      "import { freezeWindowsSchema } from './src/policy/freeze-schema.ts';",
      "import { activeFreezes, upcomingFreezes } from './src/policy/freeze.ts';",
      "const ws = freezeWindowsSchema.parse([{ name: 'weekend', reason: 'r', cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' }, { name: 'n', reason: 'r', cron: '30 2 * * *', duration: '1h', timezone: 'Europe/Berlin' }]);",
      "const a = activeFreezes(ws, { service: 's', at: new Date('2025-10-26T12:00:00Z') });",
      "const u = upcomingFreezes(ws, { from: new Date('2025-03-28T00:00:00Z'), horizonMs: 4 * 86400000 });",
      'console.log(JSON.stringify([a, u]));',
    ].join('\n');
    const outputs = ['UTC', 'Pacific/Chatham', 'America/Los_Angeles'].map((tz) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, TZ: tz },
        encoding: 'utf8',
      }),
    );
    assert.match(outputs[0] ?? '', /"from":"2025-10-24T14:00:00.000Z","until":"2025-10-27T06:00:00.000Z"/);
    assert.match(outputs[0] ?? '', /"from":"2025-03-30T01:00:00.000Z","until":"2025-03-30T02:00:00.000Z"/);
    assert.equal(outputs[1], outputs[0]);
    assert.equal(outputs[2], outputs[0]);
  });

  test('refuses an invalid time', () => {
    assert.throws(() => activeFreezes([], { service: 's', at: new Date(Number.NaN) }), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input');
    assert.throws(() => activeFreezes([], { service: 's', at: t('1960-01-01T00:00:00Z') }), DomainError);
  });
});

describe('upcomingFreezes', () => {
  const ws = [
    ...withEnvironment(
      'prod',
      windows([
        { name: 'weekend', reason: 'no weekend deploys', cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' },
        { name: 'payments-audit', reason: 'PCI audit', services: ['payments'], start: '2025-10-20T09:00:00+02:00', end: '2025-10-21T17:00:00+02:00' },
      ]),
    ),
    ...withEnvironment('staging', windows([{ name: 'nightly', reason: 'rebuild', cron: '0 1 * * *', duration: '2h', timezone: 'UTC' }])),
  ];

  test('lists occurrences overlapping the horizon, sorted, including one that started before it', () => {
    const r = upcomingFreezes(ws, { from: t('2025-10-19T12:00:00Z'), horizonMs: 7 * D, environment: 'prod' });
    assert.equal(r.truncated, false);
    assert.deepEqual(
      r.occurrences.map((o) => [o.name, o.environment, ...(span(o) ?? [])]),
      [
        ['weekend', 'prod', '2025-10-17T14:00:00Z', '2025-10-20T06:00:00Z'],
        ['payments-audit', 'prod', '2025-10-20T07:00:00Z', '2025-10-21T15:00:00Z'],
        ['weekend', 'prod', '2025-10-24T14:00:00Z', '2025-10-27T06:00:00Z'],
      ],
    );
  });

  test('service filter drops windows for other services; environment filter drops other environments', () => {
    const r = upcomingFreezes(ws, { from: t('2025-10-19T12:00:00Z'), horizonMs: 7 * D, environment: 'prod', service: 'checkout' });
    assert.deepEqual(r.occurrences.map((o) => o.name), ['weekend', 'weekend']);
    const all = upcomingFreezes(ws, { from: t('2025-10-19T12:00:00Z'), horizonMs: 2 * D });
    assert.deepEqual(all.occurrences.map((o) => `${o.environment}/${o.name}`), ['prod/weekend', 'staging/nightly', 'prod/payments-audit', 'staging/nightly']);
  });

  test('horizon 0 lists exactly what is active at from', () => {
    for (const at of ['2025-10-19T12:00:00Z', '2025-10-20T08:00:00Z', '2025-10-22T01:30:00Z', '2025-10-22T03:00:00Z']) {
      const r = upcomingFreezes(ws, { from: t(at), horizonMs: 0 });
      assert.deepEqual(r.occurrences, activeFreezes(ws, { service: 'payments', at: t(at) }), at);
    }
  });

  test('bounded: at most 200 occurrences, truncated reported', () => {
    const dense = windows([{ name: 'every-minute', reason: 'r', cron: '* * * * *', duration: '1m' }]);
    const r = upcomingFreezes(dense, { from: t('2025-01-01T00:00:00Z'), horizonMs: 7 * D });
    assert.equal(r.occurrences.length, 200);
    assert.equal(r.truncated, true);
    assert.deepEqual(span(r.occurrences[199]), ['2025-01-01T03:19:00Z', '2025-01-01T03:20:00Z']);
    const exact = upcomingFreezes(dense, { from: t('2025-01-01T00:00:30Z'), horizonMs: 9 * MIN, limit: 10 });
    assert.deepEqual([exact.occurrences.length, exact.truncated], [10, false]);
    const cut = upcomingFreezes(dense, { from: t('2025-01-01T00:00:30Z'), horizonMs: 10 * MIN, limit: 10 });
    assert.deepEqual([cut.occurrences.length, cut.truncated], [10, true]);
  });

  test('refuses unbounded or invalid queries', () => {
    for (const q of [
      { from: t('2025-01-01T00:00:00Z'), horizonMs: 367 * D },
      { from: t('2025-01-01T00:00:00Z'), horizonMs: -1 },
      { from: t('2025-01-01T00:00:00Z'), horizonMs: Number.NaN },
      { from: t('2025-01-01T00:00:00Z'), horizonMs: D, limit: 201 },
      { from: t('2025-01-01T00:00:00Z'), horizonMs: D, limit: 0 },
      { from: new Date(Number.NaN), horizonMs: D },
    ]) {
      assert.throws(() => upcomingFreezes(ws, q), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input', JSON.stringify(q));
    }
  });
});

describe('rendering', () => {
  test('isoInZone: IANA zones across DST, fixed offsets, negative and half-hour offsets', () => {
    assert.equal(isoInZone(t('2025-07-01T12:00:00Z'), 'Europe/Berlin'), '2025-07-01T14:00:00+02:00');
    assert.equal(isoInZone(t('2025-01-01T12:00:00Z'), 'Europe/Berlin'), '2025-01-01T13:00:00+01:00');
    assert.equal(isoInZone(t('2025-01-01T12:00:00Z'), 'UTC'), '2025-01-01T12:00:00+00:00');
    assert.equal(isoInZone(t('2025-01-01T12:00:00Z'), 'America/St_Johns'), '2025-01-01T08:30:00-03:30');
    assert.equal(isoInZone(t('2025-01-01T00:00:00Z'), 'America/Los_Angeles'), '2024-12-31T16:00:00-08:00');
    assert.equal(isoInZone(t('2025-01-01T12:00:00.999Z'), '-05:30'), '2025-01-01T06:30:00-05:30');
    assert.equal(isoInZone(t('2025-01-01T12:00:00Z'), '+14:00'), '2025-01-02T02:00:00+14:00');
  });

  test('isoInZone round-trips through Date.parse for every zone offset Intl knows', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'UTC', '+05:45', '-09:30'),
        (d, zone) => {
          const text = isoInZone(d, zone);
          assert.equal(Date.parse(text), Math.floor(d.getTime() / 1000) * 1000, `${zone} ${text}`);
        },
      ),
    );
  });

  test('formatFreeze and the table', () => {
    const ws = withEnvironment('prod', windows([{ name: 'weekend', reason: 'no weekend deploys', services: ['checkout', 'cart'], cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' }]));
    // from = the end of the previous weekend's occurrence, which is therefore not listed
    const { occurrences, truncated } = upcomingFreezes(ws, { from: t('2025-10-20T06:00:00Z'), horizonMs: 7 * D });
    const [o] = occurrences;
    assert.ok(o);
    assert.deepEqual(formatFreeze(o), {
      name: 'weekend',
      environment: 'prod',
      services: 'checkout,cart',
      from: '2025-10-24T14:00:00Z',
      until: '2025-10-27T06:00:00Z',
      fromLocal: '2025-10-24T16:00:00+02:00',
      untilLocal: '2025-10-27T07:00:00+01:00',
      timezone: 'Europe/Berlin',
      reason: 'no weekend deploys',
    });
    const lines = formatFreezeTable(occurrences, truncated);
    assert.match(lines[0] ?? '', /^NAME\s+ENVIRONMENT\s+SERVICES\s+FROM \(UTC\)\s+UNTIL \(UTC\)\s+LOCAL \(WINDOW ZONE\)\s+REASON$/);
    assert.equal(
      lines[1],
      'weekend  prod         checkout,cart  2025-10-24T14:00:00Z  2025-10-27T06:00:00Z  2025-10-24T16:00:00+02:00 → 2025-10-27T07:00:00+01:00 Europe/Berlin  no weekend deploys',
    );
    assert.deepEqual(formatFreezeTable([]), ['no freeze windows in this period']);
    assert.match(formatFreezeTable(occurrences, true).at(-1) ?? '', /only the first 1 occurrences are shown/);
  });

  test('describeFreeze names windows, reasons, the end and break-glass', () => {
    const ws = windows([
      { name: 'a', reason: 'audit', start: '2025-06-01T00:00:00Z', end: '2025-06-03T00:00:00Z' },
      { name: 'b', reason: 'migration', start: '2025-06-02T00:00:00Z', end: '2025-06-04T00:00:00Z' },
    ]);
    const msg = describeFreeze(activeFreezes(ws, { service: 's', at: t('2025-06-02T12:00:00Z') }), 'prod');
    assert.equal(
      msg,
      'environment prod is frozen by windows "a" (audit) until 2025-06-03T00:00:00Z, "b" (migration) until 2025-06-04T00:00:00Z; the promotion waits until 2025-06-04T00:00:00Z (or a later window), or use break-glass to skip the freeze',
    );
    assert.equal(describeFreeze([], 'prod'), undefined);
  });
});

describe('property: activeFreezes agrees with the occurrences upcomingFreezes lists from a week earlier', () => {
  // Cron patterns of at most 2 x 6 starts a day (plus DST repeats), so a two-week listing stays under the 200 bound.
  const minute = fc.oneof(fc.integer({ min: 0, max: 59 }).map(String), fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 2, maxLength: 2 }).map((a) => a.join(',')));
  const hour = fc.oneof(
    fc.integer({ min: 0, max: 23 }).map(String),
    fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 2, maxLength: 3 }).map((a) => a.join(',')),
    fc.integer({ min: 0, max: 20 }).chain((a) => fc.integer({ min: a, max: Math.min(23, a + 3) }).map((b) => `${a}-${b}`)),
    fc.constantFrom('*/6', '*/12', '1-23/4'),
  );
  const dom = fc.oneof(fc.constant('*'), fc.integer({ min: 1, max: 31 }).map(String), fc.constantFrom('1-7', 'L', '15,28'));
  const month = fc.oneof(fc.constant('*'), fc.integer({ min: 1, max: 12 }).map(String), fc.constantFrom('3,10', 'MAR-NOV'));
  const dow = fc.oneof(fc.constant('*'), fc.integer({ min: 0, max: 6 }).map(String), fc.constantFrom('MON-FRI', 'SAT,SUN', 'FRI'));
  const zones = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham');
  const duration = fc.oneof(
    fc.integer({ min: 1, max: 10_080 }).map((m) => `${m}m`),
    fc.constantFrom('1m', '30m', '1h', '2h', '1h30m', '1d', '64h', '7d'),
  );
  // (patterns such as "0 0 31 2 *" never match and are refused at parse time, so they are left out)
  const cron = fc.tuple(minute, hour, dom, month, dow).map((p) => p.join(' ')).filter((c) => typeof parseCron(c) === 'string');
  const recurring = fc.record({ cron, duration, timezone: zones });
  const instant = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2027, 0, 1) });
  const oneOff = fc.tuple(instant, fc.integer({ min: 1, max: 40 * D })).map(([s, len]) => ({ start: new Date(s).toISOString(), end: new Date(s + len).toISOString() }));
  const windowList = fc.array(fc.oneof(recurring, oneOff), { minLength: 1, maxLength: 4 }).map((list) =>
    windows(list.map((w, i) => ({ name: `w${i}`, reason: 'r', ...(i % 2 ? { services: ['checkout'] } : {}), ...w }))),
  );
  // times near DST changes in the generated zones, and anywhere in 2024-2026
  const changes = ['2025-03-09T07:00:00Z', '2025-03-30T01:00:00Z', '2025-10-26T01:00:00Z', '2025-11-02T06:00:00Z', '2025-04-05T15:00:00Z', '2025-09-27T14:00:00Z'].map(Date.parse);
  const at = fc.oneof(
    instant,
    fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -3 * D, max: 3 * D })).map(([c, dt]) => c + dt),
    fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -120, max: 120 })).map(([c, m]) => c + m * MIN),
  );

  test('for every window and time', () => {
    fc.assert(
      fc.property(windowList, at, fc.constantFrom('checkout', 'cart'), (ws, atMs, service) => {
        const atDate = new Date(atMs);
        const active = activeFreezes(ws, { service, at: atDate });
        for (const w of ws) {
          const listed = upcomingFreezes([w], { service, from: new Date(atMs - 7 * D), horizonMs: 7 * D });
          assert.equal(listed.truncated, false);
          const covering = listed.occurrences.filter((o) => o.from.getTime() <= atMs && atMs < o.until.getTime());
          const mine = active.filter((o) => o.name === w.name);
          if (covering.length === 0) assert.deepEqual(mine, [], `${w.name} active but no listed occurrence covers it`);
          else assert.deepEqual(mine, [covering.reduce((a, b) => (b.until > a.until ? b : a))]);
        }
        assert.deepEqual(freezeFacts(ws, { service, at: atDate }), { active: active.length > 0, windows: active.map((o) => o.name).sort() });
        // horizon 0 lists every occurrence covering `at`; per window, the one ending last is the active one
        const now = upcomingFreezes(ws, { service, from: atDate, horizonMs: 0 }).occurrences;
        const latest = new Map<string, FreezeOccurrence>();
        for (const o of now) if (!latest.has(o.name) || o.until > latest.get(o.name)!.until) latest.set(o.name, o);
        assert.deepEqual(
          [...latest.values()].sort((a, b) => a.from.getTime() - b.from.getTime() || a.name.localeCompare(b.name)),
          active,
        );
      }),
      { numRuns: 300 },
    );
  });
});
