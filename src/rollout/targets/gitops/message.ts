/**
 * The commit message of a GitOps deploy and the merge-request file of branch mode. The message ends
 * in git trailers (`git interpret-trailers --parse` reads them): release, promotion, environment,
 * config digest and one `Approved-by:` per approver.
 */
import type { RenderedManifests } from './render.ts';

export const MAX_APPROVERS = 50;
const APPROVER_RE = /^[^\r\n\0]{1,200}$/;

export interface MergeRequestFile {
  sourceBranch: string;
  targetBranch: string;
  title: string;
  body: string;
  environment: string;
  service: string;
  version: string;
  releaseId: string;
  promotionId: string;
  approvers: string[];
}

export const isValidApprover = (a: string) => APPROVER_RE.test(a) && a.trim() === a;

export const commitTitle = (m: RenderedManifests) => `deploy ${m.service}@${m.version} to ${m.environment}`;

export function commitBody(m: RenderedManifests, approvers: readonly string[]): string {
  const trailers = [
    `Release: ${m.releaseId}`,
    `Promotion: ${m.promotionId}`,
    `Environment: ${m.environment}`,
    `Service: ${m.service}`,
    `Version: ${m.version}`,
    `Config-Digest: ${m.configDigest}`,
    ...approvers.map((a) => `Approved-by: ${a}`),
  ];
  return `Promotion ${m.promotionId} of release ${m.releaseId}, rendered into ${m.dir}/.\n\n${trailers.join('\n')}`;
}

export const commitMessage = (m: RenderedManifests, approvers: readonly string[]) => `${commitTitle(m)}\n\n${commitBody(m, approvers)}\n`;

export const promotionBranch = (m: RenderedManifests) => `stagegate/${m.environment}/${m.service}/${m.promotionId}`;
export const mergeRequestPath = (m: RenderedManifests) => `.stagegate/merge-requests/${m.promotionId}.json`;

export function mergeRequestFile(m: RenderedManifests, targetBranch: string, approvers: readonly string[]): string {
  const mr: MergeRequestFile = {
    sourceBranch: promotionBranch(m),
    targetBranch,
    title: commitTitle(m),
    body: commitBody(m, approvers),
    environment: m.environment,
    service: m.service,
    version: m.version,
    releaseId: m.releaseId,
    promotionId: m.promotionId,
    approvers: [...approvers],
  };
  return `${JSON.stringify(mr, null, 2)}\n`;
}
