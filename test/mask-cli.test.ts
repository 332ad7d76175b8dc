/**
 * `stagegate mask` end to end through bin/stagegate.js: the shop example with the key from the
 * environment or a key file, --json, and bad input (short key, bad policy, unknown column,
 * malformed rows): exit 2, a message naming file:line(:col) and the fix, no OUT, and the key never
 * printed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cliPath, repoRoot } from './helpers/fixture.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'sg-mask-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
cpSync(path.join(repoRoot, 'examples', 'shop', 'data'), path.join(dir, 'data'), { recursive: true });
cpSync(path.join(repoRoot, 'examples', 'shop', 'mask-policy.yaml'), path.join(dir, 'mask-policy.yaml'));
const KEY = '3c5e7a9b1d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a1c3e5b7d9f2a4c6e8b0d1f3a';
const KEY_B64 = Buffer.from(KEY, 'hex').toString('base64');

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [cliPath, ...args], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...env }, timeout: 30_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}
const noKey = (r: { out: string; err: string }) => {
  for (const k of [KEY, KEY.toUpperCase(), KEY_B64]) assert.ok(!r.out.includes(k) && !r.err.includes(k), 'the key was printed');
};

describe('stagegate mask', () => {
  test('masks the shop exports with the key from the environment; the same key from a file gives the same bytes', async () => {
    const a = await cli(['mask', '--policy', 'mask-policy.yaml', 'data/customers.csv', 'customers.masked.csv'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /masked 4 records \(csv\) from data\/customers\.csv to customers\.masked\.csv/);
    noKey(a);
    writeFileSync(path.join(dir, 'mask.key'), `${KEY_B64}\n`);
    const b = await cli(['mask', '--policy', 'mask-policy.yaml', '--key-file', 'mask.key', 'data/customers.csv', 'customers.b.csv', '--json']);
    assert.equal(b.code, 0, b.err);
    const summary = JSON.parse(b.out);
    assert.deepEqual([summary.format, summary.records, summary.unused, summary.output], ['csv', 4, [], 'customers.b.csv']);
    assert.deepEqual(readFileSync(path.join(dir, 'customers.b.csv')), readFileSync(path.join(dir, 'customers.masked.csv')));
    const masked = readFileSync(path.join(dir, 'customers.masked.csv'), 'utf8');
    assert.doesNotMatch(masked, /alice|Meyer|Okafor|555-0134|cus_Q8x2Lm4P/i);
    const o = await cli(['mask', '--policy', 'mask-policy.yaml', 'data/orders.jsonl', 'orders.masked.jsonl'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(o.code, 0, o.err);
    const firstOrder = JSON.parse(readFileSync(path.join(dir, 'orders.masked.jsonl'), 'utf8').split('\n')[0]!);
    assert.ok(masked.includes(firstOrder.customer_id) && masked.includes(firstOrder.customer.email), 'orders join the masked customers');
  });
  test('a short or missing key: exit 2, the fix, no OUT, the key not echoed', async () => {
    const short = KEY.slice(0, 40);
    const r = await cli(['mask', '--policy', 'mask-policy.yaml', 'data/customers.csv', 'short.csv'], { STAGEGATE_MASK_KEY: short });
    assert.equal(r.code, 2);
    assert.match(r.err, /the masking key from STAGEGATE_MASK_KEY is too short: 20 bytes, at least 32 needed/);
    assert.match(r.err, /fix: make one with `openssl rand -hex 32`/);
    assert.ok(!r.err.includes(short));
    assert.ok(!existsSync(path.join(dir, 'short.csv')));
    const none = await cli(['mask', '--policy', 'mask-policy.yaml', 'data/customers.csv', 'none.csv']);
    assert.equal(none.code, 2);
    assert.match(none.err, /no masking key given[\s\S]*--key-file FILE or set STAGEGATE_MASK_KEY/);
  });
  test('a bad policy names file:line:col; --json gives the error as JSON', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), 'fields:\n  customer_id: id\n  email: { method: email, domain: Example.COM }\n');
    const r = await cli(['mask', '--policy', 'bad.yaml', 'data/customers.csv', 'bad.csv', '--json'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(r.code, 2);
    const body = JSON.parse(r.err) as { error: { code: string; message: string; details: { file: string; line: number; column: number } } };
    assert.equal(body.error.code, 'invalid_input');
    assert.match(body.error.message, /bad\.yaml:3:35: fields\["email"\]\["domain"\]/);
    assert.deepEqual([body.error.details.file, body.error.details.line], ['bad.yaml', 3]);
    assert.ok(!existsSync(path.join(dir, 'bad.csv')));
  });
  test('an unknown column and a malformed row: exit 2 naming them, no OUT, no temporary file', async () => {
    writeFileSync(path.join(dir, 'strict.yaml'), 'fields:\n  customer_id: id\n  email: email\n');
    const r = await cli(['mask', '--policy', 'strict.yaml', 'data/customers.csv', 'strict.csv'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(r.code, 2);
    assert.match(r.err, /customers\.csv:1: columns "name", "phone", "country", "signup_date", "notes" not in the masking policy strict\.yaml \(default: error\)/);
    writeFileSync(path.join(dir, 'broken.csv'), 'customer_id,email\ncus_1,a@example.org\ncus_2,b@example.org,extra\n');
    const m = await cli(['mask', '--policy', 'strict.yaml', 'broken.csv', 'broken.out.csv'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(m.code, 2);
    assert.match(m.err, /broken\.csv:3: malformed CSV row: it has 3 fields, the header has 2/);
    assert.ok(!m.err.includes('b@example.org'));
    assert.ok(!existsSync(path.join(dir, 'strict.csv')) && !existsSync(path.join(dir, 'broken.out.csv')));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
  test('usage: missing --policy or OUT, and --help', async () => {
    const r = await cli(['mask', 'data/customers.csv', 'x.csv'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(r.code, 2);
    assert.match(r.err, /--policy is required/);
    const one = await cli(['mask', '--policy', 'mask-policy.yaml', 'data/customers.csv'], { STAGEGATE_MASK_KEY: KEY });
    assert.equal(one.code, 2);
    assert.match(one.err, /expected IN and OUT, got 1 path/);
    const h = await cli(['mask', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /stagegate mask --policy FILE \[--key-file FILE\]/);
  });
});
