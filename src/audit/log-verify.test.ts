import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { AuditEntry } from '../domain/audit.ts';
import type { AuditRepo } from '../store/store.ts';
import { createAuditLog } from './log.ts';
import { verifyExportedLog, type VerifyExportResult } from './log-verify.ts';
import { createMemoryAuditRepo } from './memory-audit-repo.ts';
import { signNote } from './note.ts';
import { generateNoteKey } from './note.ts';

const entry = (i: number): AuditEntry => ({
  time: new Date(Date.UTC(2026, 10, 26, 12, 0, i)).toISOString(),
  actor: `user:u${i % 3}`,
  action: i % 2 === 0 ? 'promotion.request' : 'release.push',
  outcome: i % 4 === 0 ? 'denied' : 'allowed',
  subject: `service:s${i}`,
  requestDigest: null,
  details: { i, text: 'ünïcode ✓', nested: { a: [1, 2.5, 'x'] } },
});

const key = generateNoteKey('stagegate.test/audit');
const origin = 'stagegate.test/audit';
const log = createAuditLog({ origin, noteSigner: key.signerKey, clock: () => new Date('2026-11-26T12:00:00.000Z') });

async function exported(audit: AuditRepo): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of log.exportLines({ audit })) lines.push(l);
  return lines;
}

const reasonOf = (r: VerifyExportResult): string => (r.ok ? '' : r.reason);

