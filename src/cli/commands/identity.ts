/** CLI: identities managed through the API (the project file's are read-only here). */
import { DomainError } from '../../domain/errors.ts';
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

const paths = { user: 'users', group: 'groups', service: 'service-accounts' } as const;
type Kind = keyof typeof paths;

function kindOf(word: string | undefined, usage: string): Kind {
  if (word === 'user' || word === 'group' || word === 'service') return word;
  throw new DomainError('invalid_input', `"${(word ?? '').slice(0, 40)}" is not user, group or service`, { fix: `usage: ${usage}` });
}

export const identitySetCommand: Command = {
  name: 'identity set',
  summary: 'create or replace an API-managed user, group or service account',
  usage: 'stagegate identity set user|group|service NAME [--role R]... [--group G]... [--member user:X|service:Y|group:Z]... [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, role: { type: 'string', multiple: true }, group: { type: 'string', multiple: true }, member: { type: 'string', multiple: true } }, this.usage);
    const kind = kindOf(positionals[0], this.usage);
    const name = required(positionals[1], 'NAME', this.usage);
    const entry =
      kind === 'user'
        ? { roles: values.role ?? [], ...(values.group ? { groups: values.group } : {}) }
        : kind === 'group'
          ? { ...(values.role ? { roles: values.role } : {}), ...(values.member ? { members: values.member } : {}) }
          : { roles: values.role ?? [] };
    const r = await createClient(values, ctx).send('PUT', `/v1/identities/${paths[kind]}/${encodeURIComponent(name)}`, entry);
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `set ${kind} ${name}`);
    return 0;
  },
};

export const identityDeleteCommand: Command = {
  name: 'identity delete',
  summary: 'delete an API-managed user, group or service account',
  usage: 'stagegate identity delete user|group|service NAME [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, clientFlags, this.usage);
    const kind = kindOf(positionals[0], this.usage);
    const name = required(positionals[1], 'NAME', this.usage);
    const r = await createClient(values, ctx).send('DELETE', `/v1/identities/${paths[kind]}/${encodeURIComponent(name)}`);
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `deleted ${kind} ${name}`);
    return 0;
  },
};

export const identityListCommand: Command = {
  name: 'identity list',
  summary: 'users, groups and service accounts: from the project file and managed through the API',
  usage: 'stagegate identity list [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    type Entry = { name: string; roles?: string[]; groups?: string[]; members?: string[] };
    const r = await createClient(values, ctx).get<Record<'project' | 'managed', { users?: Entry[]; groups?: Entry[]; serviceAccounts?: Entry[] }>>('/v1/identities');
    if (values.json) {
      ctx.out(JSON.stringify(r, null, 2));
      return 0;
    }
    for (const source of ['project', 'managed'] as const) {
      for (const kind of ['users', 'groups', 'serviceAccounts'] as const) {
        for (const e of r[source][kind] ?? []) {
          ctx.out(`${source.padEnd(8)} ${kind.padEnd(16)} ${e.name}  roles [${(e.roles ?? []).join(', ')}]${e.groups ? `  groups [${e.groups.join(', ')}]` : ''}${e.members ? `  members [${e.members.join(', ')}]` : ''}`);
        }
      }
    }
    return 0;
  },
};
