import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../crypto/digest.ts';
import { DomainError } from '../../domain/errors.ts';
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';

const usage = 'stagegate release push BUNDLE [--artifact PATH]... [--config DIR] [--server URL] [--token T] [--json]';

async function configFiles(dir: string, prefix = 'config'): Promise<Array<{ name: string; file: string }>> {
  const out: Array<{ name: string; file: string }> = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await configFiles(file, `${prefix}/${e.name}`)));
    else if (e.isFile()) out.push({ name: `${prefix}/${e.name}`, file });
  }
  return out;
}

export const releasePushCommand: Command = {
  name: 'release push',
  summary: 'send a signed release and its artifacts to the server',
  usage,
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, artifact: { type: 'string', multiple: true }, config: { type: 'string' } }, usage);
    const bundleFile = required(positionals[0], 'BUNDLE', usage);
    const client = createClient(values, ctx);
    const bundleText = await readFile(bundleFile, 'utf8').catch(() => {
      throw new DomainError('not_found', `cannot read bundle ${bundleFile}`, { file: bundleFile, fix: 'give the path written by `stagegate release create --out`' });
    });
    const files = (values.artifact ?? []).map((f) => ({ name: path.basename(f), file: f }));
    if (values.config) files.push(...(await configFiles(values.config)));
    const uploads: Array<{ name: string; digest: string; size: number; created: boolean }> = [];
    for (const f of files) {
      const s = await stat(f.file).catch(() => undefined);
      if (!s?.isFile()) throw new DomainError('not_found', `artifact ${f.file} is not a readable file`, { file: f.file, fix: 'check the --artifact path' });
      const { digest } = await sha256File(f.file);
      const r = await client.upload(digest, f.file);
      uploads.push({ name: f.name, ...r });
    }
    const r = await client.send<{ created: boolean; missingBlobs: string[]; release: { id: string; service: string; version: string } }>('POST', '/v1/releases', { bundle: bundleText });
    if (values.json) ctx.out(JSON.stringify({ ...r, uploads }, null, 2));
    else {
      for (const u of uploads) ctx.out(`uploaded ${u.name} ${u.digest} (${u.size} bytes${u.created ? '' : ', already stored'})`);
      ctx.out(`${r.created ? 'pushed' : 'already present, unchanged:'} ${r.release.service}@${r.release.version} ${r.release.id}`);
      if (r.missingBlobs.length) ctx.out(`note: the server has no bytes for ${r.missingBlobs.join(', ')}; the checksum gate will fail until you push them with --artifact/--config`);
    }
    return 0;
  },
};
