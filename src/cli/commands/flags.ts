/** CLI: feature flags — show, propose a change, approve/reject/apply it, list changes, validate a file offline. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import type { FlagChangeView } from '../../flags/change-view.ts';
import { FLAG_KEY_RE, pointerOf } from '../../flags/flag-set.ts';
import { readFlagFile } from '../../flags/seed.ts';
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

const ENV_RE = /^[a-z][a-z0-9-]{0,62}$/;

function envArg(value: string | undefined, usage: string): string {
  const env = required(value, 'ENV', usage);
  if (!ENV_RE.test(env)) throw new DomainError('invalid_input', `environment "${env.slice(0, 64)}" is not an environment name`, { fix: 'use lowercase letters, digits and dashes, e.g. prod' });
  return env;
}

function changeLine(c: FlagChangeView): string {
  const need = c.approvalsNeeded;
  const approvals = need ? (need.satisfied ? 'approvals met' : `waiting for ${need.missing.map((m) => `${m.rule} ${m.have}/${m.needed}`).join(', ')}`) : 'no approvals needed';
  return `${c.id}  ${c.environment}  ${c.state}  base v${c.baseVersion}${c.appliedVersion ? ` -> v${c.appliedVersion}` : ''}  by ${c.author}  ${approvals}: ${c.reason}`;
}

export const flagsShowCommand: Command = {
  name: 'flags show',
  summary: "an environment's current flag set, version and digest",
  usage: 'stagegate flags show ENV [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, clientFlags, this.usage);
    const env = envArg(positionals[0], this.usage);
    const r = await createClient(values, ctx).get<{ version: number; digest: string; flagSet: { flags: Record<string, { state: string; defaultVariant?: string | null; targeting?: unknown; variants: Record<string, unknown> }> } }>(`/v1/flags/${env}`);
    if (values.json) {
      ctx.out(JSON.stringify(r, null, 2));
      return 0;
    }
    ctx.out(`${env}: version ${r.version}, ${r.digest}`);
    for (const [key, f] of Object.entries(r.flagSet.flags)) {
      ctx.out(`  ${key}  ${f.state}  default ${f.defaultVariant ?? '(none)'}  variants ${Object.keys(f.variants).join(', ')}${f.targeting && Object.keys(f.targeting).length > 0 ? '  (targeting)' : ''}`);
    }
    return 0;
  },
};

/** `FLAG=VALUE` pairs of --set / --state as RFC 6902 operations */
function assignments(list: string[] | undefined, flag: string, member: 'defaultVariant' | 'state'): unknown[] {
  return (list ?? []).map((pair) => {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (eq < 1 || !FLAG_KEY_RE.test(key) || value === '') {
      throw new DomainError('invalid_input', `${flag} ${pair.slice(0, 80)}: expected FLAG=${member === 'state' ? 'ENABLED|DISABLED' : 'VARIANT'}`, { field: flag, fix: `e.g. ${flag} new-checkout=${member === 'state' ? 'DISABLED' : 'on'}` });
    }
    if (member === 'state' && value !== 'ENABLED' && value !== 'DISABLED') throw new DomainError('invalid_input', `${flag} ${key}=${value.slice(0, 40)}: a state is ENABLED or DISABLED`, { field: flag, fix: `${flag} ${key}=DISABLED` });
    return { op: 'replace', path: pointerOf(['flags', key, member]), value };
  });
}

