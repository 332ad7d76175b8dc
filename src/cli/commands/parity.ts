/** `stagegate parity ENV_A ENV_B` and `stagegate drift ENV`: exit 0 without findings, 1 with findings. */
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import { type Command, exitCodes } from '../command.ts';
import type { DriftReport } from '../../parity/drift.ts';
import { driftTable, parityTable } from '../../parity/format.ts';
import type { ParityReport } from '../../parity/report.ts';

export const parityCommand: Command = {
  name: 'parity',
  summary: 'every difference between two environments, allowed (parity.yaml) or a finding, and a score',
  usage: 'stagegate parity ENV_A ENV_B [--service S] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, service: { type: 'string' } }, this.usage, true, 'parity');
    const a = required(positionals[0], 'ENV_A', this.usage);
    const b = required(positionals[1], 'ENV_B', this.usage);
    const q = new URLSearchParams({ a, b });
    if (values.service) q.set('service', values.service);
    const r = await createClient(values, ctx).get<ParityReport>(`/v1/parity?${q}`);
    ctx.out(values.json ? JSON.stringify(r, null, 2) : parityTable(r));
    return r.findings === 0 ? exitCodes.ok : exitCodes.failed;
  },
};

export const driftCommand: Command = {
  name: 'drift',
  summary: "what runs in an environment (the target's observe command) against what stagegate deployed",
  usage: 'stagegate drift ENV [--service S] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, service: { type: 'string' } }, this.usage, true, 'drift');
    const env = required(positionals[0], 'ENV', this.usage);
    const q = new URLSearchParams();
    if (values.service) q.set('service', values.service);
    const r = await createClient(values, ctx).get<DriftReport & { observable: boolean }>(`/v1/drift/${encodeURIComponent(env)}${values.service ? `?${q}` : ''}`);
    ctx.out(values.json ? JSON.stringify(r, null, 2) : driftTable(r));
    if (r.error && !values.json) ctx.err('drift is unknown: the observation failed (exit 1)');
    return r.findings.length === 0 && !r.error ? exitCodes.ok : exitCodes.failed;
  },
};
