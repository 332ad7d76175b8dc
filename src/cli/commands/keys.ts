/** `stagegate keys generate`: make an ECDSA P-256 key pair for signing releases, offline. */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { writeKeyPair } from '../../crypto/keys.ts';
import { parse as parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const usage = `usage: stagegate keys generate --out DIR [--name NAME] [--json]

Writes DIR/NAME.key (private, mode 0600) and DIR/NAME.pub (public), ECDSA P-256.
NAME defaults to "release". Existing files are never overwritten.
Put the .pub file's contents under \`keys\` in stagegate.yaml; keep the .key secret.`;

function parse(args: string[]) {
  return parseFlags(args, {
    out: { type: 'string' },
    name: { type: 'string', default: 'release' },
    json: { type: 'boolean', default: false },
  }, usage, false, 'keys generate').values;
}

export const keysGenerateCommand: Command = {
  name: 'keys generate',
  summary: 'generate an ECDSA P-256 key pair for signing releases',
  usage,
  async run(args, ctx) {
    const v = parse(args);
    if (!v.out) throw new DomainError('invalid_input', 'keys generate: --out DIR is required', { field: 'out', fix: usage });
    const dir = resolve(ctx.cwd, v.out);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const written = await writeKeyPair(dir, v.name);
    if (v.json) {
      ctx.out(JSON.stringify(written));
    } else {
      ctx.out(
        [
          `key id:      ${written.keyId}`,
          `private key: ${written.privateKeyPath}  (keep secret; mode 0600)`,
          `public key:  ${written.publicKeyPath}  (add to keys in stagegate.yaml)`,
        ].join('\n'),
      );
    }
    return exitCodes.ok;
  },
};
