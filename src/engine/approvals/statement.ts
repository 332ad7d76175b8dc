/**
 * The approval record: an in-toto Statement v1 about the release (subject `service@version`, digest
 * = the release id) with predicate type `https://stagegate.dev/approval/v1`, serialized as RFC 8785
 * canonical JSON, signed as DSSE by the server's key and shipped as a Sigstore bundle v0.3. An
 * approver may add a personal DSSE signature over the same payload.
 *
 * Verification refuses replays: a valid record for another release, environment, promotion or
 * binding is refused with the reason.
 */
import { createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { MAX_BUNDLE_BYTES, bundleToJson, parseBundle, toBundle } from '../../crypto/bundle.ts';
import { MAX_SIGNATURES, pae, signDsse, verifyDsse, zodProblem } from '../../crypto/dsse.ts';
import type { DsseEnvelope } from '../../crypto/dsse.ts';
import { keyIdOf } from '../../crypto/keys.ts';
import { INTOTO_PAYLOAD_TYPE, STATEMENT_TYPE } from '../../crypto/statement.ts';
import { DomainError, isDomainError } from '../../domain/errors.ts';
import { DIGEST_RE, NAME_RE, VERSION_RE } from '../../domain/ids.ts';
import type { Digest } from '../../domain/ids.ts';
import { approvalBinding } from './binding.ts';
import { approvalDecisions } from './evaluate.ts';
import type { ApprovalDecision } from './evaluate.ts';

export const APPROVAL_PREDICATE_TYPE = 'https://stagegate.dev/approval/v1';
export const MAX_COMMENT_CHARS = 2000;
export const PROMOTION_ID_RE = /^prm_[a-f0-9]{16}$/;
const PRINCIPAL_ID_RE = /^(?:user|service|workload):[A-Za-z0-9][A-Za-z0-9._@:/-]{0,127}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export interface ApprovalPredicate {
  /** principal id of the approver, e.g. `user:alice` */
  approver: string;
  decision: ApprovalDecision;
  environment: string;
  /** promotion id, `prm_<16 hex>` */
  promotion: string;
  policyDigest: Digest;
  /** approvalBinding({releaseId, environment, policyDigest}) */
  binding: Digest;
  comment: string;
  /** ISO 8601, UTC */
  at: string;
}

export interface ApprovalStatement {
  _type: typeof STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof APPROVAL_PREDICATE_TYPE;
  predicate: ApprovalPredicate;
}

export interface ApprovalStatementInput {
  service: string;
  version: string;
  releaseId: Digest;
  approver: string;
  decision: ApprovalDecision;
  environment: string;
  promotion: string;
  policyDigest: Digest;
  comment?: string;
  at: Date | string;
}

const predicateSchema = z.strictObject({
  approver: z.string().max(140).regex(PRINCIPAL_ID_RE, 'must be a principal id such as user:alice'),
  decision: z.enum(approvalDecisions),
  environment: z.string().max(63).regex(NAME_RE, 'must be an environment name'),
  promotion: z.string().max(20).regex(PROMOTION_ID_RE, 'must be a promotion id prm_<16 hex>'),
  policyDigest: z.string().max(71).regex(DIGEST_RE, 'must be sha256:<64 hex>'),
  binding: z.string().max(71).regex(DIGEST_RE, 'must be sha256:<64 hex>'),
  comment: z.string().max(MAX_COMMENT_CHARS),
  at: z.string().max(40).regex(ISO_RE, 'must be an ISO 8601 time').refine((s) => Number.isFinite(Date.parse(s)), 'must be a real time'),
});

const statementSchema = z.strictObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: z
    .array(
      z.strictObject({
        name: z.string().max(200).refine((s) => {
          const at = s.indexOf('@');
          return at > 0 && NAME_RE.test(s.slice(0, at)) && VERSION_RE.test(s.slice(at + 1));
        }, 'must be service@version'),
        digest: z.strictObject({ sha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be 64 lowercase hex') }),
      }),
    )
    .length(1, 'must name exactly one release'),
  predicateType: z.literal(APPROVAL_PREDICATE_TYPE),
  predicate: predicateSchema,
});

/** Build the statement; the binding is computed here, so it always matches the other fields. */
export function buildApprovalStatement(input: ApprovalStatementInput): ApprovalStatement {
  const at = input.at instanceof Date ? input.at.toISOString() : input.at;
  const binding = approvalBinding({ releaseId: input.releaseId, environment: input.environment, policyDigest: input.policyDigest });
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: `${input.service}@${input.version}`, digest: { sha256: input.releaseId.slice('sha256:'.length) } }],
    predicateType: APPROVAL_PREDICATE_TYPE,
    predicate: {
      approver: input.approver,
      decision: input.decision,
      environment: input.environment,
      promotion: input.promotion,
      policyDigest: input.policyDigest,
      binding,
      comment: input.comment ?? '',
      at,
    },
  };
  const r = statementSchema.safeParse(statement);
  if (!r.success) {
    const p = zodProblem(r.error);
    throw new DomainError('invalid_input', `approval statement: ${p.field}: ${p.message}`, {
      field: p.field,
      fix: `pass a valid ${p.field.split('.').pop() ?? 'value'}; comments are at most ${MAX_COMMENT_CHARS} characters`,
    });
  }
  return r.data as ApprovalStatement;
}

