/**
 * CSV masking as streams: csv-parse (quotes, embedded newlines, BOM, CRLF) -> one record at a time
 * -> csv-stringify (same delimiter, line ending and BOM as the input). The first record is the
 * header; every column must be listed in the policy unless `default` says otherwise. Error messages
 * name the line and column but never quote a value: the input is production data.
 */
import { Transform } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { DomainError } from '../domain/errors.ts';
import { type Action, applyToCell, compileAction, type MaskStats } from './actions.ts';
import type { LoadedPolicy } from './policy-load.ts';
import type { Prf } from './prf.ts';

export interface CsvOptions {
  loaded: LoadedPolicy;
  prf: Prf;
  /** the input file name shown in errors */
  input: string;
  bom: boolean;
  crlf: boolean;
  stats: MaskStats;
}

const at = (input: string, line: number, message: string, fix: string, field?: string) =>
  new DomainError('invalid_input', `${input}:${line}: ${message}`, { file: input, line, ...(field !== undefined ? { field } : {}), fix });

/** csv-parse's errors, re-worded without the data they carry */
export function csvParseError(e: unknown, input: string, maxRecordBytes: number): unknown {
  if (!(e instanceof CsvError)) return e;
  const line = typeof e['lines'] === 'number' ? e['lines'] : 0;
  const counts = /expect (\d+), got (\d+)/.exec(e.message);
  switch (e.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return at(input, line, `malformed CSV row: it has ${counts?.[2] ?? 'a different number of'} fields, the header has ${counts?.[1] ?? 'another number'}`, 'give every row as many fields as the header; quote fields that contain the delimiter');
    case 'CSV_QUOTE_NOT_CLOSED':
      return at(input, line, 'malformed CSV: a quoted field is never closed', 'close the field with a double quote; write a quote inside a quoted field as ""');
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
      return at(input, line, 'malformed CSV: a double quote in the wrong place', 'quote the whole field and write each quote inside it as ""');
    case 'CSV_MAX_RECORD_SIZE':
      return at(input, line, `a CSV record is longer than maxRecordBytes (${maxRecordBytes})`, 'raise maxRecordBytes in the policy or check for an unclosed quote');
    default:
      return at(input, line, `malformed CSV (${e.code})`, 'check the CSV syntax near this line');
  }
}

export function csvParser(opts: Pick<CsvOptions, 'loaded'>) {
  const p = opts.loaded.policy;
  return parse({ bom: true, info: true, delimiter: p.delimiter, max_record_size: p.maxRecordBytes, skip_empty_lines: true });
}

export function csvStringifier(opts: Pick<CsvOptions, 'loaded' | 'bom' | 'crlf'>) {
  return stringify({ bom: opts.bom, delimiter: opts.loaded.policy.delimiter, record_delimiter: opts.crlf ? 'windows' : 'unix' });
}

function planColumns(header: readonly string[], opts: CsvOptions): (Action | undefined)[] {
  const { loaded, prf, input, stats } = opts;
  const { policy } = loaded;
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) throw at(input, 1, `column ${JSON.stringify(name)} appears twice in the header (columns ${first + 1} and ${i + 1})`, 'rename one of the two columns', name);
    seen.set(name, i);
  });
  const unknown = header.filter((h) => !policy.fields.has(h));
  if (unknown.length && policy.default === 'error') {
    const names = unknown.slice(0, 20).map((n) => JSON.stringify(n.slice(0, 100)));
    throw at(
      input,
      1,
      `column${unknown.length === 1 ? '' : 's'} ${names.join(', ')}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''} not in the masking policy ${loaded.file} (default: error)`,
      `add ${unknown.length === 1 ? 'it' : 'each'} under fields: with a method (email, phone, id, name, text, keep, drop, null or {fixed: VALUE}), or set default: keep|drop`,
      unknown[0],
    );
  }
  return header.map((name) => {
    const rule = policy.fields.get(name);
    if (rule) {
      stats.used.add(name);
      return compileAction(rule, prf, name);
    }
    if (policy.default === 'drop') stats.droppedByDefault.add(name);
    return policy.default === 'drop' ? { kind: 'drop' } : { kind: 'keep' };
  });
}

/** objectMode transform: {record, info} from csv-parse -> masked record arrays for csv-stringify */
export function csvMasker(opts: CsvOptions): Transform {
  let plan: (Action | undefined)[] | undefined;
  return new Transform({
    objectMode: true,
    transform(chunk: { record: string[]; info: { lines: number } }, _enc, done) {
      try {
        if (!plan) {
          plan = planColumns(chunk.record, opts);
          done(null, chunk.record.filter((_, i) => plan![i]?.kind !== 'drop'));
          return;
        }
        const out: string[] = [];
        chunk.record.forEach((cell, i) => {
          const v = applyToCell(plan![i] ?? { kind: 'drop' }, cell);
          if (v !== undefined) out.push(v);
        });
        opts.stats.records++;
        done(null, out);
      } catch (e) {
        done(e as Error);
      }
    },
  });
}
