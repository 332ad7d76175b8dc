/**
 * The text files of release artifacts, for the hard-coded value check: plain files, and the
 * entries of .tar/.tar.gz/.tgz archives unpacked in memory. Bounded: files over 10 MiB, binary
 * files (a NUL byte in the first 8 KiB) and anything past 64 MiB in total are skipped.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Parser, type ReadEntry } from 'tar';

export const MAX_TEXT_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

export interface ArtifactText {
  name: string;
  text: string;
}

const isArchive = (name: string) => /\.(?:tar|tgz|tar\.gz)$/i.test(name);
const isBinary = (b: Uint8Array) => b.subarray(0, 8192).includes(0);
const decoder = new TextDecoder('utf-8', { fatal: false });

function unpack(path: string, display: string, budget: { left: number }, out: ArtifactText[]): Promise<void> {
  return new Promise((resolve) => {
    const source = createReadStream(path);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      source.destroy();
      resolve();
    };
    const parser = new Parser({
      strict: false,
      onReadEntry: (entry: ReadEntry) => {
        if (done || entry.type !== 'File' || entry.size > MAX_TEXT_FILE_BYTES || entry.size > budget.left) {
          entry.resume();
          return;
        }
        budget.left -= entry.size;
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          const bytes = Buffer.concat(chunks);
          if (!isBinary(bytes)) out.push({ name: `${display}!${entry.path.replace(/^(?:\.\/)+/, '')}`, text: decoder.decode(bytes) });
        });
      },
    });
    parser.on('end', finish);
    parser.on('error', finish);
    source.on('error', finish);
    source.pipe(parser);
  });
}

/** `files`: [display name, path] of each artifact */
export async function readArtifactTexts(files: ReadonlyArray<{ name: string; path: string }>): Promise<ArtifactText[]> {
  const out: ArtifactText[] = [];
  const budget = { left: MAX_TOTAL_BYTES };
  for (const f of files) {
    const st = await stat(f.path).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (isArchive(f.name)) {
      await unpack(f.path, f.name, budget, out);
      continue;
    }
    if (st.size > MAX_TEXT_FILE_BYTES || st.size > budget.left) continue;
    budget.left -= st.size;
    const bytes = await readFile(f.path);
    if (!isBinary(bytes)) out.push({ name: f.name, text: decoder.decode(bytes) });
  }
  return out;
}