/** The exact bytes that are signed: RFC 8785 canonical JSON. */
export function approvalStatementBytes(statement: ApprovalStatement): Buffer {
  const text = canonicalize(statement);
  if (text === undefined) throw new DomainError('internal', 'approval statement could not be serialized');
  return Buffer.from(text, 'utf8');
}

/** Parse and validate statement bytes from an envelope. */
export function parseApprovalStatement(bytes: Uint8Array, source = 'approval'): ApprovalStatement {
  const fix = 'pass an approval record written by stagegate, unmodified';
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new DomainError('invalid_input', `approval statement in ${source} is not JSON (${(e as Error).message})`, { file: source, fix });
  }
  const r = statementSchema.safeParse(value);
  if (!r.success) {
    const p = zodProblem(r.error);
    throw new DomainError('invalid_input', `approval statement in ${source} is invalid: ${p.field || 'statement'}: ${p.message}`, {
      file: source,
      ...(p.field ? { field: p.field } : {}),
      fix,
    });
  }
  return r.data as ApprovalStatement;
}

/** base64 in either alphabet, checked in linear time */
const LINEAR_BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Parse the bundle, first checking its base64 fields with a linear-time pattern: the DSSE schema's
 * base64 pattern backtracks exponentially on a long field with one bad character.
 */
function parseApprovalBundle(bundleJson: string): ReturnType<typeof parseBundle> {
  if (Buffer.byteLength(bundleJson, 'utf8') <= MAX_BUNDLE_BYTES) {
    let value: unknown;
    try {
      value = JSON.parse(bundleJson);
    } catch {
      value = undefined; // parseBundle reports it
    }
    const env = (value as { dsseEnvelope?: { payload?: unknown; signatures?: unknown } } | null)?.dsseEnvelope;
    const fields: unknown[] = [env?.payload, ...(Array.isArray(env?.signatures) ? env.signatures.map((x: { sig?: unknown } | null) => x?.sig) : [])];
    if (fields.some((f) => typeof f === 'string' && !LINEAR_BASE64_RE.test(f))) {
      throw new DomainError('invalid_input', 'approval bundle is malformed: dsseEnvelope payload or signature is not base64', {
        field: 'dsseEnvelope',
        fix: 'pass the approval record stagegate wrote, unmodified',
      });
    }
  }
  return parseBundle(bundleJson, 'approval');
}

const publicKeyOf = (key: KeyObject): KeyObject => (key.type === 'private' ? createPublicKey(key) : key);

/** Sign the statement with the server's private key: Sigstore bundle v0.3 JSON whose hint is the server key id. */
export function signApproval(statement: ApprovalStatement, serverKey: KeyObject): string {
  const keyId = keyIdOf(publicKeyOf(serverKey));
  const envelope = signDsse(INTOTO_PAYLOAD_TYPE, approvalStatementBytes(statement), serverKey, keyId);
  return bundleToJson(toBundle(envelope, keyId));
}

/**
 * Add the approver's own DSSE signature over the same payload (the bundle keeps the server key as
 * its hint). Refuses a key that already signed, and anything that is not an approval record.
 */
export function addPersonalSignature(bundleJson: string, approverKey: KeyObject): string {
  const parsed = parseApprovalBundle(bundleJson);
  const env = parsed.envelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) {
    throw new DomainError('invalid_input', `approval bundle payload type is "${env.payloadType.slice(0, 80)}", not ${INTOTO_PAYLOAD_TYPE}`, {
      fix: 'sign the approval record stagegate returned, unmodified',
    });
  }
  const payload = Buffer.from(env.payload, 'base64');
  parseApprovalStatement(payload);
  const keyId = keyIdOf(publicKeyOf(approverKey));
  if (env.signatures.some((s) => s.keyid === keyId)) {
    throw new DomainError('conflict', `the approval record is already signed by key ${keyId}`, { fix: 'sign it once; nothing to do' });
  }
  if (env.signatures.length >= MAX_SIGNATURES) {
    throw new DomainError('invalid_input', `the approval record already has ${env.signatures.length} signatures`, { fix: 'sign the record stagegate returned' });
  }
  const sig = sign('sha256', pae(env.payloadType, payload), { key: approverKey, dsaEncoding: 'der' }).toString('base64');
  const envelope: DsseEnvelope = { ...env, signatures: [...env.signatures, { keyid: keyId, sig }] };
  return bundleToJson(toBundle(envelope, parsed.hint));
}

/**
 * The record as one standard Sigstore bundle per signature (same payload, hint = that signature's
 * key id): Sigstore verifiers accept exactly one DSSE signature per bundle.
 */
