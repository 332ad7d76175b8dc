/**
 * The input of a GitOps render, checked at the edge: names, version, ids and images bounded; every
 * image pinned by digest (a tag alone is refused); the effective configuration document a JSON object.
 */
import { z } from 'zod';
import { zodProblem } from '../../../crypto/dsse.ts';
import { DomainError } from '../../../domain/errors.ts';
import { DIGEST_RE, NAME_RE, parseImageRef, VERSION_RE } from '../../../domain/ids.ts';

/** release and promotion ids: used in branch names and file names, so no path characters */
export const GITOPS_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export const renderInputSchema = z.strictObject({
  environment: z.string().regex(NAME_RE, 'an environment name: lowercase letters, digits, dashes'),
  service: z.string().regex(NAME_RE, 'a service name: lowercase letters, digits, dashes'),
  version: z.string().regex(VERSION_RE, 'a version such as 1.4.2'),
  releaseId: z
    .string()
    .max(128)
    .refine((s) => GITOPS_ID_RE.test(s) || DIGEST_RE.test(s), 'a release id (sha256:<64 hex>, or letters, digits, _ and -)'),
  promotionId: z.string().regex(GITOPS_ID_RE, 'a promotion id (letters, digits, _ and -)'),
  images: z
    .array(z.strictObject({ name: z.string().regex(NAME_RE, 'a container name: lowercase letters, digits, dashes'), ref: z.string().min(1).max(512) }))
    .min(1, 'at least one image')
    .max(16, 'at most 16 images')
    .refine((a) => new Set(a.map((i) => i.name)).size === a.length, 'container names must be unique'),
  /** an EffectiveConfig (src/parity/config/effective-config.ts) or any object with its `document` */
  config: z.looseObject({ document: z.record(z.string().max(256), z.unknown()) }),
});

export type RenderInput = z.input<typeof renderInputSchema>;
export interface CheckedImage {
  name: string;
  /** repository@sha256:hex (a tag next to the digest is dropped: the digest is what runs) */
  ref: string;
}
export type CheckedRenderInput = Omit<z.output<typeof renderInputSchema>, 'images'> & { images: CheckedImage[] };

export function checkRenderInput(value: unknown): CheckedRenderInput {
  const r = renderInputSchema.safeParse(value);
  if (!r.success) {
    const { field, message } = zodProblem(r.error);
    throw new DomainError('invalid_input', `gitops render: ${field || 'input'}: ${message}`, {
      field,
      fix: 'pass service, version, releaseId, promotionId, environment, images [{name, ref}] and the effective config',
    });
  }
  const images = r.data.images
    .map((img, i) => {
      try {
        const p = parseImageRef(img.ref);
        return { name: img.name, ref: `${p.repository}@${p.digest}` };
      } catch (e) {
        if (e instanceof DomainError) throw new DomainError(e.code, `gitops render: images[${i}] (${img.name}): ${e.message}`, { ...e.details, field: `images[${i}].ref` });
        throw e;
      }
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...r.data, images };
}
