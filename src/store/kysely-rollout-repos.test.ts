/** Rollout rows changed behind the store's back (SQLite file edited directly) are reported, never trusted. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { rejectsWith } from './contract-fixtures.ts';
import { rollout } from './contract-rollouts.ts';
import { openSqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'stagegate-rollouts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a corrupt rollout row is reported as internal, naming the row and column; good rows still read', async () => {
  const file = join(dir, 'corrupt.sqlite');
  const s = await openSqliteStore({ file });
  try {
    const corruptions: [string, string, RegExp][] = [
      ['prm_phase', "phase = 'Teleported'", /rollouts row prm_phase phase/],
      ['prm_strategy', "strategy = 'linear'", /rollouts row prm_strategy strategy/],
      ['prm_command', "command = 'skip'", /rollouts row prm_command command/],
      ['prm_weight', 'weight = 250', /rollouts row prm_weight weight/],
      ['prm_step', 'step_index = -3', /rollouts row prm_step step_index/],
      ['prm_analysis', "analysis = 'not json'", /rollouts row prm_analysis analysis: not JSON/],
    ];
    for (const [id] of corruptions) await s.read.rollouts.insert(rollout(id));
    await s.read.rollouts.insert(rollout('prm_good'));
    const db = new BetterSqlite3(file);
    try {
      for (const [id, set] of corruptions) db.prepare(`update rollouts set ${set} where promotion_id = ?`).run(id);
    } finally {
      db.close();
    }
    for (const [id, , pattern] of corruptions) await rejectsWith(() => s.read.rollouts.get(id), 'internal', pattern);
    await rejectsWith(() => s.read.rollouts.list({ limit: 100 }), 'internal', /rollouts row/);
    assert.deepEqual(await s.read.rollouts.get('prm_good'), rollout('prm_good'));
  } finally {
    await s.close();
  }
});
