/**
 * The durable data of a GitOps deploy step (what the engine records in the steps table before the
 * step starts): the render input built from the promotion's facts. Never a secret value: only the
 * effective configuration document (secret NAMES and their SOPS keys, no values) and public ids.
 * A problem found while preparing (no image, a bad configuration file) is recorded as `problem`, so
 * the step fails with that message instead of the engine retrying forever.
 */
import { z } from 'zod';
import { parseStepData } from '../step-data.ts';
import { DomainError, isDomainError } from '../../../domain/errors.ts';
import type { StepFacts } from '../../target.ts';
import type { GitopsTargetConfig } from './config.ts';
import { isValidApprover, MAX_APPROVERS } from './message.ts';
import { readEffectiveConfig } from './read-effective-config.ts';
import { renderManifests } from './render.ts';

export const MAX_STEP_DATA_BYTES = 512 * 1024;

const renderInput = z.strictObject({
  environment: z.string().max(63),
  service: z.string().max(63),
  version: z.string().max(128),
  releaseId: z.string().max(128),
  promotionId: z.string().max(128),
  images: z.array(z.strictObject({ name: z.string().max(63), ref: z.string().max(700) })).max(16),
  config: z.strictObject({ document: z.record(z.string().max(256), z.unknown()) }),
});

export const gitopsStepDataSchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('gitops'),
  target: z.string().max(63),
  promotionId: z.string().max(128),
  input: renderInput.optional(),
  approvers: z.array(z.string().max(200)).max(MAX_APPROVERS),
  problem: z.string().max(4000).optional(),
});
export type GitopsStepData = z.infer<typeof gitopsStepDataSchema>;

const errorText = (e: unknown) => (isDomainError(e) ? `${e.message}${e.details.fix ? `; ${e.details.fix}` : ''}` : e instanceof Error ? e.message : String(e));

/** container -> `repository@digest`, from the release's signed image subjects */
export function resolveImages(config: GitopsTargetConfig, f: StepFacts): { name: string; ref: string }[] {
  const images = (f.subjects ?? []).filter((s) => s.kind === 'image');
  const known = images.map((i) => i.name).join(', ') || 'none';
  if (!config.images) {
    const [only] = images;
    if (images.length !== 1 || !only) {
      throw new DomainError('invalid_input', `gitops target ${config.name}: release ${f.releaseId} of ${f.service}@${f.version} has ${images.length} images (${known}); with no \`images\` map the target needs exactly one`, {
        field: `targets.${config.name}.images`,
        fix: images.length === 0
          ? 'create the release with --image REPOSITORY@sha256:<digest> (the GitOps target deploys container images)'
          : `map container names to these repositories in targets.${config.name}.images, e.g. {app: ${images[0]?.name}}`,
      });
    }
    return [{ name: f.service, ref: `${only.name}@${only.digest}` }];
  }
  return Object.entries(config.images).map(([container, repo]) => {
    const img = images.find((i) => i.name === repo);
    if (!img) {
      throw new DomainError('invalid_input', `gitops target ${config.name}: images.${container} names ${repo}, but release ${f.releaseId} of ${f.service}@${f.version} carries no image ${repo} (its images: ${known})`, {
        field: `targets.${config.name}.images.${container}`,
        fix: `create the release with --image ${repo}@sha256:<digest>, or point images.${container} at one of the release's images`,
      });
    }
    return { name: container, ref: `${img.name}@${img.digest}` };
  });
}

export async function prepareGitopsData(config: GitopsTargetConfig, f: StepFacts): Promise<string> {
  const base = { v: 1 as const, type: 'gitops' as const, target: config.name, promotionId: f.promotionId };
  try {
    const approvers = [...(f.approvers ?? [])];
    if (approvers.length > MAX_APPROVERS || !approvers.every(isValidApprover)) {
      throw new DomainError('invalid_input', `gitops target ${config.name}: approvers must be at most ${MAX_APPROVERS} single-line names of 1 to 200 characters`, { field: 'approvers' });
    }
    const eff = await readEffectiveConfig(f.artifactsDir);
    const input = {
      environment: f.environment,
      service: f.service,
      version: f.version,
      releaseId: f.releaseId,
      promotionId: f.promotionId,
      images: resolveImages(config, f),
      config: { document: eff?.document ?? {} },
    };
    renderManifests(input); // every render problem now, while preparing, with its field
    const data = JSON.stringify({ ...base, input, approvers });
    if (Buffer.byteLength(data) > MAX_STEP_DATA_BYTES) {
      throw new DomainError('invalid_input', `gitops target ${config.name}: the effective configuration of ${f.service} is over ${MAX_STEP_DATA_BYTES} bytes`, {
        fix: 'keep configuration small; large data belongs in artifacts',
      });
    }
    return data;
  } catch (e) {
    return JSON.stringify({ ...base, approvers: [], problem: `deploy not started: ${errorText(e)}`.slice(0, 4000) });
  }
}

export const parseGitopsData = (data: string): GitopsStepData => parseStepData(gitopsStepDataSchema, data, 'gitops');
