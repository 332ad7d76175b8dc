/**
 * SHA-256 digests as stagegate writes them (`sha256:<hex>`), file hashing by streaming, and
 * constant-time comparisons.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';

/** Read size for file hashing: large chunks keep throughput near in-memory hashing. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function digestOf(bytes: Uint8Array | string): Digest {
  return `sha256:${sha256Hex(bytes)}`;
}

export interface FileDigest {
  digest: Digest;
  size: number;
}

/**
 * Hash a file without holding it in memory: two reused buffers, the next read in flight while the
 * current chunk is hashed (faster than a read stream, which allocates a buffer per chunk and does not
 * overlap reading with hashing). Memory stays at 2 x CHUNK_BYTES whatever the file size.
 */
export async function sha256File(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    const file = await open(path, 'r');
    try {
      let current = Buffer.allocUnsafe(CHUNK_BYTES);
      let spare = Buffer.allocUnsafe(CHUNK_BYTES);
      let pending = file.read(current, 0, CHUNK_BYTES, null);
      for (;;) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) break;
        const chunk = current.subarray(0, bytesRead);
        [current, spare] = [spare, current];
        pending = file.read(current, 0, CHUNK_BYTES, null);
        hash.update(chunk);
        size += bytesRead;
      }
    } finally {
      await file.close();
    }
  } catch (e) {
    throw fileError(e, path);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function fileError(e: unknown, path: string): DomainError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new DomainError('not_found', `file ${path} does not exist`, {
      file: path,
      fix: 'check the path; relative paths are resolved from the current directory',
    });
  }
  if (code === 'EISDIR') {
    return new DomainError('invalid_input', `${path} is a directory, not a file`, {
      file: path,
      fix: 'pass a regular file (use --config DIR for a directory of configuration files)',
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new DomainError('invalid_input', `file ${path} cannot be read: permission denied`, {
      file: path,
      fix: 'make the file readable by this user',
    });
  }
  return new DomainError('invalid_input', `file ${path} cannot be read: ${String((e as Error)?.message ?? e)}`, {
    file: path,
    fix: 'check that the path names a readable regular file',
  });
}

/** Constant-time equality of two byte strings; false when the lengths differ. */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return timingSafeEqual(a, b);
}

/** Constant-time equality of two hex (or any) strings, compared as UTF-8 bytes. */
export function timingSafeEqualHex(a: string, b: string): boolean {
  return timingSafeEqualBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
