import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastLines, redactRemote } from './git-cli.ts';
import { commitMessage, isValidApprover, mergeRequestFile, promotionBranch } from './message.ts';
import type { RenderedManifests } from './render.ts';

const m: RenderedManifests = {
  environment: 'prod',
  service: 'checkout',
  version: '1.2.0',
  releaseId: 'rel_1',
  promotionId: 'prm_1',
  configDigest: `sha256:${'0'.repeat(64)}`,
  dir: 'prod/checkout',
  files: [],
};

test('commit message: title, then a trailer block with one Approved-by per approver', () => {
  const msg = commitMessage(m, ['alice', 'bob smith <bob@x>']);
  const [title, , , , ...trailers] = msg.trimEnd().split('\n');
  assert.equal(title, 'deploy checkout@1.2.0 to prod');
  assert.deepEqual(trailers.slice(-2), ['Approved-by: alice', 'Approved-by: bob smith <bob@x>']);
  assert.ok(trailers.includes('Release: rel_1') && trailers.includes('Promotion: prm_1'));
  assert.ok(!commitMessage(m, []).includes('Approved-by'));
});

test('merge-request file names the branches and approvers', () => {
  const mr = JSON.parse(mergeRequestFile(m, 'main', ['alice']));
  assert.equal(mr.sourceBranch, promotionBranch(m));
  assert.equal(mr.sourceBranch, 'stagegate/prod/checkout/prm_1');
  assert.equal(mr.targetBranch, 'main');
  assert.deepEqual(mr.approvers, ['alice']);
});

test('approver names are single-line and bounded', () => {
  assert.ok(isValidApprover('alice@example.com'));
  for (const bad of ['', 'a\nApproved-by: mallory', ' padded', 'x'.repeat(201)]) assert.ok(!isValidApprover(bad), bad);
});

test('credentials in remote URLs never reach a message', () => {
  assert.equal(redactRemote('https://user:tok3n@github.com/acme/deploy.git'), 'https://github.com/acme/deploy.git');
  assert.equal(redactRemote('git@github.com:acme/deploy.git'), 'git@github.com:acme/deploy.git');
  assert.ok(!lastLines("fatal: unable to access 'https://x-access-token:ghs_secret@github.com/a.git/'").includes('ghs_secret'));
});
