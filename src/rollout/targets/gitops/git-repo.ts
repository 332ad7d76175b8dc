/**
 * Deploy rendered manifests to a Git repository: clone/fetch, replace the service folder, commit with
 * a message naming the release, promotion and approvers, push. A push rejected because the remote
 * moved is retried on top of the new head (the files are re-applied, never merged) with backoff.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { DomainError } from '../../../domain/errors.ts';
import { DEFAULT_IDENTITY, type GitIdentity, lastLines, redactRemote } from './git-cli.ts';
import { commitMessage, isValidApprover, MAX_APPROVERS, mergeRequestFile, mergeRequestPath, promotionBranch } from './message.ts';
import type { RenderedManifests } from './render.ts';
import { openClone, resetToRemote, stagedChanges, writeRepoFile, writeServiceDir } from './workdir.ts';

export interface GitopsRepoOptions {
  /** URL or path of the remote repository */
  remote: string;
  /** a folder only this deploy uses (one deploy at a time per folder) */
  workDir: string;
  /** the branch Argo CD / Flux syncs from; default `main` */
  branch?: string;
  /** push to `stagegate/<env>/<service>/<promotion>` with a merge-request file instead */
  branchMode?: boolean;
  clock: () => Date;
  identity?: GitIdentity;
  /** retries after a rejected push; default 3 */
  retries?: number;
  /** first backoff in ms, doubled per retry; default 500 */
  backoffMs?: number;
  /** test seam: runs after the commit and before each push */
  beforePush?: (attempt: number) => Promise<void>;
}
export interface GitopsDeployResult {
  /** the commit now holding the files; null only when nothing was pushed to an empty branch */
  commit: string | null;
  branch: string;
  changedFiles: string[];
  /** true when the render was identical to the branch: no commit was made */
  noop: boolean;
  attempts: number;
  summary: string;
}

const BRANCH_RE = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}(?<![./])$/;

function checkOptions(o: GitopsRepoOptions, approvers: readonly string[]) {
  const branch = o.branch ?? 'main';
  if (!BRANCH_RE.test(branch) || branch.endsWith('.lock')) {
    throw new DomainError('invalid_input', `gitops: "${branch.slice(0, 100)}" is not a valid branch name`, { field: 'branch', fix: 'use a branch name such as main or deploy/prod' });
  }
  if (approvers.length > MAX_APPROVERS || !approvers.every(isValidApprover)) {
    throw new DomainError('invalid_input', `gitops: approvers must be at most ${MAX_APPROVERS} single-line names of 1 to 200 characters`, { field: 'approvers', fix: 'pass the approvers recorded on the promotion' });
  }
  const retries = o.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0 || retries > 20) {
    throw new DomainError('invalid_input', 'gitops: retries must be a whole number from 0 to 20', { field: 'retries', fix: 'use e.g. 3' });
  }
  return { branch, retries, backoffMs: Math.min(Math.max(o.backoffMs ?? 500, 0), 60_000) };
}

function rejection(out: string): { moved: boolean; reason: string } {
  if (/non-fast-forward|fetch first|\[rejected\]|cannot lock ref.*but expected/.test(out)) return { moved: true, reason: 'the remote branch moved (non-fast-forward)' };
  if (/remote rejected|hook declined|protected branch/i.test(out)) return { moved: false, reason: 'the remote refused the push (a hook or branch protection)' };
  return { moved: false, reason: 'the push failed' };
}

export async function deployToGit(m: RenderedManifests, approvers: readonly string[], o: GitopsRepoOptions): Promise<GitopsDeployResult> {
  const { branch: target, retries, backoffMs } = checkOptions(o, approvers);
  const pushBranch = o.branchMode ? promotionBranch(m) : target;
  const bases = o.branchMode ? [pushBranch, target] : [target];
  const git = await openClone(o.remote, o.workDir, o.identity ?? DEFAULT_IDENTITY);
  let last = { moved: false, reason: '', detail: '' };
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await delay(backoffMs * 2 ** (attempt - 1));
    const base = await resetToRemote(git, o.remote, bases);
    const changed = await writeServiceDir(git, o.workDir, m.dir, m.files);
    if (changed.length === 0) {
      return { commit: base, branch: pushBranch, changedFiles: [], noop: true, attempts: attempt + 1, summary: `${m.dir} on ${pushBranch} already matches ${m.service}@${m.version}: no commit` };
    }
    if (o.branchMode) {
      await writeRepoFile(o.workDir, { path: mergeRequestPath(m), content: mergeRequestFile(m, target, approvers) });
      await git(['add', '--', mergeRequestPath(m)]);
    }
    const files = await stagedChanges(git);
    await git(['commit', '-q', '--no-verify', '-m', commitMessage(m, approvers)], { date: o.clock() });
    const commit = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    await o.beforePush?.(attempt);
    const p = await git(['push', '--porcelain', 'origin', `HEAD:refs/heads/${pushBranch}`], { allowFail: true });
    if (p.ok) {
      return { commit, branch: pushBranch, changedFiles: files, noop: false, attempts: attempt + 1, summary: `committed ${m.service}@${m.version} to ${pushBranch} as ${commit.slice(0, 12)}` };
    }
    last = { ...rejection(`${p.stdout}\n${p.stderr}`), detail: lastLines(`${p.stdout}\n${p.stderr}`) };
  }
  const remote = redactRemote(o.remote);
  throw new DomainError('conflict', `gitops: pushing ${m.service}@${m.version} to branch ${pushBranch} of ${remote} failed ${retries + 1} times: ${last.reason} (${last.detail})`, {
    field: 'branch',
    remote,
    branch: pushBranch,
    fix: last.moved
      ? `another writer keeps pushing to ${pushBranch}; retry the promotion later, or use branch mode so stagegate pushes to its own branch`
      : `make ${remote} accept pushes to ${pushBranch} from the stagegate identity (check its hooks and branch protection), or use branch mode and merge the merge request`,
  });
}
