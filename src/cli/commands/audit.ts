import { createReadStream } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { verifyExportedLog } from '../../audit/log-verify.ts';
import { DomainError } from '../../domain/errors.ts';
import { parse } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import { type Command, exitCodes } from '../command.ts';

const readText = (file: string, what: string) =>
  readFile(file, 'utf8').catch(() => {
    throw new DomainError('not_found', `cannot read ${what} ${file}`, { file, fix: `give the path of the ${what}` });
  });

export const auditLogCommand: Command = {
  name: 'audit log',
  summary: 'print audit entries',
  usage: 'stagegate audit log [--from I] [--limit N] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, from: { type: 'string' }, limit: { type: 'string' } }, this.usage, false);
    const q = new URLSearchParams({ from: values.from ?? '0', limit: values.limit ?? '100' });
    const r = await createClient(values, ctx).get<{ size: number; entries: Array<{ index: number; entry: { time: string; actor: string; action: string; outcome: string; subject: string; details: Record<string, unknown> } }> }>(`/v1/audit/entries?${q}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else {
      for (const { index, entry: e } of r.entries) {
        const why = typeof e.details['reason'] === 'string' ? `  (${e.details['reason']})` : e.details['to'] ? `  ${e.details['from']} -> ${e.details['to']}` : '';
        ctx.out(`${String(index).padStart(6)}  ${e.time}  ${e.outcome.padEnd(9)} ${e.action.padEnd(22)} ${e.actor.padEnd(18)} ${e.subject}${why}`);
      }
      ctx.out(`(${r.entries.length} of ${r.size} entries)`);
    }
    return 0;
  },
};

export const auditKeyCommand: Command = {
  name: 'audit key',
  summary: "print the log's verifier key (signed-note form name+hexid+base64)",
  usage: 'stagegate audit key [--out FILE]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, out: { type: 'string' } }, this.usage, false);
    const key = (await createClient(values, ctx).text('/v1/audit/key')).trim();
    if (values.out) await writeFile(values.out, `${key}\n`);
    ctx.out(values.json ? JSON.stringify({ verifierKey: key }) : key);
    return 0;
  },
};

export const auditCheckpointCommand: Command = {
  name: 'audit checkpoint',
  summary: 'print a signed checkpoint (C2SP tlog-checkpoint in a signed note) of the log now',
  usage: 'stagegate audit checkpoint [--out FILE]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, out: { type: 'string' } }, this.usage, false);
    const note = await createClient(values, ctx).text('/v1/audit/checkpoint');
    if (values.out) await writeFile(values.out, note);
    ctx.out(values.json ? JSON.stringify({ checkpoint: note }) : note.trimEnd());
    return 0;
  },
};

export const auditProofCommand: Command = {
  name: 'audit proof',
  summary: 'inclusion proof of entry I in the tree of size N (default: now)',
  usage: 'stagegate audit proof --index I [--size N] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, index: { type: 'string' }, size: { type: 'string' } }, this.usage, false);
    const q = new URLSearchParams({ index: values.index ?? '' });
    if (values.size) q.set('size', values.size);
    const r = await createClient(values, ctx).get<{ treeSize: number; leafIndex: number; leafHash: string; rootHash: string; proof: string[] }>(`/v1/audit/proof?${q}`);
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `entry ${r.leafIndex} of ${r.treeSize}\nleaf ${r.leafHash}\nroot ${r.rootHash}\nproof:\n${r.proof.map((h) => `  ${h}`).join('\n')}`);
    return 0;
  },
};

export const auditConsistencyCommand: Command = {
  name: 'audit consistency',
  summary: 'consistency proof between tree sizes M and N',
  usage: 'stagegate audit consistency --from M --to N [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, from: { type: 'string' }, to: { type: 'string' } }, this.usage, false);
    const q = new URLSearchParams({ from: values.from ?? '', to: values.to ?? '' });
    const r = await createClient(values, ctx).get<{ size1: number; size2: number; root1: string; root2: string; proof: string[] }>(`/v1/audit/consistency?${q}`);
    ctx.out(values.json ? JSON.stringify({ treeSize: r.size2, rootHash: r.root2, ...r }, null, 2) : `size ${r.size1} -> ${r.size2}\nroot1 ${r.root1}\nroot2 ${r.root2}\nproof:\n${r.proof.map((h) => `  ${h}`).join('\n')}`);
    return 0;
  },
};

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'export the log as JSON Lines (each line: index, entry, leafHash)',
  usage: 'stagegate audit export [--out FILE]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, out: { type: 'string' } }, this.usage, false);
    const res = await createClient(values, ctx).stream('/v1/audit/export');
    const text = await res.text();
    if (values.out) {
      await writeFile(values.out, text);
      ctx.out(`wrote ${text.split('\n').filter(Boolean).length} entries to ${values.out}`);
    } else ctx.out(text.trimEnd());
    return 0;
  },
};

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'verify an exported log against a signed checkpoint, offline (or ask the server to check its store)',
  usage: 'stagegate audit verify --log FILE --checkpoint FILE --key FILE [--json]   |   stagegate audit verify --online',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, log: { type: 'string' }, checkpoint: { type: 'string' }, key: { type: 'string' }, online: { type: 'boolean', default: false } }, this.usage, false);
    let result: { ok: boolean; index?: number; reason?: string; size?: number };
    if (values.online) {
      result = await createClient(values, ctx).get('/v1/audit/verify');
    } else {
      if (!values.log || !values.checkpoint || !values.key) throw new DomainError('invalid_input', 'offline verify needs --log, --checkpoint and --key', { fix: `usage: ${this.usage}` });
      // read the small files first: readline must be iterated as soon as it is created
      const checkpointNote = await readText(values.checkpoint, 'checkpoint');
      const verifierKey = (await readText(values.key, 'verifier key')).trim();
      const logFile = values.log;
      await access(logFile).catch(() => {
        throw new DomainError('not_found', `cannot read log ${logFile}`, { file: logFile, fix: 'give the file written by `stagegate audit export --out`' });
      });
      const lines = createInterface({ input: createReadStream(values.log), crlfDelay: Number.POSITIVE_INFINITY });
      result = (await verifyExportedLog({ lines, checkpointNote, verifierKey })) as typeof result;
    }
    if (values.json) ctx.out(JSON.stringify(result, null, 2));
    else if (result.ok) ctx.out(`audit log verified: ${result.size ?? ''} entries match the signed checkpoint`);
    else ctx.err(`audit log does NOT verify${result.index !== undefined ? ` at entry ${result.index}` : ''}: ${result.reason}`);
    return result.ok ? exitCodes.ok : exitCodes.failed;
  },
};
