/**
 * Workload identity: a CI job presents an OIDC ID token from a configured issuer (GitHub Actions,
 * GitLab, a cloud) instead of a stored secret. The token must verify against the issuer's JWKS
 * (RS256 or ES256 only), name the configured issuer and audience, be recent, carry every `require`d
 * claim with its exact value, and carry the claims the principal template needs.
 */
import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, type FetchImplementation, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { DomainError } from '../domain/errors.ts';
import type { PrincipalRef, ResolvedPrincipal } from '../policy/principal.ts';
import { isAllowedIssuerUrl, type OidcIssuerConfig } from './identity-schema.ts';
import { classifyJoseError, looksLikeJwt, MAX_CLOCK_SKEW_SECONDS, MAX_TOKEN_BYTES, type SessionRefusal } from './session.ts';

export const OIDC_ALGORITHMS = ['RS256', 'ES256'] as const;
/** a claim value usable in a principal name: no `:` (it separates parts), no spaces, no braces */
export const CLAIM_VALUE_RE = /^[A-Za-z0-9._/@-]{1,128}$/;

export type OidcRefusal =
  | Exclude<SessionRefusal, 'revoked' | 'missing_scope' | 'wrong_type'>
  | 'unknown_issuer' // `iss` names no configured issuer
  | 'claim_mismatch' // a `require`d claim is missing or has another value
  | 'jwks_unavailable'; // the issuer's key set could not be fetched (down, timeout, not 200, not a JWKS)

export interface OidcIdentity {
  /** `{kind: 'workload', name: 'github:org/repo'}` */
  principal: PrincipalRef;
  roles: readonly string[];
  /** the `name` of the issuer configuration that accepted the token */
  issuerName: string;
  /** the value of the configured subject claim */
  subject: string;
  claims: Readonly<JWTPayload>;
  /** ready for authorization: credential `oidc:<issuer URL>`, no groups, no scope limit */
  resolved: ResolvedPrincipal;
}

export type OidcVerifyResult = ({ ok: true } & OidcIdentity) | { ok: false; reason: OidcRefusal; detail: string };

export interface OidcVerifierOptions {
  clock: () => Date;
  /** per JWKS request */
  fetchTimeoutMs: number;
  /** how recent `iat` must be; default 1 hour */
  maxTokenAgeSeconds?: number;
  /** keys are refetched after this long; default 10 minutes */
  cacheMaxAgeMs?: number;
  /** an unknown `kid` refetches the JWKS at most this often (limits refetch storms); default 30 s */
  cooldownMs?: number;
  /** bound on a JWKS response body; default 256 KiB */
  maxJwksBytes?: number;
}

export interface OidcVerifier {
  verify(token: string): Promise<OidcVerifyResult>;
}

class JwksUnavailable extends Error {}

