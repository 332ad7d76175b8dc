import { DomainError } from '../../domain/errors.ts';
import { parse } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

export const loginCommand: Command = {
  name: 'login',
  summary: 'exchange the API token for a session token (at most 15 minutes, optionally narrower scopes)',
  usage: 'stagegate login [--scopes release.read,*.read] [--ttl SECONDS] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, scopes: { type: 'string' }, ttl: { type: 'string' } }, this.usage, false);
    const body: { scopes?: string[]; ttlSeconds?: number } = {};
    if (values.scopes !== undefined) {
      const scopes = values.scopes.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (scopes.length === 0 || scopes.length > 16) throw new DomainError('invalid_input', '--scopes needs 1 to 16 comma-separated scopes', { fix: `usage: ${this.usage}` });
      body.scopes = scopes;
    }
    if (values.ttl !== undefined) {
      const ttl = Number(values.ttl);
      if (!/^\d{1,4}$/.test(values.ttl) || ttl < 1 || ttl > 900) throw new DomainError('invalid_input', `--ttl must be 1 to 900 seconds, not "${values.ttl.slice(0, 20)}"`, { fix: `usage: ${this.usage}` });
      body.ttlSeconds = ttl;
    }
    const r = await createClient(values, ctx).send<{ token: string; expiresAt: string; jti: string; scopes: string[] }>('POST', '/v1/login', body);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else {
      ctx.err(`session ${r.jti} valid until ${r.expiresAt}${r.scopes.length ? ` (scopes ${r.scopes.join(', ')})` : ''}; use it as STAGEGATE_TOKEN`);
      ctx.out(r.token);
    }
    return 0;
  },
};
