import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSqliteStore } from '../store/sqlite-store.ts';
import { canonicalFlagSet, type FlagSet, flagSetDigest } from './flag-set.ts';
import { flagStates } from './states.ts';

test('flagStates: per flag its state, default variant and digests; $ref targeting resolved; empty when nothing is stored', async () => {
  const store = await openSqliteStore({ file: ':memory:' });
  try {
    assert.deepEqual(await flagStates(store, 'prod'), {});
    const set = (rule: unknown): FlagSet => ({
      $evaluators: { internal: rule as Record<string, unknown> },
      flags: {
        b: { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { if: [{ $ref: 'internal' }, 'on', null] } },
        a: { state: 'ENABLED', variants: { x: 'X' }, defaultVariant: 'x' },
      },
    });
    const put = (env: string, s: FlagSet) =>
      store.transaction((tx) => tx.flags.insertVersion({ environment: env, version: 1, flagSet: canonicalFlagSet(s), digest: flagSetDigest(s), createdBy: 'system:test', createdAt: '2026-11-26T10:00:00.000Z', changeId: null }));
    await put('staging', set({ ends_with: [{ var: 'email' }, '@example.com'] }));
    await put('prod', set({ ends_with: [{ var: 'email' }, '@example.org'] }));
    const staging = await flagStates(store, 'staging');
    const prod = await flagStates(store, 'prod');
    assert.deepEqual(Object.keys(staging), ['a', 'b']);
    assert.equal(staging['a']?.targetingDigest, null);
    assert.equal(staging['b']?.state, 'DISABLED');
    assert.equal(staging['b']?.defaultVariant, 'off');
    assert.equal(staging['b']?.variantsDigest, prod['b']?.variantsDigest);
    assert.match(staging['b']?.targetingDigest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(staging['b']?.targetingDigest, prod['b']?.targetingDigest, 'a changed shared evaluator shows in the targeting digest');
  } finally {
    await store.close();
  }
});
