/** Signature checks: a changed body, a wrong secret, an old or future timestamp, missing headers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signRequest, verifySignature } from './sign.ts';

const SECRET = 'test-shared-secret-0123456789';

test('a changed body, a wrong secret, an old or future timestamp and missing headers fail', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const body = '{"a":1}';
  const h = signRequest(SECRET, body, { now, deliveryId: 'x' });
  assert.equal(verifySignature(SECRET, h, body, { now }).ok, true);
  const bad = [
    verifySignature(SECRET, h, '{"a":2}', { now }),
    verifySignature('another-secret-0123456789', h, body, { now }),
    verifySignature(SECRET, h, body, { now: new Date(now.getTime() + 6 * 60_000) }),
    verifySignature(SECRET, h, body, { now: new Date(now.getTime() - 6 * 60_000) }),
    verifySignature(SECRET, h, body, { now: new Date(now.getTime() + 2_000), toleranceMs: 1_000 }),
    verifySignature(SECRET, { ...h, 'X-Stagegate-Signature': 'sha256=00' }, body, { now }),
    verifySignature(SECRET, { 'X-Stagegate-Timestamp': h['X-Stagegate-Timestamp'] }, body, { now }),
    verifySignature(SECRET, { ...h, 'X-Stagegate-Timestamp': 'yesterday' }, body, { now }),
  ];
  for (const r of bad) assert.equal(r.ok, false);
  const reasons = bad.map((r) => (r.ok ? '' : r.reason));
  assert.match(reasons[0] ?? '', /does not match/);
  assert.match(reasons[2] ?? '', /replay/);
  assert.match(reasons[6] ?? '', /missing X-Stagegate-Signature/);
  // a re-signed old request with a fresh timestamp but the old signature fails too
  const later = new Date(now.getTime() + 60_000);
  const replay = { ...h, 'X-Stagegate-Timestamp': String(Math.floor(later.getTime() / 1000)) };
  assert.equal(verifySignature(SECRET, replay, body, { now: later }).ok, false);
  // a Headers object works as well
  assert.equal(verifySignature(SECRET, new Headers(h), body, { now }).ok, true);
});
