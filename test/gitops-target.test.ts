/**
 * The `gitops` target behind the Target interface, against a real bare repository and the git CLI:
 * prepare + launch commits once with its trailers; adopt after a restart finds that commit and makes
 * no second one; a branch moved by another writer between fetch and push is retried; a writer that
 * keeps moving it, or a hook that refuses, fails with a clear message; bad config names the field.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type GitopsTargetConfig, gitopsTargetSchema, normalizeGitopsTarget } from '../src/rollout/targets/gitops/config.ts';
import { createGitopsTarget } from '../src/rollout/targets/gitops/gitops-target.ts';
import type { StepFacts } from '../src/rollout/target.ts';

const run = promisify(execFile);
const clock = () => new Date('2026-11-26T12:00:00Z');
const IMG = `sha256:${'cd'.repeat(32)}`;
const RELEASE = `sha256:${'ab'.repeat(32)}`;
const CANARY = 'hunter2-never-in-git-0123456789';
const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env })).stdout.trim();
const logs: unknown[] = [];
const logger = { info: (...a: unknown[]) => void logs.push(a), warn: (...a: unknown[]) => void logs.push(a) };

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-gitops-target-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function bareRemote(): Promise<string> {
  const remote = join(dir, `remote-${n++}.git`);
  await run('git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
  return remote;
}

async function artifacts(document: Record<string, unknown>): Promise<string> {
  const a = join(dir, `artifacts-${n++}`);
  await mkdir(a, { recursive: true });
  await writeFile(join(a, 'effective-config.json'), `${JSON.stringify({ service: 'checkout', environment: 'prod', document, origins: {}, digest: `sha256:${'0'.repeat(64)}` })}\n`);
  return a;
}

const config = (remote: string, over: Partial<GitopsTargetConfig> = {}): GitopsTargetConfig => ({
  name: 'deploy-repo',
  type: 'gitops',
  remote,
  path: '{environment}/{service}',
  branch: 'main',
  branchMode: false,
  retries: 2,
  timeoutMs: 120_000,
  ...over,
});

const facts = async (promotionId: string, over: Partial<StepFacts> = {}): Promise<StepFacts> => ({
  promotionId,
  service: 'checkout',
  version: '1.2.0',
  releaseId: RELEASE,
  environment: 'prod',
  artifactsDir: await artifacts({ config: { port: 8080 }, runtime: { replicas: 2 }, secrets: { DB_PASSWORD: 'sops/db' } }),
  approvers: ['alice', 'bob'],
  subjects: [
    { name: 'checkout.tar.gz', kind: 'artifact', digest: `sha256:${'11'.repeat(32)}` },
    { name: 'ghcr.io/acme/checkout', kind: 'image', digest: IMG },
  ],
  secrets: { DB_PASSWORD: CANARY },
  ...over,
});

const target = (cfg: GitopsTargetConfig, workRoot = join(dir, `work-${n++}`)) => createGitopsTarget({ config: cfg, projectDir: dir, workRoot, clock, logger });
const count = async (remote: string, ref = 'main') => Number(await git(remote, 'rev-list', '--count', ref));

describe('gitops target', () => {
  test('prepare + launch commits once, with trailers, pinned image and no secret value', async () => {
    const remote = await bareRemote();
    const t = target(config(remote));
    assert.equal(t.type, 'gitops');
    assert.equal(t.has('deploy'), true);
    assert.equal(t.has('verify'), false);
    await assert.rejects(t.prepare('verify', await facts('prm_v')), /no verify step/);
    const data = await t.prepare('deploy', await facts('prm_one'));
    assert.ok(!data.includes(CANARY), 'step data never holds a secret value');
    const out = await (await t.launch(data)).wait();
    assert.equal(out.status, 'succeeded', out.message);
    const head = await git(remote, 'rev-parse', 'main');
    assert.match(out.message, new RegExp(`committed checkout@1\\.2\\.0 to main of .*remote-\\d+\\.git as ${head.slice(0, 12)} \\(3 file\\(s\\) changed in prod/checkout/\\)`));
    assert.equal(await count(remote), 1);
    const trailers = await git(remote, 'log', '-1', '--format=%(trailers:key=Release,valueonly)%(trailers:key=Promotion,valueonly)%(trailers:key=Approved-by,valueonly)', 'main');
    assert.deepEqual(trailers.split('\n'), [RELEASE, 'prm_one', 'alice', 'bob']);
    const dep = await git(remote, 'show', 'main:prod/checkout/deployment.yaml');
    assert.match(dep, new RegExp(`image: ghcr.io/acme/checkout@${IMG}`));
    assert.match(dep, /name: checkout\n/);
    const all = await git(remote, 'log', '-p', 'main');
    assert.ok(!all.includes(CANARY));
  });

  test('adopt after a restart finds the commit and makes no second one; adopt before any launch commits once', async () => {
    const remote = await bareRemote();
    const workRoot = join(dir, `work-${n++}`);
    const first = target(config(remote), workRoot);
    const data = await first.prepare('deploy', await facts('prm_two'));
    assert.equal((await (await first.launch(data)).wait()).status, 'succeeded');
    const head = await git(remote, 'rev-parse', 'main');
    // a new process: a fresh target over the same work root, and one over an empty one
    for (const restarted of [target(config(remote), workRoot), target(config(remote))]) {
      const out = await (await restarted.adopt(data)).wait();
      assert.equal(out.status, 'succeeded', out.message);
      assert.match(out.message, new RegExp(`already committed to main .* as ${head.slice(0, 12)} \\(found after a restart; not committed again\\)`));
      assert.equal(await count(remote), 1);
    }
    // another promotion landed on top: adopt still finds ours, deeper in history
    const other = target(config(remote));
    assert.equal((await (await other.launch(await other.prepare('deploy', await facts('prm_three', { version: '1.3.0' })))).wait()).status, 'succeeded');
    assert.match((await (await target(config(remote)).adopt(data)).wait()).message, /already committed/);
    assert.equal(await count(remote), 2);
    // the server died after recording the step but before launching it: adopt deploys, once
    const fresh = await target(config(remote)).prepare('deploy', await facts('prm_four', { version: '1.4.0' }));
    const adopted = await (await target(config(remote)).adopt(fresh)).wait();
    assert.match(adopted.message, /^committed checkout@1\.4\.0 to main/);
    assert.equal(await count(remote), 3);
  });

  test('a branch moved by another writer between fetch and push is retried on top of it', async () => {
    const remote = await bareRemote();
    const t = target(config(remote));
    await (await t.launch(await t.prepare('deploy', await facts('prm_base')))).wait();
    // another writer's commit, pushed as the branch head the moment our push arrives (the hook runs once)
    const intruder = await git(remote, 'commit-tree', '-p', 'main', '-m', 'someone else', `${await git(remote, 'rev-parse', 'main^{tree}')}`);
    await writeFile(
      join(remote, 'hooks', 'pre-receive'),
      `#!/bin/sh\nif [ ! -e "$GIT_DIR/moved" ]; then touch "$GIT_DIR/moved"; env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref refs/heads/main ${intruder}; fi\nexit 0\n`,
    );
    await chmod(join(remote, 'hooks', 'pre-receive'), 0o755);
    const out = await (await t.launch(await t.prepare('deploy', await facts('prm_next', { version: '2.0.0' })))).wait();
    assert.equal(out.status, 'succeeded', out.message);
    assert.match(out.message, /after 2 push attempts/);
    assert.equal(await git(remote, 'rev-parse', 'main^'), intruder);
    assert.equal(await git(remote, 'log', '-1', '--format=%(trailers:key=Promotion,valueonly)', 'main'), 'prm_next');
  });

  test('a writer that keeps moving the branch, and a hook that refuses, fail with a clear message', async () => {
    const remote = await bareRemote();
    const t = target(config(remote, { retries: 1 }));
    await (await t.launch(await t.prepare('deploy', await facts('prm_a')))).wait();
    const hook = join(remote, 'hooks', 'pre-receive');
    await writeFile(
      hook,
      `#!/bin/sh\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\nc=$(git commit-tree -p refs/heads/main -m intruder "refs/heads/main^{tree}")\ngit update-ref refs/heads/main "$c"\nexit 0\n`,
    );
    await chmod(hook, 0o755);
    const moved = await (await t.launch(await t.prepare('deploy', await facts('prm_b', { version: '2.0.0' })))).wait();
    assert.equal(moved.status, 'failed');
    assert.match(moved.message, /gitops deploy of checkout@2\.0\.0 to prod failed: gitops: pushing checkout@2\.0\.0 to branch main of .*remote-\d+\.git failed 2 times: the remote branch moved/);
    assert.match(moved.message, /another writer keeps pushing to main; retry the promotion later, or use branch mode/);

    await writeFile(hook, '#!/bin/sh\necho "main is protected: deploys go through review" >&2\nexit 1\n');
    const refused = await (await t.launch(await t.prepare('deploy', await facts('prm_c', { version: '3.0.0' })))).wait();
    assert.equal(refused.status, 'failed');
    assert.match(refused.message, /failed 2 times: the remote refused the push \(a hook or branch protection\)/);
    assert.match(refused.message, /main is protected/);
    assert.match(refused.message, /make .* accept pushes to main from the stagegate identity .* or use branch mode/);
    assert.ok(!(await git(remote, 'log', '--format=%B', 'main')).includes('prm_c'));
  });

  test('branch mode with a custom folder: own branch, merge-request file, folder from the template', async () => {
    const remote = await bareRemote();
    const t = target(config(remote, { branchMode: true, path: 'clusters/{environment}/apps/{service}', images: { web: 'ghcr.io/acme/checkout' } }));
    const out = await (await t.launch(await t.prepare('deploy', await facts('prm_mr')))).wait();
    assert.equal(out.status, 'succeeded', out.message);
    assert.match(out.message, /to branch stagegate\/prod\/checkout\/prm_mr .* with \.stagegate\/merge-requests\/prm_mr\.json .*merged into main/);
    const files = await git(remote, 'ls-tree', '-r', '--name-only', 'stagegate/prod/checkout/prm_mr');
    assert.deepEqual(files.split('\n'), [
      '.stagegate/merge-requests/prm_mr.json',
      'clusters/prod/apps/checkout/configmap.yaml',
      'clusters/prod/apps/checkout/deployment.yaml',
      'clusters/prod/apps/checkout/kustomization.yaml',
    ]);
    assert.match(await git(remote, 'show', 'stagegate/prod/checkout/prm_mr:clusters/prod/apps/checkout/deployment.yaml'), new RegExp(`image: ghcr.io/acme/checkout@${IMG}\n\\s+name: web(\n|$)`));
    assert.match((await (await target(config(remote, { branchMode: true, path: 'clusters/{environment}/apps/{service}' })).adopt(await t.prepare('deploy', await facts('prm_mr')))).wait()).message, /already committed to stagegate\/prod\/checkout\/prm_mr/);
  });

  test('a release without the configured image fails the step naming the field, before touching git', async () => {
    const remote = await bareRemote();
    const t = target(config(remote, { images: { app: 'ghcr.io/acme/other' } }));
    const out = await (await t.launch(await t.prepare('deploy', await facts('prm_img')))).wait();
    assert.equal(out.status, 'failed');
    assert.match(out.message, /^deploy not started: gitops target deploy-repo: images\.app names ghcr\.io\/acme\/other, but release sha256:ab.* carries no image ghcr\.io\/acme\/other \(its images: ghcr\.io\/acme\/checkout\)/);
    const none = await (await t.launch(await target(config(remote)).prepare('deploy', await facts('prm_none', { subjects: [] })))).wait();
    assert.match(none.message, /has 0 images \(none\).*create the release with --image REPOSITORY@sha256:<digest>/);
    assert.equal((await run('git', ['rev-parse', '-q', '--verify', 'main'], { cwd: remote }).catch(() => ({ stdout: '' }))).stdout, '');
  });
});

describe('gitops target config', () => {
  const base = { type: 'gitops', remote: '../deploy.git' };
  const problem = (over: Record<string, unknown>) => {
    const r = gitopsTargetSchema.safeParse({ ...base, ...over });
    assert.equal(r.success, false, JSON.stringify(over));
    const i = r.error?.issues[0];
    return `${i?.path.join('.')}: ${i?.message}`;
  };

  test('defaults, normalization and relative remotes', () => {
    const parsed = gitopsTargetSchema.parse(base);
    assert.deepEqual(normalizeGitopsTarget('repo', parsed, '/srv/project'), {
      name: 'repo', type: 'gitops', remote: '/srv/deploy.git', path: '{environment}/{service}', branch: 'main', branchMode: false, retries: 3, timeoutMs: 300_000,
    });
    for (const remote of ['git@github.com:acme/deploy.git', 'https://github.com/acme/deploy.git', 'ssh://git@host/x.git']) {
      assert.equal(normalizeGitopsTarget('repo', gitopsTargetSchema.parse({ ...base, remote }), '/srv/project').remote, remote);
    }
  });

  test('bad fields are refused naming the field', () => {
    assert.match(problem({ branch: 'a..b' }), /^branch: a branch name/);
    assert.match(problem({ path: 'apps/{service}' }), /^path: must contain \{environment\} and \{service\}/);
    assert.match(problem({ path: '../{environment}/{service}' }), /^path: a relative folder/);
    assert.match(problem({ path: '{environment}/{service}/{version}' }), /^path: the only placeholders/);
    assert.match(problem({ remote: 'https://bot:ghp_token@github.com/acme/deploy.git' }), /^remote: no password or token in the URL/);
    assert.match(problem({ remote: 'https://ghp_token@github.com/acme/deploy.git' }), /^remote: no password or token in the URL/);
    assert.match(problem({ images: { App: 'ghcr.io/acme/x' } }), /^images\.App: /);
    assert.match(problem({ images: { app: 'ghcr.io/acme/x:1.0' } }), /^images\.app: an image repository without tag or digest/);
    assert.match(problem({ retries: 50 }), /^retries: /);
    assert.match(problem({ branchmode: true }), /branchmode/);
  });
});
