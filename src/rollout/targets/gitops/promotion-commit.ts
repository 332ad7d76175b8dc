/**
 * Find the commit a promotion already made on a branch of the remote: the newest commit whose
 * `Promotion:` trailer (written by message.ts) is the promotion id. Used after a restart so a
 * promotion is never committed twice.
 */
import { DomainError } from '../../../domain/errors.ts';
import { lastLines, redactRemote } from './git-cli.ts';
import { GITOPS_ID_RE } from './input.ts';
import { openClone } from './workdir.ts';

export interface FindPromotionCommit {
  remote: string;
  workDir: string;
  branch: string;
  promotionId: string;
}

/** how far back to look on the branch: a restart resumes recent steps, not old ones */
const MAX_SCAN = 2000;

export async function findPromotionCommit(o: FindPromotionCommit): Promise<string | undefined> {
  if (!GITOPS_ID_RE.test(o.promotionId)) throw new DomainError('invalid_input', `"${o.promotionId.slice(0, 100)}" is not a promotion id`, { field: 'promotionId' });
  const git = await openClone(o.remote, o.workDir);
  const f = await git(['fetch', '-q', '--prune', 'origin'], { allowFail: true });
  if (!f.ok) {
    throw new DomainError('unavailable', `gitops: cannot fetch ${redactRemote(o.remote)}: ${lastLines(f.stderr)}`, {
      fix: 'check that the repository is reachable and readable by the stagegate server',
    });
  }
  const ref = `refs/remotes/origin/${o.branch}`;
  const exists = await git(['rev-parse', '--verify', '-q', `${ref}^{commit}`], { allowFail: true });
  if (!exists.ok) return undefined;
  const r = await git(['log', `--max-count=${MAX_SCAN}`, '--format=%H%x00%(trailers:key=Promotion,valueonly,separator=%x01)%x00', ref]);
  const fields = r.stdout.split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const commit = fields[i]?.trim() ?? '';
    const values = (fields[i + 1] ?? '').split('\x01').map((v) => v.trim());
    if (values.includes(o.promotionId)) return commit;
  }
  return undefined;
}
