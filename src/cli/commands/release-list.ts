import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

interface Rel { id: string; service: string; version: string; signerKeyId: string; pushedBy: string; createdAt: string; subjects: Array<{ name: string; digest: string; kind: string; size: number | null }> }

export const releaseListCommand: Command = {
  name: 'release list',
  summary: 'list pushed releases, newest first',
  usage: 'stagegate release list [--service S] [--limit N] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, service: { type: 'string' }, limit: { type: 'string' } }, this.usage, false);
    const q = new URLSearchParams();
    if (values.service) q.set('service', values.service);
    if (values.limit) q.set('limit', values.limit);
    const r = await createClient(values, ctx).get<{ releases: Rel[] }>(`/v1/releases?${q}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else for (const x of r.releases) ctx.out(`${x.service}@${x.version}  ${x.id}  pushed by ${x.pushedBy} at ${x.createdAt}`);
    return 0;
  },
};

export const releaseShowCommand: Command = {
  name: 'release show',
  summary: 'show one release: subjects, signer, who pushed it',
  usage: 'stagegate release show SERVICE@VERSION|sha256:ID [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, clientFlags, this.usage);
    const ref = required(positionals[0], 'SERVICE@VERSION', this.usage);
    const r = await createClient(values, ctx).get<{ release: Rel }>(`/v1/releases/${encodeURIComponent(ref)}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else {
      const x = r.release;
      ctx.out(`${x.service}@${x.version}\n  id:        ${x.id}\n  signed by: ${x.signerKeyId}\n  pushed by: ${x.pushedBy} at ${x.createdAt}\n  subjects:`);
      for (const s of x.subjects) ctx.out(`    ${s.kind.padEnd(8)} ${s.name}  ${s.digest}${s.size === null ? (s.kind === 'image' ? '' : '  (bytes not uploaded)') : `  ${s.size} bytes`}`);
    }
    return 0;
  },
};
