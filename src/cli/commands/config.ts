/** `stagegate config show` and `config diff`: a service's effective configuration, offline, from the manifest folder. */
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { findEnvironment, findService } from '../../project/graph.ts';
import { loadProject } from '../../project/load.ts';
import type { Project } from '../../project/schema.ts';
import { diffConfigs } from '../../parity/config/config-diff.ts';
import { BASE_ENV, effectiveConfigFromDir } from '../../parity/config/effective-config.ts';
import { valueAt } from '../../parity/config/pointer.ts';
import { parse as parseFlags } from '../args.ts';
import type { CliContext, Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const showUsage = `usage: stagegate config show SERVICE --env ENV [--project FILE] [--json]

Prints the effective configuration of SERVICE in ENV (base.yaml, then ENV.yaml as a merge patch, then
ENV.patch.yaml operations) from the project's manifest folder: every value with its JSON Pointer and
origin (base, overlay:FILE or patch:FILE#INDEX), and the sha256 digest of its RFC 8785 form.
ENV may be \`base\` for base.yaml alone.`;

const diffUsage = `usage: stagegate config diff SERVICE --from ENV --to ENV [--project FILE] [--json]

Every JSON Pointer whose value differs between the effective configurations of SERVICE in two
environments: added, removed or changed, with both values and where each comes from.`;

const show = (v: unknown) => JSON.stringify(v);

async function projectOf(file: string | undefined, ctx: CliContext): Promise<Project> {
  return loadProject(resolve(ctx.cwd, file ?? '.'));
}

function checkEnv(project: Project, env: string): void {
  if (env !== BASE_ENV) findEnvironment(project, env);
}

function serviceArg(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new DomainError('invalid_input', `expected one SERVICE, got ${positionals.length}`, { fix: usage });
  return positionals[0] as string;
}

export const configShowCommand: Command = {
  name: 'config show',
  summary: "a service's effective configuration in an environment, each value with its origin (offline)",
  usage: showUsage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(args, { env: { type: 'string' }, project: { type: 'string' }, json: { type: 'boolean', default: false } }, showUsage, true, 'config show');
    const service = serviceArg(positionals, showUsage);
    if (!v.env) throw new DomainError('invalid_input', 'config show: --env is required', { field: 'env', fix: showUsage });
    const project = await projectOf(v.project, ctx);
    findService(project, service);
    checkEnv(project, v.env);
    const eff = await effectiveConfigFromDir(project.manifestDir, service, v.env);
    if (v.json) {
      ctx.out(JSON.stringify(eff));
      return exitCodes.ok;
    }
    const rows = Object.entries(eff.origins).map(([p, origin]) => {
      return [p, show(valueAt(eff.document, p)), origin] as const;
    });
    const w0 = Math.min(60, Math.max(7, ...rows.map((r) => r[0].length)));
    const w1 = Math.min(50, Math.max(5, ...rows.map((r) => r[1].length)));
    ctx.out(
      [
        `${service} in ${v.env}: ${eff.digest}`,
        `${'POINTER'.padEnd(w0)}  ${'VALUE'.padEnd(w1)}  ORIGIN`,
        ...rows.map(([p, val, o]) => `${p.padEnd(w0)}  ${val.padEnd(w1)}  ${o}`),
      ].join('\n'),
    );
    return exitCodes.ok;
  },
};

export const configDiffCommand: Command = {
  name: 'config diff',
  summary: "differences between a service's effective configurations in two environments (offline)",
  usage: diffUsage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(
      args,
      { from: { type: 'string' }, to: { type: 'string' }, project: { type: 'string' }, json: { type: 'boolean', default: false } },
      diffUsage,
      true,
      'config diff',
    );
    const service = serviceArg(positionals, diffUsage);
    for (const flag of ['from', 'to'] as const) if (!v[flag]) throw new DomainError('invalid_input', `config diff: --${flag} is required`, { field: flag, fix: diffUsage });
    const project = await projectOf(v.project, ctx);
    findService(project, service);
    checkEnv(project, v.from as string);
    checkEnv(project, v.to as string);
    const from = await effectiveConfigFromDir(project.manifestDir, service, v.from as string);
    const to = await effectiveConfigFromDir(project.manifestDir, service, v.to as string);
    const changes = diffConfigs(from, to);
    if (v.json) {
      ctx.out(JSON.stringify({ service, from: { environment: from.environment, digest: from.digest }, to: { environment: to.environment, digest: to.digest }, changes }));
      return exitCodes.ok;
    }
    const lines = [`${service}: ${from.environment} ${from.digest} -> ${to.environment} ${to.digest}`];
    if (changes.length === 0) lines.push('no differences');
    for (const c of changes) {
      const mark = c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~';
      const left = c.from ? `${show(c.from.value)} (${c.from.origin})` : '(absent)';
      const right = c.to ? `${show(c.to.value)} (${c.to.origin})` : '(absent)';
      lines.push(`${mark} ${c.pointer}: ${left} -> ${right}`);
    }
    ctx.out(lines.join('\n'));
    return exitCodes.ok;
  },
};
