/**
 * The stream driver: IN -> masker -> a temporary file next to OUT, renamed over OUT only when every
 * record was masked. On any error the temporary file is removed, so OUT is either complete or
 * untouched. Neither file is read whole.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '../domain/errors.ts';
import type { MaskStats } from './actions.ts';
import { csvMasker, csvParseError, csvParser, csvStringifier } from './csv.ts';
import { jsonlMasker } from './jsonl.ts';
import type { LoadedPolicy } from './policy-load.ts';
import type { MaskFormat } from './policy-schema.ts';
import { createPrf } from './prf.ts';

export interface MaskFileOptions {
  loaded: LoadedPolicy;
  key: Buffer;
  input: string;
  output: string;
  /** replace OUT when it exists */
  force?: boolean;
}

export interface MaskSummary {
  format: MaskFormat;
  records: number;
  input: string;
  output: string;
  /** policy fields never met in the input (a typo, or a field this file does not have) */
  unused: string[];
  /** columns or pointer patterns removed by `default: drop` */
  droppedByDefault: string[];
}

export function formatFor(loaded: LoadedPolicy, input: string): MaskFormat {
  if (loaded.policy.format) return loaded.policy.format;
  const ext = extname(input).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new DomainError('invalid_input', `cannot tell the format of ${input} from its extension ${JSON.stringify(ext)}`, {
    file: input,
    fix: `set format: csv or format: jsonl in ${loaded.file}, or name the file .csv, .jsonl or .ndjson`,
  });
}

/** BOM and line ending of a CSV file, from its first 64 KiB */
async function sniffCsv(path: string): Promise<{ bom: boolean; crlf: boolean }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    const nl = head.indexOf(0x0a);
    return { bom: head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf, crlf: nl > 0 && head[nl - 1] === 0x0d };
  } finally {
    await fh.close();
  }
}

async function checkPaths(input: string, output: string, force: boolean): Promise<void> {
  const inStat = await stat(input).catch(() => undefined);
  if (!inStat?.isFile()) throw new DomainError('invalid_input', `input ${input} not found (or not a file)`, { file: input, fix: 'give the path of a CSV or JSON Lines file as IN' });
  const dirStat = await stat(dirname(resolve(output))).catch(() => undefined);
  if (!dirStat?.isDirectory()) throw new DomainError('invalid_input', `the folder of output ${output} does not exist`, { file: output, fix: 'create the folder first or choose another OUT' });
  const outStat = await stat(output).catch(() => undefined);
  if (outStat) {
    if ((await realpath(output)) === (await realpath(input))) throw new DomainError('invalid_input', 'IN and OUT are the same file', { file: output, fix: 'write the masked data to another file' });
    if (!force) throw new DomainError('conflict', `output ${output} already exists`, { file: output, fix: 'choose another OUT, remove it, or pass --force to replace it' });
    if (!outStat.isFile()) throw new DomainError('invalid_input', `output ${output} is not a regular file`, { file: output, fix: 'choose a file path as OUT' });
  }
}

/** read/write failures (permissions, disk full) as DomainErrors naming the file */
function fileError(e: unknown, input: string, output: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof DomainError || typeof err?.code !== 'string' || typeof err.syscall !== 'string') return e;
  const reading = err.path === input;
  return new DomainError('invalid_input', `cannot ${reading ? 'read' : 'write'} ${reading ? input : output}: ${err.code}`, {
    file: reading ? input : output,
    fix: reading ? 'check that IN is a readable file' : "check that OUT's folder is writable and has free space",
  });
}

export async function maskFile(opts: MaskFileOptions): Promise<MaskSummary> {
  const { loaded, input, output } = opts;
  const format = formatFor(loaded, input);
  await checkPaths(input, output, opts.force ?? false);
  const prf = createPrf(opts.key);
  const stats: MaskStats = { records: 0, used: new Set(), droppedByDefault: new Set() };
  const shown = basename(input);
  // build the masker first: policy errors (bad pointers) come before any file is created
  const sniffed = format === 'csv' ? await sniffCsv(input) : { bom: false, crlf: false };
  const stages =
    format === 'jsonl'
      ? [jsonlMasker({ loaded, prf, input: shown, stats })]
      : [csvParser({ loaded }), csvMasker({ loaded, prf, input: shown, stats, ...sniffed }), csvStringifier({ loaded, ...sniffed })];
  const tmp = join(dirname(resolve(output)), `.${basename(output)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline([createReadStream(input, { highWaterMark: 64 * 1024 }), ...stages, createWriteStream(tmp, { flags: 'wx' })]);
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fileError(format === 'csv' ? csvParseError(e, shown, loaded.policy.maxRecordBytes) : e, input, output);
  }
  return {
    format,
    records: stats.records,
    input,
    output,
    unused: [...loaded.policy.fields.keys()].filter((k) => !stats.used.has(k) && (format === 'csv') !== k.startsWith('/')),
    droppedByDefault: [...stats.droppedByDefault],
  };
}
