/**
 * maskFile on real files: CSV edge cases (quoted commas, embedded newlines, BOM, CRLF), JSON Lines
 * pointers with `*`, joins across files, other keys, and bad input: a clear error naming the line
 * and field, never the value, and no OUT (nor a temporary file) left behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import fc from 'fast-check';
import { DomainError } from '../src/domain/errors.ts';
import { maskFile } from '../src/mask/mask-file.ts';
import { loadPolicy, parsePolicy } from '../src/mask/policy-load.ts';
import { repoRoot } from './helpers/fixture.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sg-mask-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = Buffer.from('6f1d0c3b2a49587766a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0aa', 'hex');
const KEY2 = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'hex');
let n = 0;
const file = (name: string, content: string | Buffer) => {
  const p = path.join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
};
const outPath = (name: string) => path.join(dir, `${n++}-out-${name}`);
const policy = (yaml: string) => parsePolicy(yaml, 'policy.yaml');
const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

/** run maskFile expecting a DomainError; checks that neither OUT nor a temporary file exists */
async function refused(yaml: string, input: string, re: RegExp, secret?: string): Promise<DomainError> {
  const output = outPath(path.basename(input));
  const e = await maskFile({ loaded: policy(yaml), key: KEY, input, output }).then(
    () => assert.fail('expected an error'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof DomainError, String(e));
  assert.match(e.message, re);
  assert.ok(!existsSync(output), 'OUT must not exist');
  assert.deepEqual(leftovers(), []);
  if (secret) assert.ok(!JSON.stringify(e.toJSON()).includes(secret) && !e.message.includes(secret), 'the error quotes the data');
  return e;
}

describe('CSV', () => {
  const yaml = 'fields:\n  id: { method: id, prefixes: [cus_] }\n  email: email\n  note: keep\n  city: text\n';
  test('quoted commas, embedded newlines, BOM and CRLF are kept', async () => {
    const input = file('in.csv', '\ufeffid,email,note,city\r\ncus_A1,a@example.org,"hello, ""world""",Berlin\r\ncus_B2,b@example.org,"two\r\nlines",\r\n');
    const output = outPath('out.csv');
    const s = await maskFile({ loaded: policy(yaml), key: KEY, input, output });
    assert.deepEqual([s.format, s.records, s.unused], ['csv', 2, []]);
    const bytes = readFileSync(output);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'BOM kept');
    const text = bytes.toString('utf8').slice(1);
    assert.ok(text.startsWith('id,email,note,city\r\n'), 'CRLF kept');
    assert.ok(!/[^\r]\n/.test(text), 'every line ends with CRLF');
    const rows = parseCsv(text) as string[][];
    assert.equal(rows.length, 3);
    assert.match(rows[1]![0]!, /^cus_[A-Z]\d$/);
    assert.match(rows[1]![1]!, /^[a-z2-7]{12}@example\.com$/);
    assert.equal(rows[1]![2], 'hello, "world"');
    assert.equal(rows[2]![2], 'two\r\nlines');
    assert.equal(rows[2]![3], '', 'an empty value stays empty');
    assert.doesNotMatch(text, /a@example\.org|Berlin|cus_A1/);
  });
  test('LF input gives LF output without a BOM; another delimiter; default drop and keep', async () => {
    const input = file('semi.csv', 'id;email;extra\ncus_A1;a@example.org;x\n');
    const dropped = outPath('d.csv');
    const s = await maskFile({ loaded: policy(`default: drop\ncsv: { delimiter: ";" }\n${yaml}`), key: KEY, input, output: dropped });
    assert.deepEqual(s.droppedByDefault, ['extra']);
    assert.deepEqual(s.unused, ['note', 'city']);
    const text = readFileSync(dropped, 'utf8');
    assert.match(text, /^id;email\ncus_[A-Z]\d;[a-z2-7]{12}@example\.com\n$/);
    const kept = outPath('k.csv');
    await maskFile({ loaded: policy(`default: keep\ncsv: { delimiter: ";" }\n${yaml}`), key: KEY, input, output: kept });
    assert.match(readFileSync(kept, 'utf8'), /^id;email;extra\n.*;x\n$/);
  });
  test('property: any cells (quotes, delimiters, CR/LF, unicode) round-trip; kept cells equal, masked ones have their shape', async () => {
    const cell = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a,b', 'say "hi"', 'x\r\ny', '\n', ' ', 'é€😀'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 20 }), fc.boolean(), async (rows, crlf) => {
        const input = file('p.csv', stringifyCsv([['keep', 'id', 'text'], ...rows], { record_delimiter: crlf ? 'windows' : 'unix' }));
        const output = outPath('p.csv');
        const s = await maskFile({ loaded: policy('fields:\n  keep: keep\n  id: id\n  text: { method: text, length: 8 }\n'), key: KEY, input, output });
        const back = parseCsv(readFileSync(output, 'utf8'), { skip_empty_lines: true }) as string[][];
        assert.equal(s.records, rows.length);
        assert.equal(back.length - 1, rows.length);
        for (const [i, r] of back.slice(1).entries()) {
          const orig = rows[i]!;
          assert.equal(r[0], orig[0]);
          assert.equal([...r[1]!].length, [...orig[1]!].length);
          assert.match(r[2]!, orig[2] === '' ? /^$/ : /^[a-z2-7]{8}$/);
        }
      }),
      { numRuns: 30 },
    );
  });
  test('null, fixed and drop columns', async () => {
    const input = file('f.csv', 'a,b,c,d\n1,2,3,4\n');
    const output = outPath('f.csv');
    await maskFile({ loaded: policy('fields:\n  a: "null"\n  b: { fixed: 42 }\n  c: drop\n  d: keep\n'), key: KEY, input, output });
    assert.equal(readFileSync(output, 'utf8'), 'a,b,d\n,42,4\n');
  });
  test('an unknown column fails with default error, naming it, before anything is written', async () => {
    const input = file('u.csv', 'id,email,ssn,city,note\ncus_A1,a@example.org,123-45-6789,Berlin,n\n');
    const e = await refused(yaml, input, /u\.csv:1: column "ssn" not in the masking policy policy\.yaml \(default: error\)/, '123-45-6789');
    assert.equal(e.details.field, 'ssn');
    assert.match(e.details.fix ?? '', /add it under fields:.*or set default: keep\|drop/);
  });
  test('malformed rows name the line and never quote the data', async () => {
    await refused(yaml, file('m.csv', 'id,email,note,city\ncus_A1,a@example.org,n,c\ncus_B2,secret@example.org,n,c,EXTRA\n'), /m\.csv:3: malformed CSV row: it has 5 fields, the header has 4/, 'secret@example.org');
    await refused(yaml, file('q.csv', 'id,email,note,city\ncus_A1,"unclosed@example.org,n,c\n'), /q\.csv:\d+: malformed CSV: a quoted field is never closed/, 'unclosed@example.org');
    await refused(yaml, file('q2.csv', 'id,email,note,city\ncus_A1,"x"leak@example.org,n,c\n'), /q2\.csv:2: malformed CSV: a double quote in the wrong place/, 'leak@example.org');
    await refused('maxRecordBytes: 1024\n' + yaml, file('big.csv', `id,email,note,city\ncus_A1,a@example.org,${'x'.repeat(3000)},c\n`), /big\.csv:2: a CSV record is longer than maxRecordBytes \(1024\)/);
    await refused(yaml, file('dup.csv', 'id,email,id\n'), /dup\.csv:1: column "id" appears twice in the header \(columns 1 and 3\)/);
  });
});