/** fetch with a bounded body; redirects are not followed (jose asks for `redirect: manual`) */
function boundedFetch(maxBytes: number): FetchImplementation {
  return async (url, init) => {
    const res = await fetch(url, init);
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw new JwksUnavailable(`JWKS response is ${declared} bytes, over ${maxBytes}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new JwksUnavailable(`JWKS response is over ${maxBytes} bytes`);
        chunks.push(chunk);
      }
    }
    return new Response(Buffer.concat(chunks), { status: res.status, headers: res.headers });
  };
}

/** the key lookup for one JWKS URL, turning transport failures into JwksUnavailable */
function remoteKeys(url: string, o: Required<Omit<OidcVerifierOptions, 'clock' | 'maxTokenAgeSeconds'>>): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), {
    timeoutDuration: o.fetchTimeoutMs,
    cooldownDuration: o.cooldownMs,
    cacheMaxAge: o.cacheMaxAgeMs,
    [customFetch]: boundedFetch(o.maxJwksBytes),
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys || e instanceof errors.JOSENotSupported || e instanceof errors.JOSEAlgNotAllowed) throw e;
      const why = e instanceof errors.JWKSTimeout ? `timed out after ${o.fetchTimeoutMs} ms` : e instanceof Error ? e.message : String(e);
      const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
      throw new JwksUnavailable(`JWKS ${url}: ${why}${cause}`.slice(0, 300));
    }
  };
}

/** Build the principal name from the template, or say which claim is missing or unusable. */
export function renderPrincipal(template: string, claims: JWTPayload): { ok: true; principal: PrincipalRef } | { ok: false; detail: string } {
  let problem: string | undefined;
  const rendered = template.replace(/\{([^}]+)\}/g, (_all, claim: string) => {
    const v = Object.hasOwn(claims, claim) ? claims[claim] : undefined;
    const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : undefined;
    if (text === undefined || !CLAIM_VALUE_RE.test(text)) {
      problem ??= v === undefined ? `claim ${claim} is missing` : `claim ${claim} is not a plain value (letters, digits . _ / @ -, at most 128)`;
      return '';
    }
    return text;
  });
  if (problem) return { ok: false, detail: problem };
  return { ok: true, principal: { kind: 'workload', name: rendered.slice('workload:'.length) } };
}

const refuse = (reason: OidcRefusal, detail: string): OidcVerifyResult => ({ ok: false, reason, detail });

/** How bad a refusal is, to report the most telling one when several configurations share an issuer. */
const rank: Record<OidcRefusal, number> = {
  malformed: 0,
  unknown_issuer: 0,
  wrong_algorithm: 1,
  jwks_unavailable: 2,
  unknown_key: 3,
  bad_signature: 4,
  wrong_issuer: 5,
  wrong_audience: 6,
  expired: 7,
  not_yet_valid: 7,
  bad_claims: 8,
  claim_mismatch: 9,
};

export function createOidcVerifier(issuers: readonly OidcIssuerConfig[], options: OidcVerifierOptions): OidcVerifier {
  const o = {
    fetchTimeoutMs: options.fetchTimeoutMs,
    cooldownMs: options.cooldownMs ?? 30_000,
    cacheMaxAgeMs: options.cacheMaxAgeMs ?? 600_000,
    maxJwksBytes: options.maxJwksBytes ?? 256 * 1024,
  };
  const maxTokenAge = options.maxTokenAgeSeconds ?? 3600;
  if (!Number.isInteger(o.fetchTimeoutMs) || o.fetchTimeoutMs < 1 || o.fetchTimeoutMs > 60_000) {
    throw new DomainError('invalid_input', 'fetchTimeoutMs must be an integer from 1 to 60000');
  }
  const keySets = new Map<string, JWTVerifyGetKey>();
  for (const cfg of issuers) {
    if (!isAllowedIssuerUrl(cfg.issuer) || !isAllowedIssuerUrl(cfg.jwksUrl)) {
      throw new DomainError('invalid_input', `OIDC issuer ${cfg.name}: issuer and jwksUrl must be https (http only on loopback)`, { field: `identities.oidc.${cfg.name}` });
    }
    if (!keySets.has(cfg.jwksUrl)) keySets.set(cfg.jwksUrl, remoteKeys(cfg.jwksUrl, o));
  }

  async function verifyWith(cfg: OidcIssuerConfig, token: string): Promise<OidcVerifyResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySets.get(cfg.jwksUrl)!, {
        algorithms: [...OIDC_ALGORITHMS],
        issuer: cfg.issuer,
        audience: cfg.audience,
        currentDate: options.clock(),
        clockTolerance: MAX_CLOCK_SKEW_SECONDS,
        maxTokenAge,
        requiredClaims: ['exp', 'iat', cfg.subjectClaim],
      }));
    } catch (e) {
      if (e instanceof JwksUnavailable) return refuse('jwks_unavailable', e.message);
      const c = classifyJoseError(e);
      return refuse(c.reason === 'wrong_type' || c.reason === 'revoked' || c.reason === 'missing_scope' ? 'malformed' : c.reason, `${cfg.name}: ${c.detail}`);
    }
    const subject = payload[cfg.subjectClaim];
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 512) return refuse('bad_claims', `${cfg.name}: subject claim ${cfg.subjectClaim} is not a string`);
    for (const [claim, want] of Object.entries(cfg.require ?? {})) {
      const got = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
      if (got !== want) {
        const shown = got === undefined ? 'missing' : JSON.stringify(got).slice(0, 80);
        return refuse('claim_mismatch', `${cfg.name}: claim ${claim} must be ${JSON.stringify(want)}, is ${shown}`);
      }
    }
    const p = renderPrincipal(cfg.principal, payload);
    if (!p.ok) return refuse('bad_claims', `${cfg.name}: ${p.detail}`);
    const resolved: ResolvedPrincipal = {
      ...p.principal,
      id: `${p.principal.kind}:${p.principal.name}`,
      roles: [...new Set(cfg.roles)].sort(),
      groups: [],
      credential: `oidc:${cfg.issuer}`,
      scopes: [],
    };
    return { ok: true, principal: p.principal, roles: resolved.roles, issuerName: cfg.name, subject, claims: payload, resolved };
  }

  async function verify(token: string): Promise<OidcVerifyResult> {
    if (typeof token !== 'string' || !looksLikeJwt(token)) return refuse('malformed', `not a compact JWT of at most ${MAX_TOKEN_BYTES} bytes`);
    let iss: unknown;
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch (e) {
      return refuse('malformed', e instanceof Error ? e.message.slice(0, 200) : 'undecodable');
    }
    if (!(OIDC_ALGORITHMS as readonly unknown[]).includes(alg)) return refuse('wrong_algorithm', `alg ${String(alg).slice(0, 20)} is not RS256 or ES256`);
    const candidates = issuers.filter((c) => c.issuer === iss);
    if (candidates.length === 0) return refuse('unknown_issuer', `iss ${JSON.stringify(iss)?.slice(0, 120)} is not a configured issuer`);
    let worst: OidcVerifyResult | undefined;
    for (const cfg of candidates) {
      const r = await verifyWith(cfg, token);
      if (r.ok) return r;
      if (!worst || (!worst.ok && rank[r.reason] > rank[worst.reason])) worst = r;
    }
    return worst!;
  }

  return { verify };
}

/**
 * Read an issuer's discovery document and return its JWKS URL, after checking the document names
 * the same issuer (OpenID Connect Discovery 1.0, section 4.3). For `stagegate` tooling that fills in
 * `jwksUrl`; the verifier itself never follows discovery at request time.
 */
export async function discoverJwksUrl(issuer: string, options: { fetchTimeoutMs: number }): Promise<string> {
  if (!isAllowedIssuerUrl(issuer)) {
    throw new DomainError('invalid_input', `issuer ${issuer.slice(0, 200)} must be https (http only on loopback)`, { field: 'issuer' });
  }
  const where = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: unknown;
  try {
    const res = await boundedFetch(64 * 1024)(where, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(options.fetchTimeoutMs), headers: new Headers({ accept: 'application/json' }) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    doc = await res.json();
  } catch (e) {
    throw new DomainError('unavailable', `cannot read ${where}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300), {
      fix: 'check the issuer URL and that the issuer is reachable from the server',
    });
  }
  const d = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  if (d.issuer !== issuer) {
    throw new DomainError('invalid_input', `${where} names issuer ${JSON.stringify(d.issuer)?.slice(0, 200)}, not ${issuer}`, {
      fix: 'use exactly the issuer value the discovery document states',
    });
  }
  if (typeof d.jwks_uri !== 'string' || !isAllowedIssuerUrl(d.jwks_uri)) {
    throw new DomainError('invalid_input', `${where} has no usable jwks_uri (https, or http on loopback)`, { field: 'jwks_uri' });
  }
  return d.jwks_uri;
}
