import { DomainError } from '../../domain/errors.ts';
import type { StatusCell } from '../../engine/queries.ts';
import type { AttestationResult } from '../../parity/attestation.ts';
import { parse } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: 'what runs where: services x environments',
  usage: 'stagegate status [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    const client = createClient(values, ctx);
    const r = await client.get<{ status: StatusCell[] }>('/v1/status');
    // the latest continuous attestation per environment; left out when this principal may not read it
    const att = await client.get<{ results: AttestationResult[] }>('/v1/attestation').catch((e: unknown) => {
      if (e instanceof DomainError && e.code === 'forbidden') return undefined;
      throw e;
    });
    if (values.json) {
      ctx.out(JSON.stringify({ ...r, ...(att ? { attestation: att.results } : {}) }, null, 2));
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
    if (att && att.results.length > 0) {
      ctx.out('\nattestation (drift + integrity, latest run):');
      for (const a of att.results) {
        const what = a.status === 'ok' ? 'ok' : a.status === 'error' ? `ERROR: ${a.error ?? a.drift.error ?? ''}` : `${a.findingCount} FINDING${a.findingCount === 1 ? '' : 'S'}: ${[...a.drift.findings.map((f) => f.path), ...a.integrity.findings.map((f) => `${f.service} ${f.kind}${f.subject ? ` ${f.subject}` : ''}`)].slice(0, 3).join(', ')}`;
        ctx.out(`  ${a.environment.padEnd(widths[0]!)}  ${what.slice(0, 200)}  (${a.at}${a.drift.observable ? '' : '; target cannot observe'})`);
      }
    }
    return 0;
  },
};