describe('JSON Lines', () => {
  const yaml = [
    'fields:',
    '  /id: { method: id, prefixes: [ord_] }',
    '  /customer/email: email',
    '  /customer/phone: { method: phone, countryCodeDigits: 2 }',
    '  /items/*/sku: keep',
    '  /items/*/owner/name: name',
    '  /tags/*: text',
    '  /card: { fixed: null }',
    '  /internal: drop',
    '  /n: id',
    '  /a~1b: "null"',
    '',
  ].join('\n');
  test('pointers with *, numbers, nulls, escapes, drop and fixed', async () => {
    const rec = { id: 'ord_123', customer: { email: 'Alice@Example.org', phone: '+49 30 1234 5678' }, items: [{ sku: 'MUG', owner: { name: 'Ann' } }, { sku: 'TEE', owner: { name: null } }], tags: ['vip', 'x'], card: '4242', internal: { a: 1 }, n: 90210, 'a/b': 'q' };
    const input = file('in.jsonl', `\ufeff${JSON.stringify(rec)}\r\n\n${JSON.stringify({ id: 'ord_124', items: [], tags: [] })}`);
    const output = outPath('out.jsonl');
    const s = await maskFile({ loaded: policy(yaml), key: KEY, input, output });
    assert.deepEqual([s.format, s.records], ['jsonl', 2]);
    assert.deepEqual(s.unused, []);
    const lines = readFileSync(output, 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    const a = JSON.parse(lines[0]!);
    assert.match(a.id, /^ord_\d{3}$/);
    assert.match(a.customer.email, /^[a-z2-7]{12}@example\.com$/);
    assert.match(a.customer.phone, /^\+49 \d\d \d{4} \d{4}$/);
    assert.deepEqual(a.items.map((i: { sku: string }) => i.sku), ['MUG', 'TEE']);
    assert.match(a.items[0].owner.name, /^[a-z2-7]{16}$/);
    assert.equal(a.items[1].owner.name, null);
    assert.equal(a.tags.length, 2);
    assert.ok(a.tags.every((t: string) => /^[a-z2-7]{16}$/.test(t)));
    assert.equal(a.card, null);
    assert.ok(!('internal' in a));
    assert.equal(typeof a.n, 'number');
    assert.match(String(a.n), /^[1-9]\d{4}$/);
    assert.equal(a['a/b'], null);
    assert.deepEqual(Object.keys(a), Object.keys(rec).filter((k) => k !== 'internal'), 'member order kept');
    assert.deepEqual(JSON.parse(lines[1]!).items, []);
  });
  test('a member named __proto__ is masked and kept like any other', async () => {
    const input = file('proto.jsonl', '{"id":"ord_1","__proto__":{"x":"a@example.org"}}\n');
    const output = outPath('proto.jsonl');
    await maskFile({ loaded: policy(`${yaml}  /__proto__/x: email\n`), key: KEY, input, output });
    const text = readFileSync(output, 'utf8');
    assert.match(text, /"__proto__":\{"x":"[a-z2-7]{12}@example\.com"\}/);
  });
  test('an unknown field fails with default error, naming the pointer and the pattern to add', async () => {
    const input = file('u.jsonl', `${JSON.stringify({ id: 'ord_1' })}\n${JSON.stringify({ id: 'ord_2', items: [{ sku: 'A', price: 31337 }] })}\n`);
    const e = await refused(yaml, input, /u\.jsonl:2: field \/items\/0\/price is not in the masking policy policy\.yaml \(default: error\)/, '31337');
    assert.match(e.details.fix ?? '', /add "\/items\/\*\/price" under fields:/);
    assert.equal(e.details.line, 2);
  });
  test('default drop removes unlisted members, default keep keeps them; null and empty containers never fail', async () => {
    const input = file('d.jsonl', `${JSON.stringify({ id: 'ord_1', extra: { deep: [1] }, nothing: null, empty: {} })}\n`);
    const out1 = outPath('d.jsonl');
    const s = await maskFile({ loaded: policy(`default: drop\n${yaml}`), key: KEY, input, output: out1 });
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(out1, 'utf8'))), ['id']);
    assert.deepEqual(s.droppedByDefault.sort(), ['/empty', '/extra', '/nothing']);
    const out2 = outPath('k.jsonl');
    await maskFile({ loaded: policy(`default: keep\n${yaml}`), key: KEY, input, output: out2 });
    assert.deepEqual(JSON.parse(readFileSync(out2, 'utf8')).extra, { deep: [1] });
    const nullOnly = file('n.jsonl', `${JSON.stringify({ id: 'ord_1', nothing: null, empty: {}, list: [] })}\n`);
    const out3 = outPath('n.jsonl');
    await maskFile({ loaded: policy(yaml), key: KEY, input: nullOnly, output: out3 });
    assert.deepEqual(JSON.parse(readFileSync(out3, 'utf8')), { id: JSON.parse(readFileSync(out3, 'utf8')).id, nothing: null, empty: {}, list: [] });
  });
  test('bad lines name the line (and column), never the data', async () => {
    await refused(yaml, file('j.jsonl', `${JSON.stringify({ id: 'ord_1' })}\n{"id": "ord_2", "customer": {"email": "leak@example.org",}}\n`), /j\.jsonl:2:\d+: is not valid JSON/, 'leak@example.org');
    await refused(yaml, file('arr.jsonl', '[1,2]\n'), /arr\.jsonl:1: is not a JSON object/);
    await refused(yaml, file('utf.jsonl', Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')])), /utf\.jsonl:1: is not valid UTF-8/);
    await refused('maxRecordBytes: 1024\n' + yaml, file('long.jsonl', `{"id":"ord_1"}\n{"id":"${'9'.repeat(5000)}"}\n`), /long\.jsonl:2: is longer than maxRecordBytes \(1024\)/);
    await refused(yaml, file('obj.jsonl', '{"customer": {"email": {"nested": "leak@example.org"}}}\n'), /obj\.jsonl:1: field \/customer\/email is an object; method email masks strings and numbers/, 'leak@example.org');
    await refused('default: keep\n' + yaml, file('deep.jsonl', `{"x": ${'['.repeat(100)}${']'.repeat(100)}}\n`), /deep\.jsonl:1: nests deeper than 64 levels/);
  });
  test('records across read-chunk boundaries (a file of several 64 KiB chunks) are all masked alike', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) lines.push(JSON.stringify({ id: `ord_${i % 50}`, customer: { email: `user${i % 50}@example.org` }, tags: ['t'.repeat(i % 97)] }));
    const input = file('many.jsonl', `${lines.join('\n')}\n`);
    const output = outPath('many.jsonl');
    const s = await maskFile({ loaded: policy(yaml), key: KEY, input, output });
    assert.equal(s.records, 6000);
    const out = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(out.length, 6000);
    for (let i = 50; i < 6000; i += 397) {
      assert.equal(out[i].id, out[i % 50].id);
      assert.equal(out[i].customer.email, out[i % 50].customer.email);
    }
  });
  test('bad pointers in the policy are refused before OUT is created', async () => {
    await refused('fields:\n  /customer: keep\n  /customer/email: email\n', file('p.jsonl', '{}\n'), /policy\.yaml:3:3: .*\/customer\/email overlaps \/customer/);
  });
});

