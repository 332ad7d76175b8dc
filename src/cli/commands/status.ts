import type { StatusCell } from '../../engine/queries.ts';
import { parse } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: 'what runs where: services x environments',
  usage: 'stagegate status [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    const r = await createClient(values, ctx).get<{ status: StatusCell[] }>('/v1/status');
    if (values.json) {
      ctx.out(JSON.stringify(r, null, 2));
      return 0;
    }
    const envs = [...new Set(r.status.map((c) => c.environment))];
    const services = [...new Set(r.status.map((c) => c.service))];
    const cell = (c: StatusCell | undefined) => {
      if (!c) return '-';
      const cur = c.current ? c.current.version : '-';
      const act = c.active ? ` (${c.active.version}: ${c.active.state}${c.queued ? `, +${c.queued} queued` : ''})` : '';
      return `${cur}${act}`;
    };
    const rows = [['SERVICE', ...envs.map((e) => e.toUpperCase())], ...services.map((s) => [s, ...envs.map((e) => cell(r.status.find((c) => c.service === s && c.environment === e)))])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) ctx.out(row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
    return 0;
  },
};
