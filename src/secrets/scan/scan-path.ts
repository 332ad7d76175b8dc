/**
 * Scan a file or a folder (recursively) for secrets. `.tar`, `.tar.gz` and `.tgz` archives are
 * unpacked in memory as a stream, one entry at a time, with a bound on the bytes unpacked; their
 * findings are named `archive.tgz!inner/path`. Binary files (a NUL byte in the first 8 KiB) and
 * files over the size bound are skipped with a note; path rules still apply to binary files.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { DomainError } from '../../domain/errors.ts';
import { type Finding, type ScanAllowlist, pathAllowlisted, pathRuleFindings, scanText, sha256Hex } from './detect.ts';
import { type RuleSet, defaultRules } from './rules.ts';

export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Bytes unpacked from one archive (nested archives included) before the scan of it stops. */
export const MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024;
const MAX_NESTING = 3;
const BINARY_SNIFF = 8 * 1024;

export interface ScanPathOptions {
  rules?: RuleSet;
  allowlist?: ScanAllowlist;
  maxFileBytes?: number;
  maxArchiveBytes?: number;
}

export interface Suppressed {
  finding: Finding;
  reason: string;
}

export interface ScanReport {
  /** the path scanned, as given */
  root: string;
  findings: Finding[];
  /** findings a project allowlist entry suppressed, with its reason */
  suppressed: Suppressed[];
  /** what was not scanned, and why (binary, too large, unreadable, archive bound reached) */
  notes: string[];
  filesScanned: number;
  bytesScanned: number;
}

export const isArchiveName = (name: string): boolean => /\.(?:tar|tgz|tar\.gz)$/i.test(name);
const isBinary = (b: Uint8Array): boolean => b.subarray(0, BINARY_SNIFF).includes(0);
const decoder = new TextDecoder('utf-8', { fatal: false });

interface Ctx {
  rules: RuleSet;
  allowlist: ScanAllowlist;
  maxFileBytes: number;
  maxArchiveBytes: number;
  report: ScanReport;
}

function scanBytes(ctx: Ctx, display: string, bytes: Uint8Array): void {
  const onSuppressed = (finding: Finding, reason: string) => ctx.report.suppressed.push({ finding, reason });
  if (isBinary(bytes)) {
    ctx.report.findings.push(...pathRuleFindings(display, sha256Hex(bytes), { rules: ctx.rules, allowlist: ctx.allowlist, onSuppressed }));
    ctx.report.notes.push(`${display}: binary (NUL byte in the first 8 KiB), not scanned`);
    return;
  }
  ctx.report.filesScanned++;
  ctx.report.bytesScanned += bytes.byteLength;
  ctx.report.findings.push(...scanText(decoder.decode(bytes), { file: display, rules: ctx.rules, allowlist: ctx.allowlist, onSuppressed }));
}

/** Unpack a tar (gzip detected) stream entry by entry; resolves when done or the bound is reached. */
function scanArchive(ctx: Ctx, display: string, source: Readable | Buffer, depth: number, budget: { left: number }): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopped = false;
    const nested: Promise<void>[] = [];
    const stop = (note: string) => {
      if (stopped) return;
      stopped = true;
      ctx.report.notes.push(note);
      if (!Buffer.isBuffer(source)) source.destroy();
      resolve();
    };
    const parser = new Parser({
      strict: false,
      onReadEntry: (entry: ReadEntry) => {
        const inner = entry.path.replace(/^(?:\.\/)+/, '');
        const name = `${display}!${inner}`;
        if (stopped || (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile')) {
          entry.resume();
          return;
        }
        if (pathAllowlisted(name, ctx.rules)) {
          entry.resume();
          return;
        }
        if (entry.size > ctx.maxFileBytes) {
          ctx.report.notes.push(`${name}: ${entry.size} bytes, over the ${ctx.maxFileBytes}-byte bound, not scanned`);
          entry.resume();
          return;
        }
        budget.left -= entry.size;
        if (budget.left < 0) {
          entry.resume();
          stop(`${display}: more than ${ctx.maxArchiveBytes} bytes unpacked; the rest of the archive was not scanned`);
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          if (stopped) return;
          const bytes = Buffer.concat(chunks);
          if (isArchiveName(inner) && depth < MAX_NESTING) nested.push(scanArchive(ctx, name, bytes, depth + 1, budget));
          else scanBytes(ctx, name, bytes);
        });
      },
    });
    parser.on('warn', (code: string, message: string | Error) => {
      if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT') stop(`${display}: not a readable tar archive (${typeof message === 'string' ? message : message.message}); not scanned further`);
    });
    parser.on('error', (e: Error) => stop(`${display}: not a readable tar archive (${e.message}); not scanned further`));
    parser.on('end', () => {
      if (stopped) return;
      stopped = true;
      Promise.all(nested).then(() => resolve(), () => resolve());
    });
    if (Buffer.isBuffer(source)) {
      parser.end(source);
    } else {
      source.on('error', (e) => stop(`${display}: cannot be read (${e.message})`));
      source.pipe(parser);
    }
  });
}

