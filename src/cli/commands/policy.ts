/**
 * `stagegate policy validate|test|explain`: check Cedar policies offline, run table tests against
 * them, and explain one decision in plain words. No server needed.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { createCedarAuthorizer } from '../../policy/cedar/authorizer.ts';
import { coerceAttrs, coerceContext, parsePairs } from '../../policy/cedar/coerce.ts';
import { type CedarPolicySet, loadPolicySet } from '../../policy/cedar/load.ts';
import { maxPolicyTestBytes, parsePolicyTests, runPolicyTests } from '../../policy/cedar/table-test.ts';
import { principalId, principalKinds, type PrincipalKind } from '../../policy/principal.ts';
import { parse as parseFlags, required } from '../args.ts';
import type { CliContext, Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const dirHelp = `--dir DIR   the policy folder (*.cedar and optionally schema.cedarschema); default ./policies
            when it holds .cedar files, else the shipped defaults`;

/** --dir, else ./policies when it has .cedar files, else the shipped defaults */
async function policyDir(dir: string | undefined, ctx: CliContext): Promise<string | undefined> {
  if (dir !== undefined) return path.resolve(ctx.cwd, dir);
  const local = path.join(ctx.cwd, 'policies');
  try {
    if ((await readdir(local)).some((n) => n.endsWith('.cedar'))) return local;
  } catch {
    // no ./policies: the shipped defaults
  }
  return undefined;
}

async function load(dir: string | undefined, ctx: CliContext): Promise<CedarPolicySet> {
  const d = await policyDir(dir, ctx);
  return loadPolicySet(d === undefined ? {} : { dir: d });
}

const source = (set: CedarPolicySet): string => (set.isDefault ? `the shipped defaults (${set.dir})` : set.dir);

const validateUsage = `usage: stagegate policy validate [--dir DIR] [--json]

Parses every policy and validates it against the Cedar schema. Problems are listed as
file:line:column: message (exit 2); warnings (e.g. a policy that can never apply) are printed too.
${dirHelp}`;

export const policyValidateCommand: Command = {
  name: 'policy validate',
  summary: 'validate Cedar policies against the schema',
  usage: validateUsage,
  async run(args, ctx) {
    const { values } = parseFlags(args, { dir: { type: 'string' }, json: { type: 'boolean', default: false } }, validateUsage, false, 'policy validate');
    const set = await load(values.dir, ctx);
    const files = [...new Set(set.policies.map((p) => p.file))];
    if (values.json) {
      ctx.out(
        JSON.stringify({
          dir: set.dir,
          isDefault: set.isDefault,
          schemaFile: set.schemaFile,
          digest: set.digest,
          policies: set.policies.map((p) => ({ id: p.id, effect: p.effect, file: p.file, line: p.line, column: p.column })),
          warnings: set.warnings,
        }),
      );
      return exitCodes.ok;
    }
    ctx.out(`ok: ${set.policies.length} polic${set.policies.length === 1 ? 'y' : 'ies'} in ${files.length} file${files.length === 1 ? '' : 's'} from ${source(set)} are valid against ${set.schemaFile}`);
    ctx.out(`digest: ${set.digest}`);
    for (const w of set.warnings) ctx.out(`warning: ${w}`);
    return exitCodes.ok;
  },
};

const testUsage = `usage: stagegate policy test FILE [--dir DIR] [--json]

Runs each case of FILE (YAML or JSON; a list, or {cases: [...]}) against the policies and prints
PASS or FAIL per case. Exit 1 when any case fails. A case:
  - name: a developer cannot promote to prod
    principal: { kind: user, name: dana, roles: [developer], groups: [team-a] }
    action: promotion.request
    resource: { type: Promotion, id: p1, attrs: { service: checkout, environment: prod, tier: prod } }
    context: { breakGlass: false }          # optional; tier defaults to the promotion's tier
    expect: deny                            # allow | deny
    policies: [forbid-prod-promote-without-releaser]   # optional: the ids that must decide
${dirHelp}`;