export const flagsChangeCommand: Command = {
  name: 'flags change',
  summary: 'propose a flag change (a draft change request) from a patch file, --set or --state',
  usage: 'stagegate flags change ENV (--patch FILE | --set FLAG=VARIANT... | --state FLAG=ENABLED|DISABLED...) --reason TEXT [--json]',
  async run(args, ctx) {
    const opts = { ...clientFlags, patch: { type: 'string' }, set: { type: 'string', multiple: true }, state: { type: 'string', multiple: true }, reason: { type: 'string' } } as const;
    const { values, positionals } = parse(args, opts, this.usage);
    const env = envArg(positionals[0], this.usage);
    const reason = required(values.reason, '--reason', this.usage);
    const ops = [...assignments(values.set, '--set', 'defaultVariant'), ...assignments(values.state, '--state', 'state')];
    if ((values.patch === undefined) === (ops.length === 0)) throw new DomainError('invalid_input', 'give either --patch FILE or --set/--state', { fix: `usage: ${this.usage}` });
    let patch: unknown = ops;
    if (values.patch !== undefined) {
      const file = resolve(ctx.cwd, values.patch);
      const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new DomainError('invalid_input', `cannot read ${file}: ${e.code ?? e.message}`, { file, fix: 'pass a JSON file with RFC 6902 operations' });
      });
      try {
        patch = JSON.parse(text);
      } catch (e) {
        throw new DomainError('invalid_input', `${file}: not valid JSON: ${(e as Error).message.slice(0, 160)}`, { file, fix: 'write a JSON array of RFC 6902 operations' });
      }
    }
    const r = await createClient(values, ctx).send<{ change: FlagChangeView }>('POST', `/v1/flags/${env}/changes`, { patch, reason });
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `proposed ${changeLine(r.change)}\nnext: ${r.change.approvalsNeeded ? `approvers run \`stagegate flags approve ${r.change.id}\`, then ` : ''}\`stagegate flags apply ${r.change.id}\``);
    return 0;
  },
};

function decisionCommand(verb: 'approve' | 'reject' | 'apply'): Command {
  const summaries = { approve: "approve someone else's flag change request", reject: 'reject a flag change request (or withdraw your own)', apply: 'apply an approved flag change request (its base version must be current)' };
  return {
    name: `flags ${verb}`,
    summary: summaries[verb],
    usage: `stagegate flags ${verb} CHANGE_ID${verb === 'apply' ? '' : ' [--comment TEXT]'} [--json]`,
    async run(args, ctx) {
      const { values, positionals } = parse(args, { ...clientFlags, comment: { type: 'string' } }, this.usage);
      const id = required(positionals[0], 'CHANGE_ID', this.usage);
      if (!/^flc_[a-f0-9]{16}$/.test(id)) throw new DomainError('invalid_input', `"${id.slice(0, 40)}" is not a flag change id`, { fix: 'ids look like flc_0123456789abcdef; list them with `stagegate flags changes ENV`' });
      const client = createClient(values, ctx);
      const { change } = await client.get<{ change: FlagChangeView }>(`/v1/flag-changes/${id}`);
      const body = verb !== 'apply' && values.comment !== undefined ? { comment: values.comment } : undefined;
      const r = await client.send<{ change: FlagChangeView & { version?: number; digest?: string } }>('POST', `/v1/flags/${change.environment}/changes/${id}/${verb}`, body);
      ctx.out(values.json ? JSON.stringify(r, null, 2) : verb === 'apply' ? `applied ${id}: ${change.environment} is now version ${r.change.version} (${r.change.digest})` : changeLine(r.change));
      return 0;
    },
  };
}
export const flagsApproveCommand = decisionCommand('approve');
export const flagsRejectCommand = decisionCommand('reject');
export const flagsApplyCommand = decisionCommand('apply');

export const flagsChangesCommand: Command = {
  name: 'flags changes',
  summary: "an environment's flag change requests, newest first",
  usage: 'stagegate flags changes ENV [--state draft,approved,...] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, state: { type: 'string' } }, this.usage);
    const env = envArg(positionals[0], this.usage);
    const r = await createClient(values, ctx).get<{ changes: FlagChangeView[] }>(`/v1/flags/${env}/changes${values.state ? `?state=${encodeURIComponent(values.state)}` : ''}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.changes.length === 0) ctx.out(`no flag change requests for ${env}`);
    else for (const c of r.changes) ctx.out(changeLine(c));
    return 0;
  },
};

export const flagsValidateCommand: Command = {
  name: 'flags validate',
  summary: "check a flagd flag file against flagd's schema and stagegate's bounds, offline",
  usage: 'stagegate flags validate FILE [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, this.usage);
    const file = resolve(ctx.cwd, required(positionals[0], 'FILE', this.usage));
    const set = await readFlagFile(file).catch((e: unknown) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') throw new DomainError('invalid_input', `cannot read ${file}: ${code}`, { file, fix: 'pass the path of a .flagd.json file' });
      throw e;
    });
    const n = Object.keys(set.flags).length;
    ctx.out(values.json ? JSON.stringify({ ok: true, file, flags: n }, null, 2) : `ok: ${file} is a valid flagd flag set with ${n} flag${n === 1 ? '' : 's'}`);
    return 0;
  },
};
