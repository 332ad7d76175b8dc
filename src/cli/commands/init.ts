import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { scaffoldProject } from '../../project/scaffold.ts';
import { parse as parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const usage = `usage: stagegate init [DIR] [--project NAME] [--service NAME] [--force] [--json]

Create DIR/stagegate.yaml (dev -> staging -> prod on an exec target) with deploy.js and verify.js.
DIR defaults to the current directory and is created if missing.
  --project NAME   project name (default: the directory name)
  --service NAME   first service (default: app)
  --force          overwrite existing stagegate.yaml, deploy.js, verify.js
  --json           print the result as JSON`;

export const initCommand: Command = {
  name: 'init',
  summary: 'create a stagegate.yaml with a dev -> staging -> prod pipeline',
  usage,
  async run(args, ctx) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(args);
    } catch (e) {
      throw new DomainError('invalid_input', `stagegate init: ${(e as Error).message}`, { fix: usage });
    }
    const { values, positionals } = parsed;
    if (positionals.length > 1)
      throw new DomainError('invalid_input', `stagegate init takes one directory, got ${positionals.length}`, { fix: usage });
    const dir = positionals[0] ?? '.';
    const result = await scaffoldProject({
      dir: resolve(ctx.cwd, dir),
      ...(values.project !== undefined ? { project: values.project } : {}),
      ...(values.service !== undefined ? { service: values.service } : {}),
      force: values.force === true,
    });
    if (values.json) {
      ctx.out(JSON.stringify(result));
      return 0;
    }
    ctx.out(`created project ${result.project} in ${result.dir}:`);
    for (const f of result.files) ctx.out(`  ${f}`);
    ctx.out('next:');
    for (const step of result.next) ctx.out(`  ${step}`);
    return 0;
  },
};

function parse(args: string[]) {
  return parseFlags(args, {
    project: { type: 'string' },
    service: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  }, usage, true, 'init');
}
