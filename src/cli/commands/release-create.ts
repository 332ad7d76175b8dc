/** `stagegate release create`: hash, sign and bundle a release offline. */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { createRelease } from '../../engine/release-create.ts';
import { parse as parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const usage = `usage: stagegate release create --service S --version V --artifact PATH... [--image REPO@sha256:DIGEST]...
         [--config DIR] [--provenance FILE] [--needs service:NAME@RANGE|platform:NAME@RANGE]...
         --key KEY --out FILE [--json]

Hashes each artifact and config file, signs an in-toto statement (SLSA provenance v1) with the
P-256 private KEY and writes a Sigstore bundle to FILE. Repeat --artifact and --image as needed.
When DIR holds base.yaml (a manifest folder), the digest of each environment's effective
configuration is signed too (docs/configuration.md); --needs declares what the target must run.`;

function parse(args: string[]) {
  return parseFlags(args, {
    service: { type: 'string' },
    version: { type: 'string' },
    artifact: { type: 'string', multiple: true, default: [] },
    image: { type: 'string', multiple: true, default: [] },
    config: { type: 'string' },
    provenance: { type: 'string' },
    needs: { type: 'string', multiple: true, default: [] },
    key: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  }, usage, false, 'release create').values;
}

export const releaseCreateCommand: Command = {
  name: 'release create',
  summary: 'sign a release (artifacts, images, config) into a Sigstore bundle, offline',
  usage,
  async run(args, ctx) {
    const v = parse(args);
    for (const flag of ['service', 'version', 'key', 'out'] as const) {
      if (!v[flag]) throw new DomainError('invalid_input', `release create: --${flag} is required`, { field: flag, fix: usage });
    }
    if (v.artifact.length === 0 && v.image.length === 0 && v.config === undefined) {
      throw new DomainError('invalid_input', 'release create: nothing to sign', {
        fix: 'pass at least one --artifact PATH, --image REPO@sha256:DIGEST or --config DIR',
      });
    }
    const keyPath = resolve(ctx.cwd, v.key as string);
    const privateKeyPem = await readFile(keyPath, 'utf8').catch((e: Error) => {
      throw new DomainError('invalid_input', `signing key ${keyPath} cannot be read: ${e.message}`, {
        file: keyPath,
        fix: 'pass the .key file written by `stagegate keys generate`',
      });
    });
    const release = await createRelease({
      service: v.service as string,
      version: v.version as string,
      artifacts: v.artifact.map((p) => resolve(ctx.cwd, p)),
      images: v.image,
      ...(v.config !== undefined ? { configDir: resolve(ctx.cwd, v.config) } : {}),
      ...(v.provenance !== undefined ? { provenanceFile: resolve(ctx.cwd, v.provenance) } : {}),
      needs: v.needs,
      privateKeyPem,
      keySource: keyPath,
    });
    const outPath = resolve(ctx.cwd, v.out as string);
    const tmp = `${outPath}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, release.bundleJson, { flag: 'wx' });
      await rename(tmp, outPath);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new DomainError('invalid_input', `cannot write the bundle to ${outPath}: ${(e as Error).message}`, {
        file: outPath,
        fix: 'check that the --out directory exists and is writable',
      });
    }
    const subjects = release.subjects.map((s) => ({ name: s.name, kind: s.kind, digest: s.digest, size: s.size }));
    if (v.json) {
      ctx.out(JSON.stringify({ releaseId: release.releaseId, service: v.service, version: v.version, keyId: release.keyId, bundle: outPath, subjects }));
    } else {
      ctx.out(
        [
          `release ${release.releaseId}`,
          `  ${v.service}@${v.version}, signed by key ${release.keyId}`,
          ...subjects.map((s) => `  ${s.kind.padEnd(8)} ${s.name}  ${s.digest}`),
          `wrote ${outPath}`,
        ].join('\n'),
      );
    }
    return exitCodes.ok;
  },
};
