/**
 * What an approval binds to: the release (its id, the digest of its signed statement), the
 * environment, and the digest of the policy in force. Any change gives another binding digest, and
 * an approval carrying another binding is void.
 */
import canonicalize from 'canonicalize';
import { digestOf } from '../../crypto/digest.ts';
import { DomainError } from '../../domain/errors.ts';
import { DIGEST_RE, NAME_RE } from '../../domain/ids.ts';
import type { Digest } from '../../domain/ids.ts';
import type { ApprovalPolicy } from './approval-schema.ts';

export interface ApprovalBindingInput {
  /** `sha256:` of the release statement bytes */
  releaseId: string;
  /** environment name */
  environment: string;
  /** `sha256:` of everything that decides the promotion: approval policy, gate rules, Cedar policies */
  policyDigest: string;
}

function canonicalBytes(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new DomainError('internal', 'value could not be serialized as canonical JSON');
  return text;
}

/** `sha256:` of the RFC 8785 canonical JSON of `{environment, policyDigest, releaseId}`. */
export function approvalBinding(input: ApprovalBindingInput): Digest {
  const bad = (field: keyof ApprovalBindingInput, fix: string): never => {
    throw new DomainError('invalid_input', `approval binding: ${field} "${String(input[field]).slice(0, 80)}" is not valid`, { field, fix });
  };
  if (typeof input.releaseId !== 'string' || !DIGEST_RE.test(input.releaseId)) bad('releaseId', 'pass the release id: sha256: and 64 lowercase hex');
  if (typeof input.environment !== 'string' || !NAME_RE.test(input.environment)) bad('environment', 'pass an environment name from the project file');
  if (typeof input.policyDigest !== 'string' || !DIGEST_RE.test(input.policyDigest)) bad('policyDigest', 'pass the policy digest: sha256: and 64 lowercase hex');
  return digestOf(
    canonicalBytes({ releaseId: input.releaseId, environment: input.environment, policyDigest: input.policyDigest }),
  );
}

/** `sha256:` of the canonical JSON of a normalized approval policy, one input to the policy digest. */
export function approvalPolicyDigest(policy: ApprovalPolicy): Digest {
  return digestOf(canonicalBytes(policy));
}