describe('verifyExportedLog', async () => {
  const repo = createMemoryAuditRepo();
  const N = 300;
  for (let i = 0; i < N; i++) await log.append({ audit: repo }, entry(i));
  const note = await log.checkpoint({ audit: repo });
  const lines = await exported(repo);
  const text = `${lines.join('\n')}\n`;
  const verify = (logText: string, checkpointNote = note, verifierKey = log.verifierKey) =>
    verifyExportedLog({ logText, checkpointNote, verifierKey, origin });

  test('an honest export verifies, as text and as a stream of lines', async () => {
    const r = await verify(text);
    assert.ok(r.ok, reasonOf(r));
    assert.equal(r.size, N);
    assert.deepEqual(r.rootHash, await log.root({ audit: repo }));
    async function* stream() {
      yield* lines;
    }
    assert.ok((await verifyExportedLog({ lines: stream(), checkpointNote: note, verifierKey: log.verifierKey })).ok);
  });

  test('entries appended after the checkpoint are read but not covered', async () => {
    const more = createMemoryAuditRepo();
    for (let i = 0; i < 10; i++) await log.append({ audit: more }, entry(i));
    const cp = await log.checkpoint({ audit: more });
    for (let i = 10; i < 15; i++) await log.append({ audit: more }, entry(i));
    const r = await verify((await exported(more)).join('\n'), cp);
    assert.deepEqual(r.ok && [r.size, r.entries], [10, 15]);
  });

  test('an entry edited in the store is named by index, action and time', async () => {
    const edited: AuditRepo = {
      ...repo,
      listEntries: async (from, limit) =>
        (await repo.listEntries(from, limit)).map((r) =>
          r.index === 123 ? { ...r, entry: r.entry.replace('"service:s123"', '"service:other"') } : r,
        ),
    };
    const r = await verify((await exported(edited)).join('\n'));
    assert.equal(!r.ok && r.index, 123);
    assert.match(reasonOf(r), /entry 123 \(release\.push at 2026-11-26T12:02:03\.000Z\) does not match its leaf hash: its content was changed/);
    const broken: AuditRepo = {
      ...repo,
      listEntries: async (from, limit) =>
        (await repo.listEntries(from, limit)).map((r) => (r.index === 7 ? { ...r, entry: '{not json' } : r)),
    };
    const b = await verify((await exported(broken)).join('\n'));
    assert.equal(!b.ok && b.index, 7);
    assert.match(reasonOf(b), /not a JSON object/);
  });

  test('an edited entry with a matching recomputed leaf hash fails on the signed root', async () => {
    const forged = createMemoryAuditRepo();
    for (let i = 0; i < N; i++) await log.append({ audit: forged }, i === 50 ? { ...entry(i), subject: 'service:forged' } : entry(i));
    const r = await verify((await exported(forged)).join('\n'));
    assert.equal(r.ok, false);
    assert.match(reasonOf(r), /root hash of the first 300 entries does not match the signed checkpoint/);
  });

  test('truncating, reordering, dropping and duplicating fail with clear reasons', async () => {
    assert.match(reasonOf(await verify(lines.slice(0, 200).join('\n'))), /has 200 entries but the checkpoint covers 300: .*truncated/);
    const swapped = [...lines];
    [swapped[10], swapped[11]] = [swapped[11] as string, swapped[10] as string];
    const s = await verify(swapped.join('\n'));
    assert.equal(!s.ok && s.index, 10);
    assert.match(reasonOf(s), /has index 11, expected 10: entries are missing, duplicated or reordered/);
    const renumbered = swapped.map((l, i) => JSON.stringify({ ...JSON.parse(l), index: i }));
    assert.match(reasonOf(await verify(renumbered.join('\n'))), /does not match the signed checkpoint/);
    const dropped = lines.filter((_, i) => i !== 20);
    assert.match(reasonOf(await verify(dropped.join('\n'))), /has index 21, expected 20/);
    const dup = [...lines.slice(0, 5), lines[4] as string, ...lines.slice(5)];
    assert.match(reasonOf(await verify(dup.join('\n'))), /has index 4, expected 5/);
  });

  test('a checkpoint from another key, a changed checkpoint, or another origin fail', async () => {
    const other = generateNoteKey('stagegate.test/audit');
    const body = note.slice(0, note.indexOf('\n\n') + 1);
    assert.match(reasonOf(await verify(text, signNote(body, other.signerKey))), /not trustworthy with this key: .*no signature/);
    assert.match(reasonOf(await verify(text, note, other.verifierKey)), /not trustworthy/);
    assert.match(reasonOf(await verify(text, note.replace('\n300\n', '\n299\n'))), /does not verify/);
    assert.match(reasonOf(await verify(text, signNote('not a checkpoint\n', key.signerKey))), /checkpoint has 1 lines/);
    const elsewhere = await verifyExportedLog({ logText: text, checkpointNote: note, verifierKey: log.verifierKey, origin: 'x' });
    assert.match(reasonOf(elsewhere), /is for log "stagegate.test\/audit", not "x"/);
    assert.match(reasonOf(await verifyExportedLog({ checkpointNote: note, verifierKey: log.verifierKey })), /no exported log/);
  });

  test('an empty log with a size-0 checkpoint verifies; malformed lines are reported', async () => {
    const empty = createMemoryAuditRepo();
    const cp0 = await log.checkpoint({ audit: empty });
    assert.ok((await verify('', cp0)).ok);
    const bad = ['not json', '[1]', '{"index":0}', '{"index":0,"entry":{},"leafHash":"AAAA"}', 'x'.repeat(70_000)];
    for (const line of bad) assert.equal((await verify(`${line}\n`)).ok, false, line.slice(0, 30));
  });

  test('property: mutated exports never verify and never throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: N - 1 }), fc.nat(), fc.string({ minLength: 1, maxLength: 3 }), async (row, pos, junk) => {
        const copy = [...lines];
        const line = copy[row] as string;
        const p = pos % line.length;
        const mutated = `${line.slice(0, p)}${junk}${line.slice(p + 1)}`;
        fc.pre(mutated !== line);
        copy[row] = mutated;
        const r = await verify(copy.join('\n'));
        if (r.ok) {
          // only a change that leaves the same JSON value (e.g. whitespace) may pass
          assert.deepEqual(JSON.parse(mutated), JSON.parse(line));
        }
      }),
      { numRuns: 200 },
    );
  });
});
