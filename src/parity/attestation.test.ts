import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AttestationDeps, createAttestation, type Timers } from './attestation.ts';
import type { DriftReport } from './drift.ts';
import { createEventBus } from './events.ts';

function fakeTimers() {
  const pending: { fn: () => void; ms: number; id: number }[] = [];
  let n = 0;
  const timers: Timers = {
    setTimeout(fn, ms) {
      const t = { fn, ms, id: ++n };
      pending.push(t);
      return t.id;
    },
    clearTimeout(h) {
      const i = pending.findIndex((t) => t.id === h);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return { timers, pending, fire: () => pending.shift()?.fn() };
}

const settle = () => new Promise((r) => setImmediate(r));

function setup() {
  const records: { action: string; subject: string; details: Record<string, unknown> }[] = [];
  const t = fakeTimers();
  const events = createEventBus({ maxSubscribers: 2, clock: () => new Date(0) });
  const emitted: string[] = [];
  const bus = {
    emit: (type: string, data: Record<string, never>) => {
      emitted.push(type);
      return events.emit(type, data);
    },
  };
  let drift: DriftReport = { environment: 'dev', generatedAt: '', servicesChecked: 1, findings: [] };
  const deps = {
    project: { environments: [{ name: 'dev' }, { name: 'prod' }] },
    store: { transaction: async (fn: (tx: unknown) => Promise<unknown>) => fn({}) },
    clock: () => new Date('2026-11-26T12:00:00Z'),
    check: async (env: string) => ({ drift: env === 'dev' ? drift : undefined, integrity: { checked: 1, findings: [] } }),
    audit: { record: async (_tx: unknown, _ctx: unknown, r: { action: string; subject: string; details?: Record<string, unknown> }) => void records.push({ action: r.action, subject: r.subject, details: r.details ?? {} }) },
    logger: { warn() {}, error() {} },
    events: bus,
    timers: t.timers,
    intervalMs: 60_000,
  } as unknown as AttestationDeps;
  return { a: createAttestation(deps), t, records, emitted, setDrift: (d: DriftReport) => (drift = d) };
}

describe('continuous attestation', () => {
  test('runs at start, then on its interval; stop cancels the next run', async () => {
    const { a, t } = setup();
    a.start();
    await settle();
    assert.equal(a.latest().length, 2);
    assert.equal(t.pending.length, 1);
    assert.equal(t.pending[0]?.ms, 60_000);
    t.fire();
    await settle();
    assert.equal(t.pending.length, 1, 'rescheduled after the run');
    await a.stop();
    assert.equal(t.pending.length, 0);
  });

  test('a finding is audited and emitted once; unchanged findings are not repeated; clearing is recorded', async () => {
    const { a, records, emitted, setDrift } = setup();
    await a.runOnce();
    assert.equal(records.length, 0, 'a clean start writes nothing');
    setDrift({ environment: 'dev', generatedAt: '', servicesChecked: 1, findings: [{ path: '/checkout/release/digests/a.js', kind: 'digest', declared: 'sha256:a', observed: 'sha256:b', message: 'a.js differs' }] });
    await a.runOnce();
    await a.runOnce();
    assert.deepEqual(records.map((r) => `${r.action} ${r.subject}`), ['attestation.finding Environment:dev']);
    assert.deepEqual((records[0]!.details['drift'] as unknown[])[0], { path: '/checkout/release/digests/a.js', kind: 'digest', message: 'a.js differs' });
    assert.equal(a.latest().find((r) => r.environment === 'dev')?.status, 'findings');
    assert.equal(a.latest().find((r) => r.environment === 'prod')?.drift.observable, false);
    setDrift({ environment: 'dev', generatedAt: '', servicesChecked: 1, findings: [] });
    await a.runOnce();
    assert.deepEqual(emitted, ['attestation.finding', 'attestation.cleared']);
  });

  test('an observation error is an error state and a finding', async () => {
    const { a, records, setDrift } = setup();
    setDrift({ environment: 'dev', generatedAt: '', servicesChecked: 0, error: 'observe timed out', findings: [] });
    const [dev] = await a.runOnce();
    assert.equal(dev?.status, 'error');
    assert.equal(records[0]?.details['driftError'], 'observe timed out');
  });

  test('the event bus is bounded and ends its streams on close', async () => {
    const bus = createEventBus({ maxSubscribers: 1, clock: () => new Date(0) });
    const ac = new AbortController();
    const it = bus.subscribe(ac.signal)[Symbol.asyncIterator]();
    assert.throws(() => bus.subscribe(new AbortController().signal), /too many event subscribers \(at most 1\)/);
    bus.emit('x', { n: 1 });
    assert.equal((await it.next()).value?.type, 'x');
    const next = it.next();
    bus.close();
    assert.equal((await next).done, true);
  });
});