export function singleSignatureBundles(bundleJson: string): string[] {
  const { envelope } = parseApprovalBundle(bundleJson);
  return envelope.signatures.map((s) => bundleToJson(toBundle({ ...envelope, signatures: [s] }, s.keyid)));
}

export interface VerifyApprovalOptions {
  /** public keys the server signs approval records with (current and retired) */
  serverKeys: readonly KeyObject[];
  /** personal public keys by principal id */
  approverKeys?: ReadonlyMap<string, readonly KeyObject[]>;
  /** refuse a record without a valid personal signature by its approver */
  requirePersonalSignature?: boolean;
  /** what the record must be about; anything else is a replay */
  expect: { binding: string; environment: string; releaseId: string; promotion?: string };
}

export type ApprovalVerifyProblem = 'malformed' | 'signature' | 'replay' | 'personal-signature';

export type ApprovalVerifyResult =
  | {
      ok: true;
      statement: ApprovalStatement;
      /** `service@version` */
      release: string;
      serverKeyId: string;
      /** key id of the approver's valid personal signature, when there is one */
      personalKeyId?: string;
    }
  | { ok: false; problem: ApprovalVerifyProblem; reason: string };

const fail = (problem: ApprovalVerifyProblem, reason: string): ApprovalVerifyResult => ({ ok: false, problem, reason });

export function verifyApproval(bundleJson: string, opts: VerifyApprovalOptions): ApprovalVerifyResult {
  let envelope: DsseEnvelope;
  try {
    envelope = parseApprovalBundle(bundleJson).envelope;
  } catch (e) {
    return fail('malformed', isDomainError(e) ? e.message : String(e));
  }
  const serverKeys = new Map(opts.serverKeys.map((k) => [keyIdOf(publicKeyOf(k)), publicKeyOf(k)] as const));
  // Only signatures that name a server key may prove the server signed; a key-less signature is not
  // tried against server keys, so a personal signature can never pass for the server's.
  const serverSigned: DsseEnvelope = { ...envelope, signatures: envelope.signatures.filter((s) => serverKeys.has(s.keyid)) };
  if (serverSigned.signatures.length === 0) {
    return fail('signature', `the record is not signed by a server key (signature key ids: ${envelope.signatures.map((s) => s.keyid || '(none)').join(', ').slice(0, 400)})`);
  }
  const server = verifyDsse(serverSigned, serverKeys, { payloadType: INTOTO_PAYLOAD_TYPE });
  if (!server.ok) return fail('signature', `server signature: ${server.reason}`);

  let statement: ApprovalStatement;
  try {
    statement = parseApprovalStatement(server.payload);
  } catch (e) {
    return fail('malformed', isDomainError(e) ? e.message : String(e));
  }
  const p = statement.predicate;
  const subject = statement.subject[0];
  const releaseId = `sha256:${subject.digest.sha256}`;
  if (approvalBinding({ releaseId, environment: p.environment, policyDigest: p.policyDigest }) !== p.binding) {
    return fail('malformed', 'the record binding does not match its release, environment and policy digest');
  }
  const { expect } = opts;
  if (p.environment !== expect.environment) return fail('replay', `approval is for ${p.environment}, not ${expect.environment}`);
  if (releaseId !== expect.releaseId) return fail('replay', `approval is for release ${subject.name} (${releaseId}), not ${expect.releaseId}`);
  if (expect.promotion !== undefined && p.promotion !== expect.promotion) {
    return fail('replay', `approval is for promotion ${p.promotion}, not ${expect.promotion}`);
  }
  if (p.binding !== expect.binding) {
    return fail('replay', `approval is bound to ${p.binding}, not ${expect.binding}: the policy changed since it was given`);
  }

  // personal signatures: any signature made with one of the approver's keys must verify
  const personalKeys = new Map((opts.approverKeys?.get(p.approver) ?? []).map((k) => [keyIdOf(publicKeyOf(k)), publicKeyOf(k)] as const));
  let personalKeyId: string | undefined;
  for (const s of envelope.signatures) {
    const key = personalKeys.get(s.keyid);
    if (!key || serverKeys.has(s.keyid)) continue;
    const r = verifyDsse({ ...envelope, signatures: [s] }, new Map([[s.keyid, key]]));
    if (!r.ok) return fail('personal-signature', `the personal signature with key ${s.keyid} of ${p.approver} does not verify: it is forged or the record was altered`);
    personalKeyId = s.keyid;
  }
  if (opts.requirePersonalSignature && personalKeyId === undefined) {
    return fail(
      'personal-signature',
      personalKeys.size === 0
        ? `${p.approver} has no registered signing key, and this environment requires a personal signature`
        : `the record has no personal signature by ${p.approver}, and this environment requires one`,
    );
  }
  return {
    ok: true,
    statement,
    release: subject.name,
    serverKeyId: server.keyid,
    ...(personalKeyId !== undefined ? { personalKeyId } : {}),
  };
}