async function scanFile(ctx: Ctx, abs: string, display: string, size: number): Promise<void> {
  if (isArchiveName(display)) {
    await scanArchive(ctx, display, createReadStream(abs), 1, { left: ctx.maxArchiveBytes });
    return;
  }
  if (size > ctx.maxFileBytes) {
    ctx.report.notes.push(`${display}: ${size} bytes, over the ${ctx.maxFileBytes}-byte bound, not scanned`);
    return;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch (e) {
    ctx.report.notes.push(`${display}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}), not scanned`);
    return;
  }
  scanBytes(ctx, display, bytes);
}

async function walk(ctx: Ctx, root: string, dir: string): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    ctx.report.notes.push(`${relative(root, dir) || '.'}: cannot be listed (${(e as NodeJS.ErrnoException).code ?? 'error'}), not scanned`);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const abs = join(dir, e.name);
    const display = relative(root, abs).split(sep).join('/');
    if (pathAllowlisted(display, ctx.rules)) continue;
    if (e.isSymbolicLink()) {
      ctx.report.notes.push(`${display}: symbolic link, not followed`);
    } else if (e.isDirectory()) {
      await walk(ctx, root, abs);
    } else if (e.isFile()) {
      const st = await lstat(abs).catch(() => undefined);
      if (st) await scanFile(ctx, abs, display, st.size);
    }
  }
}

const newCtx = (root: string, opts: ScanPathOptions): Ctx => ({
  rules: opts.rules ?? defaultRules(),
  allowlist: opts.allowlist ?? [],
  maxFileBytes: opts.maxFileBytes ?? MAX_FILE_BYTES,
  maxArchiveBytes: opts.maxArchiveBytes ?? MAX_ARCHIVE_BYTES,
  report: { root, findings: [], suppressed: [], notes: [], filesScanned: 0, bytesScanned: 0 },
});

/**
 * Scan files stored under other names (e.g. blobs named by digest): each is reported, matched by
 * path rules and allowlists, and recognized as an archive by its `name`. A file that is missing
 * or not a regular file is a note, not a finding.
 */
export async function scanNamedFiles(root: string, files: readonly { name: string; path: string }[], opts: ScanPathOptions = {}): Promise<ScanReport> {
  const ctx = newCtx(root, opts);
  for (const f of files) {
    if (pathAllowlisted(f.name, ctx.rules)) continue;
    const st = await lstat(f.path).catch(() => undefined);
    if (!st?.isFile()) ctx.report.notes.push(`${f.name}: not stored, not scanned`);
    else await scanFile(ctx, f.path, f.name, st.size);
  }
  return ctx.report;
}

/** Scan a file, a folder (recursively) or a tar archive. Findings are ordered by file, then position. */
export async function scanPath(path: string, opts: ScanPathOptions = {}): Promise<ScanReport> {
  const ctx = newCtx(path, opts);
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    throw new DomainError(e.code === 'ENOENT' ? 'not_found' : 'invalid_input', `${path} cannot be scanned: ${e.code ?? e.message}`, {
      file: path,
      fix: 'pass an existing file, folder or .tar/.tar.gz/.tgz archive',
    });
  });
  if (st.isDirectory()) await walk(ctx, path, path);
  else if (st.isFile()) await scanFile(ctx, path, basename(path), st.size);
  else throw new DomainError('invalid_input', `${path} is neither a file nor a folder`, { file: path, fix: 'pass a regular file, a folder or an archive' });
  return ctx.report;
}
