/**
 * Content-addressed blob store on the local filesystem: `dir/sha256/<first 2 hex>/<64 hex>`.
 *
 * Uploads stream to `dir/tmp/` while being hashed (never buffered whole), are fsynced, then renamed
 * into place atomically, so a reader never sees a partial blob. Only validated lowercase hex from a
 * digest ever becomes a path component.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, openSync } from 'node:fs';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { DomainError } from '../domain/errors.ts';
import { DIGEST_RE, type Digest } from '../domain/ids.ts';

export interface PutOptions {
  /** when given, the upload is refused unless its bytes hash to this digest */
  expectedDigest?: string;
  /** the upload is refused as soon as it grows past this many bytes */
  maxBytes: number;
}

export interface BlobStore {
  put(stream: Readable, opts: PutOptions): Promise<{ digest: Digest; size: number }>;
  has(digest: string): Promise<boolean>;
  /** a stream of the blob's bytes; throws DomainError('not_found') when the store does not hold it */
  openRead(digest: string): Readable;
  /** the absolute path the blob lives (or would live) at */
  pathOf(digest: string): string;
  /** the blob's size in bytes; throws DomainError('not_found') when the store does not hold it */
  size(digest: string): Promise<number>;
}

/** Refuse anything but `sha256:` + 64 lowercase hex; return the hex. */
function hexOf(digest: unknown, field: string): string {
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    const shown = typeof digest === 'string' ? JSON.stringify(digest.slice(0, 100)) : typeof digest;
    throw new DomainError('invalid_input', `${field} ${shown} is not a digest`, {
      field,
      fix: 'write digests as sha256: followed by 64 lowercase hex characters',
    });
  }
  return digest.slice('sha256:'.length);
}

function notFound(digest: string): DomainError {
  return new DomainError('not_found', `blob ${digest} is not in the blob store`, {
    fix: 'upload the artifact first (stagegate release push uploads the subjects it signs)',
  });
}

const isMissing = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';

export function createBlobStore(deps: { dir: string }): BlobStore {
  const root = resolve(deps.dir);
  const tmpDir = join(root, 'tmp');
  const pathOf = (digest: string): string => {
    const hex = hexOf(digest, 'digest');
    return join(root, 'sha256', hex.slice(0, 2), hex);
  };

  async function put(stream: Readable, opts: PutOptions): Promise<{ digest: Digest; size: number }> {
    const expectedHex = opts.expectedDigest === undefined ? undefined : hexOf(opts.expectedDigest, 'expectedDigest');
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0) {
      throw new DomainError('invalid_input', `maxBytes ${String(opts.maxBytes)} is not a byte count`, {
        field: 'maxBytes',
        fix: 'pass a non-negative integer limit',
      });
    }
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.part`);
    const fh = await open(tmp, 'wx', 0o600);
    let closed = false;
    try {
      const hash = createHash('sha256');
      let size = 0;
      // for-await pulls one chunk at a time and destroys the source if we throw: bounded memory
      for await (const raw of stream) {
        const chunk: unknown = typeof raw === 'string' ? Buffer.from(raw) : raw;
        if (!(chunk instanceof Uint8Array)) {
          throw new DomainError('invalid_input', 'upload stream yielded a chunk that is not bytes', {
            fix: 'send the artifact as a byte stream',
          });
        }
        size += chunk.byteLength;
        if (size > opts.maxBytes) {
          throw new DomainError('payload_too_large', `upload is larger than the limit of ${opts.maxBytes} bytes`, {
            limit: opts.maxBytes,
            fix: 'upload a smaller artifact, or raise the upload limit in the server configuration',
          });
        }
        hash.update(chunk);
        let off = 0;
        while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
      }
      await fh.sync();
      await fh.close();
      closed = true;
      const hex = hash.digest('hex');
      const digest: Digest = `sha256:${hex}`;
      if (expectedHex !== undefined && expectedHex !== hex) {
        throw new DomainError(
          'digest_mismatch',
          `uploaded bytes hash to ${digest}, but sha256:${expectedHex} was expected`,
          {
            expected: `sha256:${expectedHex}`,
            actual: digest,
            fix: 'upload the exact file the release signs; rebuild the release if the file changed',
          },
        );
      }
      const finalDir = join(root, 'sha256', hex.slice(0, 2));
      const finalPath = join(finalDir, hex);
      if (await exists(finalPath)) {
        await unlink(tmp);
        return { digest, size };
      }
      await mkdir(finalDir, { recursive: true });
      // blobs are immutable: read-only, also where the gates hard-link them into a promotion folder
      await chmod(tmp, 0o444);
      await rename(tmp, finalPath);
      await syncDir(finalDir);
      return { digest, size };
    } catch (e) {
      if (!closed) await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  return {
    put,
    pathOf,
    async has(digest) {
      return exists(pathOf(digest));
    },
    openRead(digest) {
      const path = pathOf(digest);
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        if (isMissing(e)) throw notFound(digest);
        throw e;
      }
      return createReadStream(path, { fd });
    },
    async size(digest) {
      const path = pathOf(digest);
      try {
        return (await stat(path)).size;
      } catch (e) {
        if (isMissing(e)) throw notFound(digest);
        throw e;
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

/** Make the rename durable: fsync the directory that holds the new entry. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
