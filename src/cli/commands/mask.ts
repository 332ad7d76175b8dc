/** `stagegate mask --policy FILE IN OUT`: deterministic, format-keeping pseudonymization of CSV and JSON Lines, offline. */
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { loadMaskKey } from '../../mask/key.ts';
import { maskFile } from '../../mask/mask-file.ts';
import { loadPolicy } from '../../mask/policy-load.ts';
import { parse as parseFlags, required } from '../args.ts';
import type { Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const usage = `stagegate mask --policy FILE [--key-file FILE] [--force] [--json] IN OUT

Masks a CSV or JSON Lines file (format from the policy or the extension .csv/.jsonl/.ndjson) with
the policy's method per column or JSON Pointer: HMAC-SHA256 pseudonyms keyed with the masking key
(--key-file FILE, else STAGEGATE_MASK_KEY; 32+ random bytes as hex or base64), so equal values give
equal outputs in every file and joins still line up. Columns the policy does not list fail the run
unless the policy sets default: keep|drop. OUT is written only when every record was masked
(--force replaces an existing OUT). See docs/data-masking.md.`;

export const maskCommand: Command = {
  name: 'mask',
  summary: 'pseudonymize CSV / JSON Lines for non-production (format-keeping, joins kept), offline',
  usage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(
      args,
      { policy: { type: 'string' }, 'key-file': { type: 'string' }, force: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
      usage,
      true,
      'mask',
    );
    const policyPath = required(v.policy, '--policy', usage);
    if (positionals.length !== 2) throw new DomainError('invalid_input', `mask: expected IN and OUT, got ${positionals.length} path${positionals.length === 1 ? '' : 's'}`, { fix: `usage: ${usage}` });
    const [input, output] = positionals as [string, string];
    const loaded = await loadPolicy(resolve(ctx.cwd, policyPath), policyPath);
    const keyFile = v['key-file'];
    const key = await loadMaskKey({ ...(keyFile !== undefined ? { keyFile: resolve(ctx.cwd, keyFile), shownAs: keyFile } : {}), env: ctx.env });
    const summary = await maskFile({ loaded, key, input: resolve(ctx.cwd, input), output: resolve(ctx.cwd, output), force: v.force });
    const shown = { ...summary, input, output, policy: policyPath };
    if (v.json) ctx.out(JSON.stringify(shown));
    else {
      ctx.out(`masked ${summary.records} record${summary.records === 1 ? '' : 's'} (${summary.format}) from ${input} to ${output}`);
      if (summary.unused.length) ctx.out(`note: policy fields not in ${input}: ${summary.unused.join(', ')}`);
      if (summary.droppedByDefault.length) ctx.out(`note: dropped by default: ${summary.droppedByDefault.join(', ')}`);
    }
    return exitCodes.ok;
  },
};
