/** CLI: just-in-time elevation — ask for a role for N minutes, approve or deny someone else's request, list. */
import { DomainError } from '../../domain/errors.ts';
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

interface ElevationView {
  id: string;
  principal: string;
  role: string;
  reason: string;
  durationMs: number;
  status: string;
  state?: string;
  requestedAt: string;
  decidedBy: string | null;
  expiresAt: string | null;
}

export const elevateCommand: Command = {
  name: 'elevate',
  summary: 'ask for a role for N minutes with a reason; another person approves it',
  usage: 'stagegate elevate --role ROLE --minutes N --reason TEXT [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, role: { type: 'string' }, minutes: { type: 'string' }, reason: { type: 'string' } }, this.usage, false);
    const role = required(values.role, '--role', this.usage);
    const minutesText = required(values.minutes, '--minutes', this.usage);
    if (!/^\d{1,3}$/.test(minutesText)) throw new DomainError('invalid_input', `--minutes ${minutesText.slice(0, 20)} is not a whole number`, { field: 'minutes', fix: 'give 1 to 240' });
    const r = await createClient(values, ctx).send<{ elevation: ElevationView }>('POST', '/v1/elevations', { role, minutes: Number(minutesText), reason: required(values.reason, '--reason', this.usage) });
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `requested ${r.elevation.id}: ${r.elevation.role} for ${minutesText} minutes; another person approves it with \`stagegate elevation approve ${r.elevation.id}\``);
    return 0;
  },
};

function decideCommand(decision: 'approve' | 'deny'): Command {
  return {
    name: `elevation ${decision}`,
    summary: decision === 'approve' ? "approve someone else's elevation request (starts its time box)" : "deny someone else's elevation request",
    usage: `stagegate elevation ${decision} ELEVATION_ID [--json]`,
    async run(args, ctx) {
      const { values, positionals } = parse(args, clientFlags, this.usage);
      const id = required(positionals[0], 'ELEVATION_ID', this.usage);
      const r = await createClient(values, ctx).send<{ elevation: ElevationView }>('POST', `/v1/elevations/${encodeURIComponent(id)}/${decision}`);
      const e = r.elevation;
      ctx.out(values.json ? JSON.stringify(r, null, 2) : decision === 'approve' ? `approved ${id}: ${e.principal} holds ${e.role} until ${e.expiresAt}` : `denied ${id} (${e.principal} asked for ${e.role})`);
      return 0;
    },
  };
}
export const elevationApproveCommand = decideCommand('approve');
export const elevationDenyCommand = decideCommand('deny');

export const elevationListCommand: Command = {
  name: 'elevation list',
  summary: 'elevation requests and grants (--pending: the ones waiting for a decision)',
  usage: 'stagegate elevation list [--pending | --active] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, pending: { type: 'boolean', default: false }, active: { type: 'boolean', default: false } }, this.usage, false);
    if (values.pending && values.active) throw new DomainError('invalid_input', '--pending and --active exclude each other', { fix: `usage: ${this.usage}` });
    const q = values.pending ? '?status=pending' : values.active ? '?status=active' : '';
    const r = await createClient(values, ctx).get<{ elevations: ElevationView[] }>(`/v1/elevations${q}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.elevations.length === 0) ctx.out(values.pending ? 'no elevation request waits for a decision' : 'no elevations');
    else
      for (const e of r.elevations) {
        const when = e.expiresAt ? ` until ${e.expiresAt}` : '';
        ctx.out(`${e.id}  ${e.state ?? e.status}  ${e.principal} -> ${e.role} for ${Math.round(e.durationMs / 60_000)} min${when}${e.decidedBy ? `, decided by ${e.decidedBy}` : ''}: ${e.reason}`);
      }
    return 0;
  },
};
