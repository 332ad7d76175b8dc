/** `stagegate release verify`: check a release bundle's signature and files, offline. */
import type { KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DomainError } from '../../domain/errors.ts';
import { MAX_BUNDLE_BYTES } from '../../crypto/bundle.ts';
import { keyIdOf, loadPublicKey } from '../../crypto/keys.ts';
import { verifyRelease } from '../../engine/release-verify.ts';
import type { VerifyReleaseResult } from '../../engine/release-verify.ts';
import { parse as parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { exitCodes } from '../command.ts';

const usage = `usage: stagegate release verify BUNDLE --key PUB... [--artifact PATH]... [--config DIR] [--json]

Checks the bundle's signature with the trusted public key(s) and, when files are given, that each
artifact (matched by file name) and config file has the signed digest. Exit 0 only when the
signature is valid and nothing is mismatched, missing or unexpected; exit 1 otherwise.`;

function parse(args: string[]) {
  return parseFlags(args, {
    key: { type: 'string', multiple: true, default: [] },
    artifact: { type: 'string', multiple: true, default: [] },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
  }, usage, true, 'release verify');
}

async function readText(path: string, what: string, fix: string, max: number): Promise<string> {
  const unreadable = (e: Error): never => {
    throw new DomainError('invalid_input', `${what} ${path} cannot be read: ${e.message}`, { file: path, fix });
  };
  const st = await stat(path).catch(unreadable);
  if (st.size > max) {
    throw new DomainError('payload_too_large', `${what} ${path} is ${st.size} bytes, over ${max}`, { file: path, fix });
  }
  return readFile(path, 'utf8').catch(unreadable);
}

function render(r: VerifyReleaseResult, bundlePath: string): string {
  const lines = [
    r.signature.ok
      ? `signature: ok (key ${r.signature.keyId})`
      : `signature: FAILED: ${r.signature.reason}`,
    `release ${r.releaseId}  ${r.service}@${r.version}${r.signature.ok ? '' : '  (unverified claims)'}`,
  ];
  for (const s of r.subjects) {
    lines.push(`  ${s.status.padEnd(11)} ${s.kind.padEnd(8)} ${s.name}  ${s.expected}`);
    if (s.status === 'mismatch') lines.push(`      signed ${s.expected}`, `      file   ${s.actual} (${s.file})`);
  }
  for (const f of r.unmatchedFiles) lines.push(`  unexpected  ${f}: not a subject of this release`);
  if (!r.ok) {
    lines.push(
      !r.signature.ok
        ? `FAILED: do not deploy ${bundlePath}; get the bundle from its signer again, or pass the right --key`
        : 'FAILED: the files differ from the signed release; rebuild or fetch the exact files, or create a new release',
    );
  } else {
    lines.push('verified');
  }
  return lines.join('\n');
}

export const releaseVerifyCommand: Command = {
  name: 'release verify',
  summary: 'verify a release bundle and its files against trusted keys, offline',
  usage,
  async run(args, ctx) {
    const { values: v, positionals } = parse(args);
    if (positionals.length !== 1) {
      throw new DomainError('invalid_input', `release verify: expected one BUNDLE file, got ${positionals.length}`, { fix: usage });
    }
    if (v.key.length === 0) {
      throw new DomainError('invalid_input', 'release verify: --key PUB is required', {
        field: 'key',
        fix: 'pass the public key (.pub) the release was signed with; repeat --key to trust several',
      });
    }
    const trustedKeys = new Map<string, KeyObject>();
    for (const k of v.key) {
      const path = resolve(ctx.cwd, k);
      const key = loadPublicKey(await readText(path, 'public key', 'pass a .pub PEM file', 64 * 1024), path);
      trustedKeys.set(keyIdOf(key), key);
    }
    const bundlePath = resolve(ctx.cwd, positionals[0] as string);
    const bundleJson = await readText(bundlePath, 'bundle', 'pass the bundle written by `stagegate release create`', MAX_BUNDLE_BYTES);
    const files = v.artifact.map((p) => resolve(ctx.cwd, p));
    const result = await verifyRelease({
      bundleJson,
      trustedKeys,
      source: bundlePath,
      ...(files.length > 0 ? { files } : {}),
      ...(v.config !== undefined ? { configDir: resolve(ctx.cwd, v.config) } : {}),
    });
    ctx.out(v.json ? JSON.stringify(result) : render(result, bundlePath));
    return result.ok ? exitCodes.ok : exitCodes.failed;
  },
};
