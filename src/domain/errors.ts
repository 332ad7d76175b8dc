/**
 * The one error type of stagegate. `code` comes from a closed list; the server maps it to an HTTP
 * status, the CLI to an exit code. Every message says what was wrong, where, and what to do.
 */
export const errorCodes = [
  'invalid_input', // malformed or out-of-bounds input (400)
  'unauthenticated', // no or bad credentials (401)
  'forbidden', // authenticated but not allowed (403)
  'not_found', // unknown service, environment, release, promotion (404)
  'conflict', // state conflict: same service@version with another digest, wrong state (409)
  'payload_too_large', // body or upload over its bound (413)
  'rate_limited', // too many failed authentications from this address or for this token (429, Retry-After)
  'signature_invalid', // a signature or bundle that does not verify (422)
  'digest_mismatch', // bytes that do not match their signed digest (422)
  'secret_detected', // a plaintext secret in a release's artifact or config files (422)
  'unavailable', // server not reachable / not ready (503)
  'internal', // a broken invariant: a bug (500)
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface ErrorDetails {
  /** where: a file path, optionally with line and column */
  file?: string;
  line?: number;
  column?: number;
  /** where: a field path like `environments[2].requires[0]` */
  field?: string;
  /** what to do about it */
  fix?: string;
  [key: string]: unknown;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/** Render an error for a person: message, location and fix on separate lines. */
export function formatError(e: DomainError): string {
  const d = e.details;
  const where = [
    d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}` : undefined,
    d.field ? `field ${d.field}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  return [e.message, where ? `  at: ${where}` : '', d.fix ? `  fix: ${d.fix}` : '']
    .filter(Boolean)
    .join('\n');
}