describe('joins, keys and files', () => {
  const shop = path.join(repoRoot, 'examples', 'shop');
  test('examples/shop: customers.csv and orders.jsonl still join on customer_id, email, phone and name', async () => {
    const loaded = await loadPolicy(path.join(shop, 'mask-policy.yaml'));
    const customersOut = outPath('customers.csv');
    const ordersOut = outPath('orders.jsonl');
    await maskFile({ loaded, key: KEY, input: path.join(shop, 'data', 'customers.csv'), output: customersOut });
    await maskFile({ loaded, key: KEY, input: path.join(shop, 'data', 'orders.jsonl'), output: ordersOut });
    const customers = (parseCsv(readFileSync(customersOut, 'utf8'), { columns: true }) as Record<string, string>[]);
    const orders = readFileSync(ordersOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const original = (parseCsv(readFileSync(path.join(shop, 'data', 'customers.csv'), 'utf8'), { columns: true }) as Record<string, string>[]);
    const originalOrders = readFileSync(path.join(shop, 'data', 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(!('notes' in customers[0]!));
    for (const [i, o] of orders.entries()) {
      const c = customers.find((row) => row['customer_id'] === o.customer_id);
      assert.ok(c, `order ${i} joins a masked customer`);
      const origCustomer = original.find((row) => row['customer_id'] === originalOrders[i].customer_id)!;
      assert.equal(customers.indexOf(c), original.indexOf(origCustomer), 'it joins the right customer');
      assert.equal(o.customer.email, c['email']);
      assert.equal(o.customer.phone, c['phone']);
      if (originalOrders[i].shipping.name === origCustomer['name']) assert.equal(o.shipping.name, c['name']);
      else assert.notEqual(o.shipping.name, c['name']);
      assert.notEqual(o.customer_id, originalOrders[i].customer_id);
    }
    // another key: other pseudonyms for the same data
    const otherOut = outPath('customers2.csv');
    await maskFile({ loaded, key: KEY2, input: path.join(shop, 'data', 'customers.csv'), output: otherOut });
    const other = parseCsv(readFileSync(otherOut, 'utf8'), { columns: true }) as Record<string, string>[];
    for (const [i, row] of other.entries()) {
      for (const col of ['customer_id', 'email', 'name', 'phone']) assert.notEqual(row[col], customers[i]![col], col);
      assert.equal(row['country'], customers[i]!['country']);
    }
  });
  test('an existing OUT is kept unless force; IN and OUT must differ; a missing IN or folder is named', async () => {
    const yaml = 'fields:\n  a: keep\n';
    const input = file('x.csv', 'a\n1\n');
    const output = file('exists.csv', 'old\n');
    await assert.rejects(maskFile({ loaded: policy(yaml), key: KEY, input, output }), (e) => e instanceof DomainError && e.code === 'conflict' && /already exists/.test(e.message));
    assert.equal(readFileSync(output, 'utf8'), 'old\n');
    await maskFile({ loaded: policy(yaml), key: KEY, input, output, force: true });
    assert.equal(readFileSync(output, 'utf8'), 'a\n1\n');
    await assert.rejects(maskFile({ loaded: policy(yaml), key: KEY, input, output: input, force: true }), /IN and OUT are the same file/);
    await assert.rejects(maskFile({ loaded: policy(yaml), key: KEY, input: path.join(dir, 'nope.csv'), output: outPath('o.csv') }), /input .*nope\.csv not found/);
    await assert.rejects(maskFile({ loaded: policy(yaml), key: KEY, input, output: path.join(dir, 'no', 'dir', 'o.csv') }), /folder of output/);
    await assert.rejects(maskFile({ loaded: policy(yaml), key: KEY, input: file('x.txt', 'a\n'), output: outPath('o.txt') }), /cannot tell the format .*"\.txt"/);
    const failed = outPath('failed.csv');
    writeFileSync(failed, 'previous\n');
    await assert.rejects(maskFile({ loaded: policy(yaml), key: KEY, input: file('bad.csv', 'a\n1,2\n'), output: failed, force: true }), /malformed CSV row/);
    assert.equal(readFileSync(failed, 'utf8'), 'previous\n', 'a failed run leaves the old OUT untouched');
    assert.deepEqual(leftovers(), []);
  });
});
