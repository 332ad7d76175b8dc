/**
 * The `git` CLI through async execFile: no shell, no prompts, a fixed identity and date for commits,
 * bounded output. Remote URLs are shown without their user-info (a token in a URL never reaches a message).
 */
import { execFile } from 'node:child_process';
import { DomainError } from '../../../domain/errors.ts';

export interface GitIdentity {
  name: string;
  email: string;
}
export interface GitResult {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
}
export type Git = (args: string[], opts?: { allowFail?: boolean; date?: Date }) => Promise<GitResult>;

export const DEFAULT_IDENTITY: GitIdentity = { name: 'stagegate', email: 'stagegate@localhost' };
const MAX_OUTPUT = 8 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

/** `https://user:token@host/x.git` -> `https://host/x.git` */
export const redactRemote = (remote: string): string => remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').slice(0, 300);

const gitDate = (d: Date) => `@${Math.floor(d.getTime() / 1000)} +0000`;

/** the server's environment without variables that would point git at another repository or config */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS))$/.test(k)) delete env[k];
  return env;
}

/** a git runner bound to a working folder (`cwd`) */
export function gitRunner(cwd: string, identity: GitIdentity = DEFAULT_IDENTITY): Git {
  return (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = {
        ...inheritedEnv(),
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: '',
        SSH_ASKPASS: '',
        // no interactive host-key or passphrase prompt when the remote is reached over SSH
        GIT_SSH_COMMAND: process.env['GIT_SSH_COMMAND'] ?? 'ssh -o BatchMode=yes',
        LC_ALL: 'C',
        GIT_AUTHOR_NAME: identity.name,
        GIT_AUTHOR_EMAIL: identity.email,
        GIT_COMMITTER_NAME: identity.name,
        GIT_COMMITTER_EMAIL: identity.email,
        ...(opts.date ? { GIT_AUTHOR_DATE: gitDate(opts.date), GIT_COMMITTER_DATE: gitDate(opts.date) } : {}),
      };
      const full = ['-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', '-c', 'init.defaultBranch=main', ...args];
      execFile('git', full, { cwd, env, maxBuffer: MAX_OUTPUT, timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (e && e.code === 'ENOENT') {
          reject(new DomainError('unavailable', 'the git command was not found on PATH', { fix: 'install git (2.30 or newer) on the stagegate server' }));
          return;
        }
        const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
        const res = { ok: code === 0, code, stdout: String(stdout), stderr: String(stderr) };
        if (!res.ok && !opts.allowFail) {
          reject(new DomainError('unavailable', `git ${args[0]} failed in ${cwd}: ${lastLines(res.stderr)}`, { fix: 'check that the repository is reachable and the working folder is not used by another process' }));
          return;
        }
        resolve(res);
      });
    });
}

/** the last few lines of git's stderr, bounded, for an error message */
export const lastLines = (text: string): string =>
  text
    .trim()
    .split('\n')
    .slice(-4)
    .join(' | ')
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1')
    .slice(0, 600);
