/** `stagegate secrets set|rotate|rewrap|list`: SOPS + age secrets files, offline. Never prints a value. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { parseDuration } from '../../domain/duration.ts';
import { cliIdentities } from '../../secrets/identity-file.ts';
import { listSecretsFiles, secretsFileRef } from '../../secrets/layout.ts';
import { formatSecretsList, listSecrets } from '../../secrets/list.ts';
import { MAX_VALUE_BYTES, keyPath, rewrapSecretsFile, rotateSecretsFile, setSecret } from '../../secrets/secret-ops.ts';
import { parse as parseFlags } from '../args.ts';
import type { CliContext, Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const common = {
  project: { type: 'string' },
  identity: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
} as const;
/** the folder of the project file (`--project FILE`, default ./stagegate.yaml): secrets/ and .sops.yaml live there */
const projectDirOf = (file: string | undefined, ctx: CliContext): string => path.dirname(path.resolve(ctx.cwd, file ?? 'stagegate.yaml'));
const IDENTITY_HELP = 'Identity: --identity FILE (age identity file), else $SOPS_AGE_KEY_FILE or $STAGEGATE_AGE_IDENTITY_FILE.';

function rotateByMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) {
    throw new DomainError('invalid_input', `--rotate-by ${JSON.stringify(v.slice(0, 40))} is not a duration`, { field: '--rotate-by', fix: 'use a duration of at most 365d, e.g. 90d, 12h or 1d12h' });
  }
  return ms;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    chunks.push(c as Buffer);
    if (size > MAX_VALUE_BYTES + 2) break; // setSecret refuses it
  }
  return Buffer.concat(chunks);
}

function utf8(buf: Buffer, from: string): string {
  const s = buf.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(buf) || s.includes('\0')) {
    throw new DomainError('invalid_input', `the value from ${from} is not UTF-8 text`, { fix: 'base64-encode binary material before storing it' });
  }
  return s;
}

/** FILE or --env ENV: the files to work on, relative to the project folder */
async function targets(positionals: string[], env: string | undefined, projectDir: string, ctx: CliContext, usage: string) {
  if ((positionals.length === 1) === (env !== undefined) || positionals.length > 1) {
    throw new DomainError('invalid_input', 'pass either one FILE or --env ENV', { fix: usage });
  }
  if (env !== undefined) {
    const refs = await listSecretsFiles(projectDir, env);
    if (refs.length === 0) throw new DomainError('not_found', `no secrets files in ${path.join(projectDir, 'secrets', env)}`, { fix: 'create one with stagegate secrets set' });
    return refs.map((r) => ({ file: r.file, rel: r.rel }));
  }
  const file = path.resolve(ctx.cwd, positionals[0] as string);
  return [{ file, rel: path.relative(projectDir, file).split(path.sep).join('/') }];
}

const setUsage = `stagegate secrets set ENV SERVICE KEY (--value-stdin | --from-file F) [--rotate-by 90d] [--project FILE] [--identity FILE] [--json]

Encrypts one secret into secrets/ENV/SERVICE.sops.yaml (created when missing, with created = now and
rotate_by = now + --rotate-by, default 90d), for the recipients .sops.yaml gives that path. KEY may be
nested with dots (db.password). Changing an existing file needs an identity. ${IDENTITY_HELP}`;
export const secretsSetCommand: Command = {
  name: 'secrets set',
  summary: 'encrypt one secret into secrets/<env>/<service>.sops.yaml (offline)',
  usage: setUsage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(args, { ...common, 'value-stdin': { type: 'boolean', default: false }, 'from-file': { type: 'string' }, 'rotate-by': { type: 'string' } }, setUsage, true, 'secrets set');
    if (positionals.length !== 3) throw new DomainError('invalid_input', `secrets set: expected ENV SERVICE KEY, got ${positionals.length} argument(s)`, { fix: setUsage });
    if (v['value-stdin'] === (v['from-file'] !== undefined)) throw new DomainError('invalid_input', 'secrets set: pass exactly one of --value-stdin and --from-file', { fix: 'values are never taken from the command line, so they stay out of shell history and ps' });
    const [env, service, key] = positionals as [string, string, string];
    const projectDir = projectDirOf(v.project, ctx);
    secretsFileRef(projectDir, env, service);
    keyPath(key);
    const ms = rotateByMs(v['rotate-by']);
    let value: string;
    if (v['from-file'] !== undefined) {
      const f = path.resolve(ctx.cwd, v['from-file']);
      const buf = await readFile(f).catch((e: NodeJS.ErrnoException) => {
        throw new DomainError('invalid_input', `cannot read --from-file ${f}: ${e.code ?? e.message}`, { file: f, fix: 'pass a readable file' });
      });
      value = utf8(buf, f);
    } else value = utf8(await readStdin(), 'stdin').replace(/\r?\n$/, '');
    if (value === '') throw new DomainError('invalid_input', 'secrets set: the value is empty', { fix: 'SOPS leaves empty values unencrypted; pass a non-empty value' });
    const identities = await cliIdentities(v.identity ?? [], ctx.env, ctx.cwd);
    const r = await setSecret({ projectDir, env, service, key, value, now: new Date(), ...(identities ? { identities } : {}), ...(ms !== undefined ? { rotateByMs: ms } : {}) });
    ctx.out(v.json ? JSON.stringify({ file: r.file, key, createdFile: r.createdFile }) : `${r.createdFile ? 'created' : 'updated'} ${r.file}: set ${key}`);
    return exitCodes.ok;
  },
};

