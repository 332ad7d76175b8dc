/**
 * GitOps deploys against a real local bare repository with the git CLI: first deploy, a new version,
 * an identical render, branch mode with its merge-request file, a concurrent push between fetch and
 * push (retried on top), and a pre-receive hook that refuses every push (a clear error after retries).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isDomainError } from '../src/domain/errors.ts';
import { deployToGit, type GitopsRepoOptions } from '../src/rollout/targets/gitops/git-repo.ts';
import { renderManifests } from '../src/rollout/targets/gitops/render.ts';

const run = promisify(execFile);
const clock = () => new Date('2026-11-26T12:00:00Z');
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env })).stdout.trim();

const render = (version: string, promotionId: string, config: Record<string, unknown> = { port: 8080 }) =>
  renderManifests({
    environment: 'prod',
    service: 'checkout',
    version,
    releaseId: `rel_${version.replace(/\./g, '_')}`,
    promotionId,
    images: [{ name: 'app', ref: `ghcr.io/acme/checkout@${DIGEST}` }],
    config: { document: { config, runtime: { replicas: 2 }, secrets: { DB_PASSWORD: 'sops_key_never_rendered' } } },
  });

describe('gitops deploy to a bare repository', () => {
  let dir: string;
  let remote: string;
  let n = 0;
  const opts = (over: Partial<GitopsRepoOptions> = {}): GitopsRepoOptions => ({ remote, workDir: join(dir, `work-${n++}`), clock, backoffMs: 1, ...over });
  const show = (ref: string, path: string) => git(remote, 'show', `${ref}:${path}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sg-gitops-'));
    remote = join(dir, 'remote.git');
    await run('git', ['init', '-q', '--bare', remote]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('first deploy commits the three files with the message and trailers', async () => {
    const r = await deployToGit(render('1.0.0', 'prm_a'), ['alice', 'bob'], opts());
    assert.equal(r.noop, false);
    assert.equal(r.branch, 'main');
    assert.deepEqual(r.changedFiles, ['prod/checkout/configmap.yaml', 'prod/checkout/deployment.yaml', 'prod/checkout/kustomization.yaml']);
    assert.equal(await git(remote, 'rev-parse', 'main'), r.commit);
    assert.equal(await git(remote, 'log', '-1', '--format=%s', 'main'), 'deploy checkout@1.0.0 to prod');
    assert.equal(await git(remote, 'log', '-1', '--format=%(trailers:key=Approved-by,valueonly,separator=%x2C)', 'main'), 'alice,bob');
    assert.equal(await git(remote, 'log', '-1', '--format=%(trailers:key=Release,valueonly)%(trailers:key=Promotion,valueonly)', 'main'), 'rel_1_0_0\nprm_a');
    assert.equal(await git(remote, 'log', '-1', '--format=%an <%ae> %aI %cI', 'main'), 'stagegate <stagegate@localhost> 2026-11-26T12:00:00+00:00 2026-11-26T12:00:00+00:00');
    const files = await git(remote, 'ls-tree', '-r', '--name-only', 'main');
    assert.equal(files, 'prod/checkout/configmap.yaml\nprod/checkout/deployment.yaml\nprod/checkout/kustomization.yaml');
    const dep = await show('main', 'prod/checkout/deployment.yaml');
    assert.match(dep, new RegExp(`image: ghcr.io/acme/checkout@${DIGEST}`));
    assert.ok(!dep.includes('sops_key_never_rendered'));
  });

  test('a new version changes only what changed; an identical render makes no commit', async () => {
    const before = await git(remote, 'rev-parse', 'main');
    const r = await deployToGit(render('1.1.0', 'prm_b'), ['carol'], opts());
    assert.deepEqual(r.changedFiles, ['prod/checkout/deployment.yaml']);
    assert.equal(await git(remote, 'rev-parse', 'main^'), before);
    assert.equal(await git(remote, 'diff', '--name-only', 'main^', 'main'), 'prod/checkout/deployment.yaml');

    const again = await deployToGit(render('1.1.0', 'prm_b'), ['carol'], opts());
    assert.equal(again.noop, true);
    assert.deepEqual(again.changedFiles, []);
    assert.equal(again.commit, r.commit);
    assert.match(again.summary, /no commit/);
    assert.equal(await git(remote, 'rev-parse', 'main'), r.commit);
  });

  test('files no longer rendered are removed from the service folder', async () => {
    const work = opts();
    await deployToGit(render('1.1.1', 'prm_c'), [], work);
    await writeFile(join(work.workDir, 'prod/checkout/stale.yaml'), 'x: 1\n');
    await git(work.workDir, 'add', '.');
    await git(work.workDir, 'commit', '-q', '-m', 'someone adds a file');
    await git(work.workDir, 'push', '-q', 'origin', 'HEAD:refs/heads/main');
    const r = await deployToGit(render('1.1.2', 'prm_d'), [], work);
    assert.deepEqual(r.changedFiles, ['prod/checkout/deployment.yaml', 'prod/checkout/stale.yaml']);
    assert.ok(!(await git(remote, 'ls-tree', '-r', '--name-only', 'main')).includes('stale.yaml'));
  });

  test('branch mode pushes a promotion branch with a merge-request file; main is untouched', async () => {
    const main = await git(remote, 'rev-parse', 'main');
    const r = await deployToGit(render('2.0.0', 'prm_e'), ['dave'], opts({ branchMode: true }));
    assert.equal(r.branch, 'stagegate/prod/checkout/prm_e');
    assert.deepEqual(r.changedFiles, ['.stagegate/merge-requests/prm_e.json', 'prod/checkout/deployment.yaml']);
    assert.equal(await git(remote, 'rev-parse', 'main'), main);
    assert.equal(await git(remote, 'rev-parse', `${r.branch}^`), main);
    const mr = JSON.parse(await show(r.branch, '.stagegate/merge-requests/prm_e.json'));
    assert.equal(mr.sourceBranch, 'stagegate/prod/checkout/prm_e');
    assert.equal(mr.targetBranch, 'main');
    assert.equal(mr.title, 'deploy checkout@2.0.0 to prod');
    assert.match(mr.body, /Approved-by: dave/);
    assert.deepEqual(mr.approvers, ['dave']);
    const again = await deployToGit(render('2.0.0', 'prm_e'), ['dave'], opts({ branchMode: true }));
    assert.equal(again.noop, true);
  });

  test('a concurrent push between fetch and push is retried on top; both commits are in history', async () => {
    const other = join(dir, 'other');
    await run('git', ['clone', '-q', '-b', 'main', remote, other]);
    const r = await deployToGit(render('3.0.0', 'prm_f'), ['erin'], {
      ...opts(),
      beforePush: async (attempt) => {
        if (attempt !== 0) return;
        await writeFile(join(other, 'README.md'), 'other writer\n');
        await git(other, 'add', 'README.md');
        await git(other, 'commit', '-q', '-m', 'concurrent change');
        await git(other, 'push', '-q', 'origin', 'HEAD:main');
      },
    });
    assert.equal(r.attempts, 2);
    assert.equal(await git(remote, 'log', '-2', '--format=%s', 'main'), 'deploy checkout@3.0.0 to prod\nconcurrent change');
    assert.equal(await git(remote, 'rev-parse', 'main'), r.commit);
    assert.equal(await show('main', 'README.md'), 'other writer');
  });

  test('a branch that keeps moving fails after the retries, saying so', async () => {
    const other = join(dir, 'other-2');
    await run('git', ['clone', '-q', '-b', 'main', remote, other]);
    let pushes = 0;
    await assert.rejects(
      deployToGit(render('3.1.0', 'prm_f2'), [], {
        ...opts({ retries: 1 }),
        beforePush: async () => {
          await git(other, 'pull', '-q', '--ff-only');
          await writeFile(join(other, 'NOTES.md'), `writer push ${++pushes}\n`);
          await git(other, 'add', 'NOTES.md');
          await git(other, 'commit', '-q', '-m', `other ${pushes}`);
          await git(other, 'push', '-q', 'origin', 'HEAD:main');
        },
      }),
      (e) => isDomainError(e) && e.code === 'conflict' && /failed 2 times: the remote branch moved/.test(e.message) && /another writer/.test(String(e.details.fix)),
    );
    assert.equal(pushes, 2);
    assert.equal(await git(remote, 'log', '-1', '--format=%s', 'main'), 'other 2');
  });

  test('a push refused by a pre-receive hook fails clearly after the retries', async () => {
    const hook = join(remote, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "pushes are frozen" >&2\nexit 1\n');
    await chmod(hook, 0o755);
    try {
      const head = await git(remote, 'rev-parse', 'main');
      await assert.rejects(deployToGit(render('4.0.0', 'prm_g'), [], opts({ retries: 2 })), (e) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'conflict');
        assert.match(e.message, /checkout@4\.0\.0 to branch main of .*remote\.git failed 3 times: the remote refused the push/);
        assert.match(e.message, /pushes are frozen/);
        assert.match(String(e.details.fix), /hooks and branch protection|branch mode/);
        return true;
      });
      assert.equal(await git(remote, 'rev-parse', 'main'), head);
    } finally {
      await rm(hook);
    }
  });

  test('bad options and an unreachable remote are refused with a fix', async () => {
    const m = render('5.0.0', 'prm_h');
    await assert.rejects(deployToGit(m, [], opts({ branch: '../main' })), (e) => isDomainError(e) && e.details.field === 'branch');
    await assert.rejects(deployToGit(m, ['a\nb'], opts()), (e) => isDomainError(e) && e.details.field === 'approvers');
    await assert.rejects(
      deployToGit(m, [], opts({ remote: join(dir, 'missing.git') })),
      (e) => isDomainError(e) && e.code === 'unavailable' && /cannot clone .*missing\.git/.test(e.message),
    );
    const notEmpty = join(dir, 'not-empty');
    await run('mkdir', ['-p', notEmpty]);
    await writeFile(join(notEmpty, 'x'), '1');
    await assert.rejects(deployToGit(m, [], opts({ workDir: notEmpty })), (e) => isDomainError(e) && e.code === 'conflict');
    assert.equal(await readFile(join(notEmpty, 'x'), 'utf8'), '1');
  });
});
