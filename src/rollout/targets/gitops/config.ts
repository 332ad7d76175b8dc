/**
 * The `gitops` target as stagegate.yaml declares it (zod, the edge parser) and its normalized shape:
 * relative remote paths resolved against the project directory, seconds turned into milliseconds.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { NAME_RE } from '../../../domain/ids.ts';

/** a folder template: `/`-separated segments of [A-Za-z0-9._-] and placeholders, none starting with `.` (so no `..`, no `.stagegate`) */
const PATH_RE = /^(?:[A-Za-z0-9_{}-][A-Za-z0-9._{}-]{0,63})(?:\/[A-Za-z0-9_{}-][A-Za-z0-9._{}-]{0,63}){0,7}$/;
const BRANCH_RE = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}(?<![./])$/;
/** a credential in a URL that would end up in the project file: `scheme://user:password@`, or any user-info over http(s) (a token) */
const URL_PASSWORD_RE = /^(?:[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@|https?:\/\/[^/@]*@)/i;
export const DEFAULT_GITOPS_PATH = '{environment}/{service}';

const containerName = z.string().max(63).regex(NAME_RE, 'a container name: lowercase letters, digits, dashes');

export const gitopsTargetSchema = z
  .strictObject({
    type: z.literal('gitops'),
    remote: z
      .string()
      .min(1)
      .max(2048)
      .regex(/^[^\s\x00-\x1f]+$/, 'a URL or path without spaces')
      .refine((s) => !URL_PASSWORD_RE.test(s), 'no password or token in the URL: use an SSH key or a git credential helper on the server')
      .describe('URL (https://, ssh://, git@host:path) or path of the Git repository Argo CD / Flux syncs from; a relative path is resolved against the project directory'),
    path: z
      .string()
      .max(200)
      .regex(PATH_RE, 'a relative folder such as {environment}/{service} or clusters/{environment}/apps/{service}')
      .regex(/^(?=.*\{environment\})(?=.*\{service\})/, 'must contain {environment} and {service}, so services and environments never share a folder')
      .regex(/^(?:[^{}]|\{environment\}|\{service\})*$/, 'the only placeholders are {environment} and {service}')
      .optional()
      .describe('folder of one service in one environment inside the repository, replaced whole by each deploy; {environment} and {service} are filled in (default {environment}/{service})'),
    branch: z.string().max(200).regex(BRANCH_RE, 'a branch name such as main or deploy/prod').default('main').describe('the branch Argo CD / Flux syncs from (default main)'),
    branchMode: z
      .boolean()
      .default(false)
      .describe('push each promotion to its own branch stagegate/<environment>/<service>/<promotion> with a merge-request file instead of to `branch`; the deploy happens when someone merges it'),
    images: z
      .record(containerName, z.string().min(1).max(512).regex(/^[^\s@:]+(?::\d+)?(?:\/[^\s@:]+)*$/, 'an image repository without tag or digest, e.g. ghcr.io/acme/checkout'))
      .refine((o) => Object.keys(o).length >= 1 && Object.keys(o).length <= 16, 'from 1 to 16 containers')
      .meta({ minProperties: 1, maxProperties: 16 })
      .optional()
      .describe('container name -> image repository as the release records it (`stagegate release create --image REPO@sha256:...`); the digest comes from the signed release. Default: one container named after the service, when the release has exactly one image'),
    retries: z.number().int().min(0).max(20).default(3).describe('push attempts after the first when the branch moved or the push failed (backoff 0.5s, doubled)'),
    timeoutSeconds: z.number().int().min(1).max(3600).default(300).describe('limit for the whole deploy (clone or fetch, commit, push, retries)'),
  })
  .describe('renders Kubernetes manifests (images pinned by digest, the effective configuration) and commits them to a Git repository that Argo CD or Flux syncs; see docs/gitops.md');

export type GitopsTargetInput = z.output<typeof gitopsTargetSchema>;

export interface GitopsTargetConfig {
  /** the target's name under `targets` */
  name: string;
  type: 'gitops';
  /** a URL, or an absolute path */
  remote: string;
  /** folder template with {environment} and {service} */
  path: string;
  branch: string;
  branchMode: boolean;
  /** container name -> image repository of a release image subject; absent: the release's only image */
  images?: Record<string, string>;
  retries: number;
  timeoutMs: number;
}

/** a path for the local file system (not `scheme://`, not scp-like `host:path`) */
export function isLocalRemote(remote: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) return false;
  const colon = remote.indexOf(':');
  return colon < 0 || (remote.indexOf('/') >= 0 && remote.indexOf('/') < colon);
}

export function normalizeGitopsTarget(name: string, t: GitopsTargetInput, projectDir: string): GitopsTargetConfig {
  const remote = isLocalRemote(t.remote) && !isAbsolute(t.remote) ? resolve(projectDir, t.remote) : t.remote;
  return {
    name,
    type: 'gitops',
    remote,
    path: t.path ?? DEFAULT_GITOPS_PATH,
    branch: t.branch,
    branchMode: t.branchMode,
    ...(t.images ? { images: t.images } : {}),
    retries: t.retries,
    timeoutMs: t.timeoutSeconds * 1000,
  };
}

/** the folder of `service` in `environment` */
export const gitopsDir = (template: string, environment: string, service: string): string =>
  template.replaceAll('{environment}', environment).replaceAll('{service}', service);
