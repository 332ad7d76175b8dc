import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DomainError } from '../../domain/errors.ts';
import { defaultPolicyDir } from '../../policy/cedar/load.ts';
import type { CliContext } from '../command.ts';
import { policyExplainCommand, policyTestCommand, policyValidateCommand } from './policy.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-cli-policy-'));
after(() => rm(dir, { recursive: true, force: true }));
const capture = (cwd = dir) => {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd };
  return { ctx, out, err, text: () => out.join('\n') };
};
const refused = (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === code && re.test(`${e.message}\n${String(e.details.fix ?? '')}`));

const cases = `
- name: viewer reads releases
  principal: { kind: user, name: val, roles: [viewer] }
  action: release.read
  resource: { type: Project, id: shop }
  expect: allow
- name: developer cannot promote to prod
  principal: { kind: user, name: dana, roles: [developer], groups: [team-a, platform] }
  action: promotion.request
  resource: { type: Promotion, id: p1, attrs: { service: checkout, environment: prod, tier: prod } }
  expect: deny
- name: CI workload as releaser promotes to prod
  principal: { kind: workload, name: "github:acme/checkout", roles: [releaser] }
  action: promotion.request
  resource: { type: Promotion, id: p2, attrs: { service: checkout, environment: prod, tier: prod } }
  expect: allow
`;
await writeFile(join(dir, 'cases.yaml'), cases);
await writeFile(join(dir, 'failing.yaml'), cases.replace('expect: deny', 'expect: allow'));

describe('policy validate', () => {
  test('the shipped defaults (no ./policies here) are valid; prints count, source and digest', async () => {
    const c = capture();
    assert.equal(await policyValidateCommand.run([], c.ctx), 0);
    assert.match(c.text(), /^ok: 17 policies in 2 files from the shipped defaults \(.*policies\/default\) are valid against .*schema\.cedarschema\ndigest: sha256:[0-9a-f]{64}$/);
    const j = capture();
    assert.equal(await policyValidateCommand.run(['--json', '--dir', defaultPolicyDir], j.ctx), 0);
    const parsed = JSON.parse(j.text());
    assert.equal(parsed.isDefault, true);
    assert.equal(parsed.policies.length, 17);
  });

  test('./policies is used when it holds .cedar files; problems carry file:line:column', async () => {
    const proj = join(dir, 'proj');
    await mkdir(join(proj, 'policies'), { recursive: true });
    await writeFile(join(proj, 'policies', 'team.cedar'), 'permit (principal, action, resource)\nwhen { resource.tierr == "prod" };');
    await refused(policyValidateCommand.run([], capture(proj).ctx), 'invalid_input', /team\.cedar:2:8: attribute `tierr`/);
    await writeFile(join(proj, 'policies', 'team.cedar'), 'permit (principal in Stagegate::Group::"team", action in Stagegate::Action::"read", resource);');
    const c = capture(proj);
    assert.equal(await policyValidateCommand.run([], c.ctx), 0);
    assert.match(c.text(), /^ok: 1 policy in 1 file from .*proj\/policies/);
  });

  test('usage errors', async () => {
    await refused(policyValidateCommand.run(['extra'], capture().ctx), 'invalid_input', /usage: stagegate policy validate/);
    await refused(policyValidateCommand.run(['--dir', 'missing'], capture().ctx), 'not_found', /cannot be read/);
  });
});

