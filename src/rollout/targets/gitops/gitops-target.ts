/**
 * The `gitops` target: the deploy step renders the environment's manifests and commits them to the
 * repository Argo CD or Flux syncs from (renderManifests + deployToGit, in-process). No verify step.
 * After a restart `adopt` first looks for a commit carrying this promotion's `Promotion:` trailer on
 * the branch, so a promotion is committed at most once.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { isDomainError } from '../../../domain/errors.ts';
import { formatDuration } from '../../../engine/duration.ts';
import type { StepFacts, Target, TargetStep, TargetStepHandle, TargetStepOutcome } from '../../target.ts';
import { type GitopsTargetConfig, gitopsDir, isLocalRemote } from './config.ts';
import { redactRemote } from './git-cli.ts';
import { deployToGit } from './git-repo.ts';
import { mergeRequestPath, promotionBranch } from './message.ts';
import { type RenderedManifests, renderManifests } from './render.ts';
import { findPromotionCommit } from './promotion-commit.ts';
import { type GitopsStepData, parseGitopsData, prepareGitopsData } from './step-data.ts';
import { withWorkDirLock } from './work-lock.ts';

export interface GitopsTargetDeps {
  config: GitopsTargetConfig;
  /** the project directory (relative remotes were resolved against it when the config was normalized) */
  projectDir: string;
  /** clones live in `<workRoot>/<environment>/<service>` */
  workRoot: string;
  clock: () => Date;
  logger: Pick<Logger, 'info' | 'warn'>;
}

const failed = (message: string, outputTail = ''): TargetStepOutcome => ({ status: 'failed', message, exitCode: null, outputTail });
const succeeded = (message: string, outputTail = ''): TargetStepOutcome => ({ status: 'succeeded', message, exitCode: null, outputTail });
const errorText = (e: unknown) => (isDomainError(e) ? `${e.message}${e.details.fix ? `; ${e.details.fix}` : ''}` : e instanceof Error ? e.message : String(e));

/** the rendered files moved from `<env>/<service>` to the configured folder */
function relocate(m: RenderedManifests, dir: string): RenderedManifests {
  if (dir === m.dir) return m;
  return { ...m, dir, files: m.files.map((f) => ({ ...f, path: `${dir}${f.path.slice(m.dir.length)}` })) };
}

export function createGitopsTarget(deps: GitopsTargetDeps): Target {
  const { clock, logger } = deps;
  const config = isLocalRemote(deps.config.remote) && !isAbsolute(deps.config.remote) ? { ...deps.config, remote: resolve(deps.projectDir, deps.config.remote) } : deps.config;
  const remote = redactRemote(config.remote);

  async function deploy(d: GitopsStepData, how: 'launch' | 'adopt'): Promise<TargetStepOutcome> {
    if (d.problem || !d.input) return failed(d.problem ?? 'gitops step data has no render input');
    const input = d.input;
    const m = relocate(renderManifests(input), gitopsDir(config.path, input.environment, input.service));
    const branch = config.branchMode ? promotionBranch(m) : config.branch;
    const name = `${input.service}@${input.version}`;
    const workDir = join(deps.workRoot, input.environment, input.service);
    return withWorkDirLock(workDir, async () => {
      if (how === 'adopt') {
        const found = await findPromotionCommit({ remote: config.remote, workDir, branch, promotionId: d.promotionId });
        if (found) {
          logger.info({ target: config.name, promotion: d.promotionId, commit: found }, 'gitops step adopted: already committed');
          return succeeded(`${name} for promotion ${d.promotionId} is already committed to ${branch} of ${remote} as ${found.slice(0, 12)} (found after a restart; not committed again)`);
        }
      }
      const r = await deployToGit(m, d.approvers, { remote: config.remote, workDir, branch: config.branch, branchMode: config.branchMode, clock, retries: config.retries });
      logger.info({ target: config.name, promotion: d.promotionId, commit: r.commit, branch: r.branch, attempts: r.attempts, noop: r.noop }, 'gitops deploy done');
      const files = r.changedFiles.join('\n');
      if (r.noop) return succeeded(`${m.dir}/ on ${r.branch} of ${remote} already matches ${name}: no commit needed${r.commit ? ` (head ${r.commit.slice(0, 12)})` : ''}`);
      const changed = `${r.changedFiles.length} file(s) changed in ${m.dir}/${r.attempts > 1 ? `, after ${r.attempts} push attempts` : ''}`;
      if (config.branchMode) {
        return succeeded(`committed ${name} to branch ${r.branch} of ${remote} as ${r.commit?.slice(0, 12)} with ${mergeRequestPath(m)} (${changed}); it deploys when that branch is merged into ${config.branch}`, files);
      }
      return succeeded(`committed ${name} to ${r.branch} of ${remote} as ${r.commit?.slice(0, 12)} (${changed}); Argo CD / Flux applies it from there`, files);
    });
  }

  function start(data: string, how: 'launch' | 'adopt'): TargetStepHandle {
    let d: GitopsStepData;
    try {
      d = parseGitopsData(data);
    } catch (e) {
      const outcome = Promise.resolve(failed(errorText(e)));
      return { wait: () => outcome };
    }
    const where = `${d.input ? `${d.input.service}@${d.input.version} to ${d.input.environment}` : `promotion ${d.promotionId}`}`;
    const work = deploy(d, how).catch((e: unknown) => failed(`gitops deploy of ${where} failed: ${errorText(e)}`));
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<TargetStepOutcome>((resolve) => {
      timer = setTimeout(
        () =>
          resolve(
            failed(`gitops deploy of ${where} did not finish within ${formatDuration(config.timeoutMs)} (target ${config.name}); it may still complete in the background: check ${config.branchMode ? 'the promotion branch' : `branch ${config.branch}`} of ${remote} before promoting again, and raise timeoutSeconds if the repository is slow`),
          ),
        config.timeoutMs,
      );
    });
    const outcome = Promise.race([work, limit]).finally(() => clearTimeout(timer));
    return { wait: () => outcome };
  }

  return {
    type: 'gitops',
    has: (step: TargetStep) => step === 'deploy',
    async prepare(step: TargetStep, f: StepFacts) {
      if (step !== 'deploy') throw new Error(`gitops target ${config.name} has no ${step} step`);
      return prepareGitopsData(config, f);
    },
    launch: async (data) => start(data, 'launch'),
    adopt: async (data) => start(data, 'adopt'),
  };
}
