/** stagegate CLI: dispatch to a command, map errors to exit codes. */
import { DomainError, formatError } from '../domain/errors.ts';
import { type CliContext, type Command, exitCodes } from './command.ts';
import { commands } from './registry.ts';

export function findCommand(argv: string[], list: readonly Command[] = commands): { command: Command; rest: string[] } | undefined {
  const byLength = [...list].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const c of byLength) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command: c, rest: argv.slice(words.length) };
  }
  return undefined;
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'stagegate: secure promotion control plane',
    '',
    'usage: stagegate COMMAND [flags]   (every command takes --help and --json)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Server commands use --server (or STAGEGATE_SERVER) and --token (or STAGEGATE_TOKEN).',
    'Exit codes: 0 ok, 1 check failed, 2 usage/invalid input, 3 not found, 4 unauthenticated, 5 forbidden, 6 conflict, 7 server unreachable.',
  ].join('\n');
}

export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    ctx.out(help());
    return argv.length === 0 ? exitCodes.usage : exitCodes.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    ctx.err(`unknown command: ${argv.slice(0, 2).join(' ')}\n\n${help()}`);
    return exitCodes.usage;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.out(`${command.summary}\n\n${command.usage.startsWith('usage: ') ? '' : 'usage: '}${command.usage}`);
    return exitCodes.ok;
  }
  try {
    return await command.run(rest, ctx);
  } catch (e) {
    if (e instanceof DomainError) {
      if (rest.includes('--json')) ctx.err(JSON.stringify({ error: e.toJSON() }, null, 2));
      else ctx.err(`error: ${formatError(e)}`);
      return e.code === 'invalid_input' || e.code === 'payload_too_large'
        ? exitCodes.usage
        : e.code === 'signature_invalid' || e.code === 'digest_mismatch' || e.code === 'secret_detected'
          ? exitCodes.failed
          : e.code in exitCodes
            ? exitCodes[e.code as keyof typeof exitCodes]
            : exitCodes.internal;
    }
    ctx.err(`internal error: ${(e as Error).stack ?? String(e)}`);
    return exitCodes.internal;
  }
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isMain || process.env['STAGEGATE_CLI_MAIN'] === '1') {
  const ctx: CliContext = {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
  // if the work never settles (a bug), exit non-zero rather than 0
  process.exitCode = exitCodes.internal;
  runCli(process.argv.slice(2), ctx).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${String(e)}\n`);
      process.exitCode = exitCodes.internal;
    },
  );
}
