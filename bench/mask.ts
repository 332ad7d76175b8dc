/**
 * mask: rows per second of `stagegate mask` on a CSV export (5 masked columns: id, email, phone,
 * name, text; 2 kept), against a plain csv-parse -> csv-stringify copy of the same file in the same
 * process (same streams, same options). The ratio is the cost of the keyed masking itself.
 */
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { maskFile } from '../src/mask/mask-file.ts';
import { parsePolicy } from '../src/mask/policy-load.ts';
import { type BenchOptions, type BenchResult, checkTarget, median, progress, round3, secondsSince, withTempDir } from './util.ts';

// our own bound (the issue sets none): masking may cost at most 10x a plain CSV copy
const TARGET_RATIO = 0.1;
const POLICY = `fields:
  customer_id: { method: id, prefixes: [cus_] }
  email: email
  phone: { method: phone, countryCodeDigits: 2 }
  name: name
  street: text
  country: keep
  signup_date: keep
`;

function writeCsv(file: string, rows: number): number {
  const lines = ['customer_id,email,phone,name,street,country,signup_date'];
  for (let i = 0; i < rows; i++) {
    const id = (i * 2654435761) % 1e9;
    lines.push(`cus_${id.toString(36).padStart(8, 'x')},user.${id}@example.org,+49 30 ${String(id).padStart(9, '0').slice(0, 4)} ${String(id).slice(-4)},"Person ${i}, Jr",Street ${i % 997},DE,2024-0${(i % 9) + 1}-1${i % 10}`);
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(file, text);
  return Buffer.byteLength(text);
}

async function plainCopy(input: string, output: string): Promise<void> {
  const pass = new Transform({ objectMode: true, transform: (chunk: { record: string[] }, _e, done) => done(null, chunk.record) });
  await pipeline(createReadStream(input, { highWaterMark: 64 * 1024 }), parse({ bom: true, info: true, skip_empty_lines: true, max_record_size: 1024 * 1024 }), pass, stringify({ record_delimiter: 'unix' }), createWriteStream(output));
}

export async function runMask(opts: BenchOptions): Promise<BenchResult> {
  const rows = opts.quick ? 10_000 : 200_000;
  const rounds = opts.quick ? 2 : 5;
  return withTempDir('mask', async (dir) => {
    const input = path.join(dir, 'customers.csv');
    const bytes = writeCsv(input, rows);
    const loaded = parsePolicy(POLICY, 'bench-policy.yaml');
    const key = Buffer.from('6f1d0c3b2a49587766a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0aa', 'hex');
    const maskRates: number[] = [];
    const plainRates: number[] = [];
    await plainCopy(input, path.join(dir, 'warm.csv'));
    for (let r = 0; r < rounds; r++) {
      let t = process.hrtime.bigint();
      await plainCopy(input, path.join(dir, `plain-${r}.csv`));
      plainRates.push(rows / secondsSince(t));
      t = process.hrtime.bigint();
      const s = await maskFile({ loaded, key, input, output: path.join(dir, `masked-${r}.csv`) });
      maskRates.push(rows / secondsSince(t));
      if (s.records !== rows) throw new Error(`masked ${s.records} of ${rows} rows`);
    }
    const maskRate = median(maskRates);
    const plainRate = median(plainRates);
    const ratio = round3(maskRate / plainRate);
    progress(`mask: ${Math.round(maskRate)} rows/s masked vs ${Math.round(plainRate)} rows/s plain parse+stringify (ratio ${ratio})`);
    return {
      name: 'mask',
      value: ratio,
      unit: 'ratio (masked rows/s ÷ plain CSV parse+stringify rows/s)',
      ...checkTarget(ratio, '>=', TARGET_RATIO),
      rounds: maskRates.map((m, i) => round3(m / (plainRates[i] as number))),
      notes: `${rows} rows (${(bytes / 1048576).toFixed(1)} MiB) of 7 columns, 5 masked (id, email, phone, name, text: one HMAC-SHA256 stream per cell) and 2 kept; each round copies the file once plainly (csv-parse -> csv-stringify, same options) and once through maskFile (temp file + rename); median of ${rounds} rounds; one core`,
      extra: { masked_rows_per_s: Math.round(maskRate), plain_rows_per_s: Math.round(plainRate), masked_mib_per_s: round3((bytes / 1048576) * (maskRate / rows)), rows },
    };
  });
}
