import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

export const tokenCreateCommand: Command = {
  name: 'token create',
  summary: 'create an API token for a user with a role (viewer, releaser, admin); shown once',
  usage: 'stagegate token create --name N --actor user:NAME --role ROLE [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, name: { type: 'string' }, actor: { type: 'string' }, role: { type: 'string' } }, this.usage, false);
    const r = await createClient(values, ctx).send<{ token: string; record: { id: string; actor: string; role: string } }>('POST', '/v1/tokens', {
      name: required(values.name, '--name', this.usage),
      actor: required(values.actor, '--actor', this.usage),
      role: required(values.role, '--role', this.usage),
    });
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `token ${r.record.id} for ${r.record.actor} (${r.record.role}); copy it now, it is not shown again:\n${r.token}`);
    return 0;
  },
};

export const tokenListCommand: Command = {
  name: 'token list',
  summary: 'list API tokens (never their secrets)',
  usage: 'stagegate token list [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    const r = await createClient(values, ctx).get<{ tokens: Array<{ id: string; name: string; actor: string; role: string; createdAt: string; revokedAt: string | null }> }>('/v1/tokens');
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else for (const t of r.tokens) ctx.out(`${t.id}  ${t.name}  ${t.actor}  ${t.role}  created ${t.createdAt}${t.revokedAt ? `  revoked ${t.revokedAt}` : ''}`);
    return 0;
  },
};

export const tokenRevokeCommand: Command = {
  name: 'token revoke',
  summary: 'revoke an API token',
  usage: 'stagegate token revoke ID',
  async run(args, ctx) {
    const { values, positionals } = parse(args, clientFlags, this.usage);
    const id = required(positionals[0], 'ID', this.usage);
    await createClient(values, ctx).send('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
    ctx.out(values.json ? JSON.stringify({ revoked: id }) : `revoked ${id}`);
    return 0;
  },
};