export const policyTestCommand: Command = {
  name: 'policy test',
  summary: 'run table tests (principal, action, resource, context, expected decision) against policies',
  usage: testUsage,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, { dir: { type: 'string' }, json: { type: 'boolean', default: false } }, testUsage, true, 'policy test');
    if (positionals.length !== 1) throw new DomainError('invalid_input', 'policy test: give exactly one FILE of cases', { fix: testUsage });
    const file = path.resolve(ctx.cwd, positionals[0] as string);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new DomainError('not_found', `policy test file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file, fix: 'check the path' });
    }
    if (text.length > maxPolicyTestBytes) throw new DomainError('invalid_input', `policy test file ${file} is over ${maxPolicyTestBytes} bytes`, { file });
    const cases = parsePolicyTests(text, file);
    const set = await load(values.dir, ctx);
    const authorizer = createCedarAuthorizer(set);
    const results = runPolicyTests(authorizer, cases);
    const failed = results.filter((r) => !r.pass).length;
    if (values.json) {
      ctx.out(JSON.stringify({ digest: set.digest, passed: results.length - failed, failed, cases: results }));
    } else {
      for (const r of results) {
        const got = `${r.decision.allowed ? 'allow' : 'deny'}: ${r.decision.reason}`;
        ctx.out(r.pass ? `PASS  ${r.name}: ${got}` : `FAIL  ${r.name}: ${r.failure}\n      ${got}`);
        for (const e of r.decision.errors) ctx.out(`      error: ${e}`);
      }
      ctx.out(`${results.length - failed} passed, ${failed} failed (policies from ${source(set)}, ${set.digest})`);
    }
    return failed > 0 ? exitCodes.failed : exitCodes.ok;
  },
};

const explainUsage = `usage: stagegate policy explain --principal KIND:NAME --action ACTION --resource TYPE:ID
         [--role ROLE]... [--group GROUP]... [--attr KEY=VALUE]... [--context KEY=VALUE]...
         [--dir DIR] [--json]

Says whether the request is allowed and why, in plain words: the policies that permitted it, the
forbid rule that refused it, or, when nothing permits it, which roles would.
KIND is user, service or workload. Example:
  stagegate policy explain --principal user:dana --role developer --action promotion.request \\
    --resource Promotion:p1 --attr service=checkout --attr environment=prod --attr tier=prod
${dirHelp}`;

function splitRef(value: string, flag: string, shape: string): [string, string] {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) throw new DomainError('invalid_input', `${flag} ${JSON.stringify(value)} is not ${shape}`, { field: flag, fix: explainUsage });
  return [value.slice(0, colon), value.slice(colon + 1)];
}

export const policyExplainCommand: Command = {
  name: 'policy explain',
  summary: 'explain one authorization decision in plain words',
  usage: explainUsage,
  async run(args, ctx) {
    const { values } = parseFlags(
      args,
      {
        principal: { type: 'string' },
        role: { type: 'string', multiple: true, default: [] },
        group: { type: 'string', multiple: true, default: [] },
        action: { type: 'string' },
        resource: { type: 'string' },
        attr: { type: 'string', multiple: true, default: [] },
        context: { type: 'string', multiple: true, default: [] },
        dir: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      explainUsage,
      false,
      'policy explain',
    );
    const [kind, name] = splitRef(required(values.principal, '--principal', explainUsage), '--principal', 'KIND:NAME, e.g. user:dana');
    if (!(principalKinds as readonly string[]).includes(kind)) {
      throw new DomainError('invalid_input', `--principal kind ${JSON.stringify(kind)} is not one of ${principalKinds.join(', ')}`, { field: '--principal', fix: explainUsage });
    }
    const action = required(values.action, '--action', explainUsage);
    const [type, id] = splitRef(required(values.resource, '--resource', explainUsage), '--resource', 'TYPE:ID, e.g. Promotion:p1');
    const set = await load(values.dir, ctx);
    const attrs = coerceAttrs(set.schemaText, type, parsePairs(values.attr, '--attr'));
    const context = coerceContext(set.schemaText, action, parsePairs(values.context, '--context'));
    const ref = { kind: kind as PrincipalKind, name };
    const decision = createCedarAuthorizer(set).isAuthorized({
      principal: { ...ref, id: principalId(ref), roles: values.role, groups: values.group, credential: 'policy-explain', scopes: [] },
      action,
      resource: { type, id, attrs },
      context,
    });
    const byId = new Map(set.policies.map((p) => [p.id, p]));
    if (values.json) {
      ctx.out(JSON.stringify({ ...decision, digest: set.digest, policies: decision.policyIds.map((pid) => byId.get(pid)).filter((p) => p !== undefined).map((p) => ({ id: p.id, effect: p.effect, reason: p.reason, file: p.file, line: p.line, column: p.column })) }));
      return exitCodes.ok;
    }
    const who = `${principalId(ref)} (roles ${values.role.length > 0 ? values.role.join(', ') : 'none'}${values.group.length > 0 ? `; groups ${values.group.join(', ')}` : ''})`;
    ctx.out(`${decision.allowed ? 'ALLOW' : 'DENY'}: ${who} ${decision.allowed ? 'may' : 'may not'} ${action} on ${type}:${id}`);
    ctx.out(`because ${decision.reason}`);
    for (const pid of decision.policyIds) {
      const p = byId.get(pid);
      if (p) ctx.out(`  ${p.effect} ${p.id} at ${p.file}:${p.line}:${p.column}${p.reason ? `: ${p.reason}` : ''}`);
    }
    for (const e of decision.errors) ctx.out(`  error: ${e}`);
    ctx.out(`policies: ${source(set)}, ${set.digest}`);
    return exitCodes.ok;
  },
};