const rotateUsage = `stagegate secrets rotate (FILE | --env ENV) [--rotate-by 90d] [--project FILE] [--identity FILE] [--json]

Draws a new data key, re-encrypts every value, wraps the key to the recipients .sops.yaml gives the
file, and resets created to now (rotate_by = now + --rotate-by, default: the file's previous interval).
${IDENTITY_HELP}`;
export const secretsRotateCommand: Command = {
  name: 'secrets rotate',
  summary: 'new data key for a secrets file (or every file of an environment), created reset',
  usage: rotateUsage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(args, { ...common, env: { type: 'string' }, 'rotate-by': { type: 'string' } }, rotateUsage, true, 'secrets rotate');
    const projectDir = projectDirOf(v.project, ctx);
    const ms = rotateByMs(v['rotate-by']);
    const identities = await cliIdentities(v.identity ?? [], ctx.env, ctx.cwd);
    const done: Array<{ file: string; created: string; rotateBy: string }> = [];
    for (const t of await targets(positionals, v.env, projectDir, ctx, rotateUsage)) {
      const meta = await rotateSecretsFile({ projectDir, ...t, now: new Date(), ...(identities ? { identities } : {}), ...(ms !== undefined ? { rotateByMs: ms } : {}) });
      done.push({ file: t.rel, created: meta.created, rotateBy: meta.rotate_by });
      if (!v.json) ctx.out(`rotated ${t.rel}: new data key; created ${meta.created}, rotate by ${meta.rotate_by}`);
    }
    if (v.json) ctx.out(JSON.stringify({ rotated: done }));
    return exitCodes.ok;
  },
};

const rewrapUsage = `stagegate secrets rewrap (FILE | --env ENV) [--project FILE] [--identity FILE] [--json]

Wraps the same data key to the recipients .sops.yaml now gives the file (values and MAC unchanged).
After removing a recipient for cause, rotate as well. ${IDENTITY_HELP}`;
export const secretsRewrapCommand: Command = {
  name: 'secrets rewrap',
  summary: 'wrap a secrets file to the recipients of .sops.yaml (same data key)',
  usage: rewrapUsage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(args, { ...common, env: { type: 'string' } }, rewrapUsage, true, 'secrets rewrap');
    const projectDir = projectDirOf(v.project, ctx);
    const identities = await cliIdentities(v.identity ?? [], ctx.env, ctx.cwd);
    const done: Array<{ file: string; recipients: string[] }> = [];
    for (const t of await targets(positionals, v.env, projectDir, ctx, rewrapUsage)) {
      const recipients = await rewrapSecretsFile({ projectDir, ...t, ...(identities ? { identities } : {}) });
      done.push({ file: t.rel, recipients });
      if (!v.json) ctx.out(`rewrapped ${t.rel} for ${recipients.length} recipient(s): ${recipients.join(', ')}`);
    }
    if (v.json) ctx.out(JSON.stringify({ rewrapped: done }));
    return exitCodes.ok;
  },
};

const listUsage = `stagegate secrets list [--env ENV] [--project FILE] [--identity FILE] [--json]

Names, key id, recipients and last-modified time of every secrets file; with an identity also created,
rotate_by and overdue. Never values. Exit 1 when a file is overdue or cannot be read. ${IDENTITY_HELP}`;
export const secretsListCommand: Command = {
  name: 'secrets list',
  summary: 'list secrets files: names, key id, recipients, created, rotate_by (never values)',
  usage: listUsage,
  async run(args, ctx) {
    const { values: v, positionals } = parseFlags(args, { ...common, env: { type: 'string' } }, listUsage, false, 'secrets list');
    void positionals;
    const projectDir = projectDirOf(v.project, ctx);
    const identities = await cliIdentities(v.identity ?? [], ctx.env, ctx.cwd);
    const rows = await listSecrets({ projectDir, now: new Date(), ...(v.env !== undefined ? { env: v.env } : {}), ...(identities ? { identities } : {}) });
    ctx.out(v.json ? JSON.stringify({ files: rows }, null, 2) : formatSecretsList(rows, identities !== undefined));
    return rows.some((r) => r.error || r.overdue) ? exitCodes.failed : exitCodes.ok;
  },
};
