/**
 * Verify a release bundle offline: the DSSE signature against trusted keys, then (optionally) the
 * files on disk against the signed subject digests.
 */
import type { KeyObject } from 'node:crypto';
import { basename, resolve, sep } from 'node:path';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import { parseBundle } from '../crypto/bundle.ts';
import { digestOf, sha256File, timingSafeEqualHex } from '../crypto/digest.ts';
import { verifyDsse } from '../crypto/dsse.ts';
import { INTOTO_PAYLOAD_TYPE, parseReleaseStatement } from '../crypto/statement.ts';
import type { SubjectKind } from '../crypto/statement.ts';
import { listConfigFiles } from './release-create.ts';

export interface VerifyReleaseInput {
  bundleJson: string;
  /** key id (base64 sha256 of SPKI DER) -> public key */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** artifact or config files to check: artifacts match by file name, config files by a `config/...` path suffix */
  files?: string[];
  /** a config directory to check: its files match `config/<relative path>` */
  configDir?: string;
  /** the bundle's file name, for messages */
  source?: string;
}

export type SubjectStatus = 'ok' | 'mismatch' | 'missing' | 'not-checked';

export interface VerifiedSubject {
  name: string;
  kind: SubjectKind;
  expected: Digest;
  actual?: Digest;
  /** the file compared, when one was */
  file?: string;
  status: SubjectStatus;
  message?: string;
}

export interface VerifyReleaseResult {
  signature: { ok: boolean; keyId?: string; reason?: string };
  releaseId: Digest;
  service: string;
  version: string;
  subjects: VerifiedSubject[];
  /** files given that are not subjects of this release */
  unmatchedFiles: string[];
  /** true when the signature is valid and nothing mismatched, went missing or was unexpected */
  ok: boolean;
}

interface GivenFile {
  path: string;
  subject?: string;
}

function matchFile(path: string, names: ReadonlyMap<string, SubjectKind>): string | undefined {
  const base = basename(path);
  if (names.get(base) === 'artifact') return base;
  const slashed = resolve(path).split(sep).join('/');
  for (const [name, kind] of names) {
    if (kind === 'config' && slashed.endsWith(`/${name}`)) return name;
  }
  return undefined;
}

export async function verifyRelease(input: VerifyReleaseInput): Promise<VerifyReleaseResult> {
  const source = input.source ?? '(input)';
  const { envelope, hint } = parseBundle(input.bundleJson, source);
  const sig = verifyDsse(envelope, input.trustedKeys, { payloadType: INTOTO_PAYLOAD_TYPE });
  const payload = Buffer.from(envelope.payload.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  let statement: ReturnType<typeof parseReleaseStatement>;
  try {
    statement = parseReleaseStatement(payload, source);
  } catch (e) {
    if (sig.ok || !(e instanceof DomainError)) throw e;
    throw new DomainError('signature_invalid', `bundle ${source} does not verify (${sig.reason}) and its statement is unreadable: ${e.message}`, {
      file: source,
      fix: 'get the bundle again from whoever signed the release; do not deploy it',
    });
  }
  const signature = sig.ok
    ? { ok: true, keyId: sig.keyid }
    : { ok: false, reason: input.trustedKeys.has(hint) || sig.reason.includes('altered') ? sig.reason : `${sig.reason}; the bundle names key ${hint}` };

  const kinds = new Map(statement.subjects.map((s) => [s.name, s.kind] as const));
  const given: GivenFile[] = [];
  for (const path of input.files ?? []) given.push({ path, subject: matchFile(path, kinds) });
  if (input.configDir !== undefined) {
    for (const f of await listConfigFiles(input.configDir)) given.push({ path: f.path, subject: `config/${f.relativePath}` });
  }
  const bySubject = new Map<string, string>();
  const unmatchedFiles: string[] = [];
  for (const g of given) {
    if (g.subject === undefined || !kinds.has(g.subject)) {
      unmatchedFiles.push(g.path);
      continue;
    }
    const earlier = bySubject.get(g.subject);
    if (earlier !== undefined) {
      throw new DomainError('invalid_input', `${earlier} and ${g.path} both match subject "${g.subject}"`, {
        file: g.path,
        fix: 'pass each file of the release once',
      });
    }
    bySubject.set(g.subject, g.path);
  }
  const checking = given.length > 0 && sig.ok;
  const subjects: VerifiedSubject[] = [];
  for (const s of statement.subjects) {
    const row: VerifiedSubject = { name: s.name, kind: s.kind, expected: s.digest, status: 'not-checked' };
    const file = bySubject.get(s.name);
    if (checking && file !== undefined) {
      const { digest } = await sha256File(file);
      const same = timingSafeEqualHex(digest, s.digest);
      Object.assign(row, { actual: digest, file, status: same ? 'ok' : 'mismatch' });
      if (!same) row.message = `${s.name}: the release signed ${s.digest}, but ${file} is ${digest}; the file was changed or swapped`;
    } else if (checking && s.kind !== 'image') {
      row.status = 'missing';
      row.message = `${s.name}: no file was given for this subject`;
    }
    subjects.push(row);
  }
  const failed = subjects.some((s) => s.status === 'mismatch' || s.status === 'missing');
  return {
    signature,
    releaseId: digestOf(payload),
    service: statement.service,
    version: statement.version,
    subjects,
    unmatchedFiles,
    ok: sig.ok && !failed && unmatchedFiles.length === 0,
  };
}
