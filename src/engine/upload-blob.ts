/** Use-case: stream an artifact into the content-addressed blob store, checked against its digest. */
import type { Readable } from 'node:stream';
import { DomainError } from '../domain/errors.ts';
import { isDigest } from '../domain/ids.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { projectResource } from './guard.ts';

export function createBlobUpload(deps: Pick<EngineDeps, 'blobs' | 'store' | 'project'>, audit: AuditWriter) {
  return async function uploadBlob(ctx: RequestContext, digest: string, body: Readable, maxBytes: number) {
    const subject = `blob:${digest.slice(0, 80)}`;
    await audit.guard(ctx, 'blob.upload', projectResource(deps.project));
    if (!isDigest(digest)) {
      await audit.denied(ctx, { action: 'blob.upload', subject, details: { reason: 'not a sha256 digest' } });
      throw new DomainError('invalid_input', 'blob address must be sha256:<64 lowercase hex>', { field: 'digest', fix: 'PUT /v1/blobs/sha256:<hex of the file>' });
    }
    if (await deps.blobs.has(digest)) {
      body.resume();
      return { digest, size: await deps.blobs.size(digest), created: false };
    }
    try {
      const r = await deps.blobs.put(body, { expectedDigest: digest, maxBytes });
      await deps.store.transaction((tx) =>
        audit.record(tx, ctx, { action: 'blob.upload', outcome: 'succeeded', subject, details: { size: r.size } }),
      );
      return { ...r, created: true };
    } catch (e) {
      if (e instanceof DomainError) {
        await audit.denied(ctx, { action: 'blob.upload', subject, details: { reason: e.message } });
      }
      throw e;
    }
  };
}