describe('policy test', () => {
  test('all cases pass: exit 0, one PASS line each and a summary', async () => {
    const c = capture();
    assert.equal(await policyTestCommand.run(['cases.yaml'], c.ctx), 0);
    const lines = c.out;
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', /^PASS {2}viewer reads releases: allow: permitted by read-pipeline/);
    assert.match(lines[1] ?? '', /^PASS {2}developer cannot promote to prod: deny: forbidden by forbid-prod-promote-without-releaser/);
    assert.match(lines[3] ?? '', /^3 passed, 0 failed \(policies from the shipped defaults/);
  });

  test('a failing case: exit 1, FAIL with the expectation and the actual reason; --json', async () => {
    const c = capture();
    assert.equal(await policyTestCommand.run(['failing.yaml'], c.ctx), 1);
    assert.match(c.text(), /FAIL {2}developer cannot promote to prod: expected allow, got deny\n {6}deny: forbidden by forbid-prod-promote-without-releaser/);
    assert.match(c.text(), /2 passed, 1 failed/);
    const j = capture();
    assert.equal(await policyTestCommand.run(['failing.yaml', '--json'], j.ctx), 1);
    const parsed = JSON.parse(j.text());
    assert.deepEqual([parsed.passed, parsed.failed], [2, 1]);
  });

  test('a missing or malformed file and usage errors', async () => {
    await refused(policyTestCommand.run([], capture().ctx), 'invalid_input', /exactly one FILE/);
    await refused(policyTestCommand.run(['nope.yaml'], capture().ctx), 'not_found', /cannot be read/);
    await writeFile(join(dir, 'bad.yaml'), '- principal: { name: x }\n  action: release.read\n  expect: allow\n');
    await refused(policyTestCommand.run(['bad.yaml'], capture().ctx), 'invalid_input', /bad\.yaml:1:3: \[0\]\.resource: /);
  });
});

describe('policy explain', () => {
  test('a forbid: which rule, where it is and why', async () => {
    const c = capture();
    const args = ['--principal', 'user:dana', '--role', 'developer', '--group', 'team-a', '--action', 'promotion.request', '--resource', 'Promotion:p1'];
    assert.equal(await policyExplainCommand.run([...args, '--attr', 'service=checkout', '--attr', 'environment=prod', '--attr', 'tier=prod'], c.ctx), 0);
    const [first, because, policy] = c.out;
    assert.equal(first, 'DENY: user:dana (roles developer; groups team-a) may not promotion.request on Promotion:p1');
    assert.equal(because, 'because forbidden by forbid-prod-promote-without-releaser (promoting to or aborting in a prod environment needs the releaser or admin role)');
    assert.match(policy ?? '', /^ {2}forbid forbid-prod-promote-without-releaser at .*policies\/default\/forbid\.cedar:5:1: promoting/);
  });

  test('an allow, a default deny with the roles that would, and a typed context flag', async () => {
    const allow = capture();
    await policyExplainCommand.run(['--principal', 'service:ci', '--role', 'releaser', '--action', 'release.push', '--resource', 'Service:checkout'], allow.ctx);
    assert.match(allow.out[0] ?? '', /^ALLOW: service:ci \(roles releaser\) may release\.push on Service:checkout$/);
    const deny = capture();
    await policyExplainCommand.run(['--principal', 'user:val', '--action', 'token.create', '--resource', 'Project:shop'], deny.ctx);
    assert.equal(deny.out[1], 'because no policy permits token.create on Project::"shop" for user:val with roles []; roles that would: [admin]');
    const breakGlass = capture();
    const prod = ['--attr', 'service=checkout', '--attr', 'environment=prod', '--attr', 'tier=prod'];
    await policyExplainCommand.run(['--principal', 'user:rita', '--role', 'releaser', '--action', 'promotion.request', '--resource', 'Promotion:p1', ...prod, '--context', 'breakGlass=true', '--json'], breakGlass.ctx);
    const j = JSON.parse(breakGlass.text());
    assert.equal(j.allowed, false);
    assert.deepEqual(j.policyIds, ['forbid-breakglass-promote-without-admin']);
    assert.equal(j.policies[0].effect, 'forbid');
  });

  test('usage errors name the flag', async () => {
    const base = ['--action', 'release.read', '--resource', 'Project:shop'];
    await refused(policyExplainCommand.run(base, capture().ctx), 'invalid_input', /--principal is required/);
    await refused(policyExplainCommand.run(['--principal', 'robot:x', ...base], capture().ctx), 'invalid_input', /kind "robot"/);
    await refused(policyExplainCommand.run(['--principal', 'dana', ...base], capture().ctx), 'invalid_input', /KIND:NAME/);
    await refused(policyExplainCommand.run(['--principal', 'user:x', '--action', 'release.read', '--resource', 'shop'], capture().ctx), 'invalid_input', /TYPE:ID/);
    await refused(policyExplainCommand.run(['--principal', 'user:x', ...base, '--attr', 'novalue'], capture().ctx), 'invalid_input', /not key=value/);
    const promo = ['--principal', 'user:x', '--action', 'promotion.request', '--resource', 'Promotion:p'];
    await refused(policyExplainCommand.run([...promo, '--context', 'breakGlass=yes'], capture().ctx), 'invalid_input', /breakGlass is a Bool/);
  });
});
