/**
 * The working folder of a GitOps deploy: a clone of the remote, reset to the newest remote head of
 * the base branch (or an empty tree when the branch does not exist yet), with the service folder
 * replaced by the rendered files.
 */
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DomainError } from '../../../domain/errors.ts';
import { type Git, type GitIdentity, gitRunner, lastLines, redactRemote } from './git-cli.ts';
import type { RenderedFile } from './render.ts';

export const WORK_BRANCH = 'stagegate-work';

/** clone `remote` into `workDir` (or point an existing clone at it) and fetch; returns a runner in it */
export async function openClone(remote: string, workDir: string, identity?: GitIdentity): Promise<Git> {
  const hasGit = await stat(join(workDir, '.git')).then(() => true, () => false);
  if (!hasGit) {
    const entries = await readdir(workDir).catch(() => [] as string[]);
    if (entries.length > 0) {
      throw new DomainError('conflict', `gitops: working folder ${workDir} is not empty and is not a Git clone`, {
        file: workDir,
        fix: 'point workDir at an empty or missing folder that only stagegate uses',
      });
    }
    await mkdir(workDir, { recursive: true });
    const r = await gitRunner(workDir, identity)(['clone', '-q', '--no-checkout', remote, '.'], { allowFail: true });
    if (!r.ok) {
      throw new DomainError('unavailable', `gitops: cannot clone ${redactRemote(remote)}: ${lastLines(r.stderr)}`, {
        fix: 'check the repository URL and that the server can read it without a prompt (SSH key or credential helper)',
      });
    }
  }
  const git = gitRunner(workDir, identity);
  await git(['remote', 'set-url', 'origin', remote]);
  return git;
}

/** fetch, then check out the first of `bases` that exists on the remote; the commit, or null (empty tree) */
export async function resetToRemote(git: Git, remote: string, bases: readonly string[]): Promise<string | null> {
  const f = await git(['fetch', '-q', '--prune', 'origin'], { allowFail: true });
  if (!f.ok) {
    throw new DomainError('unavailable', `gitops: cannot fetch ${redactRemote(remote)}: ${lastLines(f.stderr)}`, {
      fix: 'check that the repository is reachable and readable by the stagegate server',
    });
  }
  let base: string | null = null;
  for (const b of bases) {
    const r = await git(['rev-parse', '--verify', '-q', `refs/remotes/origin/${b}^{commit}`], { allowFail: true });
    if (r.ok) {
      base = r.stdout.trim();
      break;
    }
  }
  if (base) {
    await git(['checkout', '-q', '-f', '-B', WORK_BRANCH, base]);
  } else {
    await git(['update-ref', '-d', `refs/heads/${WORK_BRANCH}`], { allowFail: true });
    await git(['symbolic-ref', 'HEAD', `refs/heads/${WORK_BRANCH}`]);
    await git(['read-tree', '--empty']);
  }
  await git(['clean', '-q', '-f', '-d', '-x']);
  return base;
}

/** replace `dir` with `files` (files no longer rendered disappear); stage it; the staged paths that changed */
export async function writeServiceDir(git: Git, workDir: string, dir: string, files: readonly RenderedFile[]): Promise<string[]> {
  await rm(join(workDir, dir), { recursive: true, force: true });
  for (const f of files) await writeRepoFile(workDir, f);
  await git(['add', '-A', '--', dir]);
  return stagedChanges(git);
}

export async function writeRepoFile(workDir: string, f: RenderedFile): Promise<void> {
  const target = join(workDir, ...f.path.split('/'));
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, f.content);
}

export async function stagedChanges(git: Git): Promise<string[]> {
  const r = await git(['diff', '--cached', '--name-only', '-z']);
  return r.stdout.split('\0').filter(Boolean).sort();
}
