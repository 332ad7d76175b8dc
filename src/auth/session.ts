/**
 * Session tokens: short-lived (at most 15 minutes) ES256 JWTs the server issues in exchange for a
 * long-lived API token (`stagegate login`) and for deployments (scoped-credential.ts). Audience- and
 * scope-bound, explicitly typed (`typ: stagegate-session+jwt`) so no other JWT passes as one, each with
 * a random `jti` the revocation hook can name. Verification returns a result with a reason for the log;
 * the client only ever learns "401".
 */
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, errors, exportJWK, type JSONWebKeySet, type JWK, jwtVerify, SignJWT } from 'jose';
import { DomainError } from '../domain/errors.ts';
import type { PrincipalKind, PrincipalRef, ResolvedPrincipal } from '../policy/principal.ts';
import { principalKinds } from '../policy/principal.ts';
import { IDENTITY_NAME_RE } from './identity-schema.ts';

export const SESSION_TYP = 'stagegate-session+jwt';
export const MAX_SESSION_TTL_SECONDS = 15 * 60;
export const MAX_CLOCK_SKEW_SECONDS = 30;
/** bound on the compact token text, checked before any parsing */
export const MAX_TOKEN_BYTES = 8 * 1024;
/** a scope: `api`, `read`, `deploy:prm_0123abcd` */
export const SCOPE_RE = /^[a-z][a-z0-9_.-]{0,31}(?::[A-Za-z0-9_.-]{1,64})?$/;
const MAX_SCOPES = 16;
const MAX_LIST = 64;
/** claims the issuer sets itself; `extraClaims` cannot override them */
const RESERVED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'roles', 'groups', 'kind']);

export const sessionRefusals = [
  'malformed', // not a compact JWS, or over the size bound
  'wrong_type', // a JWT, but not a stagegate session token (typ)
  'wrong_algorithm', // alg other than ES256 (none, HS256 with the public key as secret, ...)
  'unknown_key', // kid names no key of ours
  'bad_signature', // forged or tampered
  'expired',
  'not_yet_valid', // nbf or iat in the future beyond the allowed skew
  'wrong_issuer',
  'wrong_audience',
  'bad_claims', // missing or malformed sub, jti, scope, or a lifetime over 15 minutes
  'revoked',
  'missing_scope', // valid token without the scope the route needs (RFC 6750: 403 insufficient_scope)
] as const;
export type SessionRefusal = (typeof sessionRefusals)[number];

export interface SessionClaims {
  principal: ResolvedPrincipal;
  jti: string;
  scopes: readonly string[];
  issuedAt: Date;
  expiresAt: Date;
  /** every claim of the token, for callers with extra claims (e.g. `promotion`) */
  claims: Readonly<Record<string, unknown>>;
}

export type SessionVerifyResult =
  | ({ ok: true } & SessionClaims)
  /** `reason` is for the log and metrics; `detail` is for the log only; neither goes to the client */
  | { ok: false; reason: SessionRefusal; detail: string; jti?: string };

export interface SessionIssuerOptions {
  /** the EC P-256 private key that signs */
  key: KeyObject;
  /** public keys of earlier signing keys still accepted (rotation); drop them 15 minutes after rotating */
  previousPublicKeys?: readonly KeyObject[];
  /** `iss` of every token, e.g. the server's URL */
  issuer: string;
  /** the default `aud` when `issue` is not given one */
  audience: string;
  clock: () => Date;
}

export interface IssueInput {
  principal: PrincipalRef & { roles?: readonly string[]; groups?: readonly string[] };
  /** at least one; see SCOPE_RE */
  scopes: readonly string[];
  /** 1 to 900 */
  ttlSeconds: number;
  audience?: string;
  /** more claims (JSON values, small); cannot override the registered and stagegate claims */
  extraClaims?: Record<string, string | number | boolean>;
}

export interface IssuedSession {
  token: string;
  jti: string;
  expiresAt: Date;
}

export interface VerifyOptions {
  audience: string;
  requiredScope?: string;
  /** true when this token id was revoked; consulted only for otherwise-valid tokens */
  isRevoked?: (jti: string) => boolean | Promise<boolean>;
}

export interface SessionIssuer {
  issue(input: IssueInput): Promise<IssuedSession>;
  verify(token: string, options: VerifyOptions): Promise<SessionVerifyResult>;
  /** the public verification keys, as served on `/.well-known/jwks.json` */
  jwks(): JSONWebKeySet;
  /** the key id (RFC 7638 thumbprint) of the current signing key */
  readonly kid: string;
}

function assertP256(key: KeyObject, type: 'private' | 'public', what: string): void {
  if (key.type !== type || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new DomainError('invalid_input', `${what} must be an EC P-256 ${type} key`, {
      fix: 'generate one with `stagegate keys generate` or `openssl ecparam -name prime256v1 -genkey`',
    });
  }
}

async function publicJwk(pub: KeyObject): Promise<JWK> {
  const jwk = await exportJWK(pub);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' } as JWK;
}

const refuse = (reason: SessionRefusal, detail: string, jti?: string): SessionVerifyResult => ({ ok: false, reason, detail, ...(jti ? { jti } : {}) });

/** Map a jose error to a refusal reason, without throwing. */
export function classifyJoseError(e: unknown): { reason: SessionRefusal; detail: string } {
  const detail = e instanceof Error ? e.message.slice(0, 200) : 'unknown error';
  if (e instanceof errors.JWTExpired) return { reason: 'expired', detail };
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return { reason: 'wrong_algorithm', detail };
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) return { reason: 'unknown_key', detail };
  if (e instanceof errors.JWSSignatureVerificationFailed) return { reason: 'bad_signature', detail };
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return { reason: 'wrong_audience', detail };
    if (e.claim === 'iss') return { reason: 'wrong_issuer', detail };
    if (e.claim === 'typ') return { reason: 'wrong_type', detail };
    if ((e.claim === 'nbf' || e.claim === 'iat') && e.reason === 'check_failed') return { reason: 'not_yet_valid', detail };
    return { reason: 'bad_claims', detail };
  }
  return { reason: 'malformed', detail };
}

/** compact JWS shape, checked before jose sees the text */
const COMPACT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
export const looksLikeJwt = (token: string): boolean => token.length <= MAX_TOKEN_BYTES && COMPACT_RE.test(token);

const stringList = (v: unknown, re: RegExp, max: number): string[] | undefined =>
  Array.isArray(v) && v.length <= max && v.every((x) => typeof x === 'string' && re.test(x)) ? (v as string[]) : undefined;

export async function createSessionIssuer(options: SessionIssuerOptions): Promise<SessionIssuer> {
  assertP256(options.key, 'private', 'the session signing key');
  const previous = options.previousPublicKeys ?? [];
  for (const [i, k] of previous.entries()) assertP256(k, 'public', `previous session key ${i + 1}`);
  if (!options.issuer || options.issuer.length > 512) throw new DomainError('invalid_input', 'the session issuer must be 1-512 characters');
  const current = await publicJwk(createPublicKey(options.key));
  const keys = [current, ...(await Promise.all(previous.map(publicJwk)))];
  const jwks: JSONWebKeySet = { keys };
  const keySet = createLocalJWKSet(jwks);
  const kid = current.kid!;

  async function issue(input: IssueInput): Promise<IssuedSession> {
    const { principal, scopes, ttlSeconds } = input;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_SESSION_TTL_SECONDS) {
      throw new DomainError('invalid_input', `a session token lives 1 to ${MAX_SESSION_TTL_SECONDS} seconds, not ${String(ttlSeconds).slice(0, 20)}`, {
        field: 'ttlSeconds',
        fix: 'ask for at most 15 minutes; renew with `stagegate login` when it runs out',
      });
    }
    if (scopes.length < 1 || scopes.length > MAX_SCOPES || !scopes.every((s) => SCOPE_RE.test(s))) {
      throw new DomainError('invalid_input', `a session token needs 1 to ${MAX_SCOPES} scopes like "api" or "deploy:prm_..."`, { field: 'scopes' });
    }
    if (!(principalKinds as readonly string[]).includes(principal.kind) || !principal.name || principal.name.length > 200) {
      throw new DomainError('invalid_input', 'a session token needs a principal kind and a name of at most 200 characters', { field: 'principal' });
    }
    const extra = input.extraClaims ?? {};
    for (const [k, v] of Object.entries(extra)) {
      if (RESERVED.has(k) || !/^[a-z][a-z0-9_]{0,31}$/.test(k) || (typeof v === 'string' && v.length > 256)) {
        throw new DomainError('invalid_input', `extra claim "${k.slice(0, 40)}" is reserved or malformed`, { field: 'extraClaims' });
      }
    }
    const roles = principal.roles ?? [];
    const groups = principal.groups ?? [];
    if (roles.length > MAX_LIST || groups.length > MAX_LIST || ![...roles, ...groups].every((r) => IDENTITY_NAME_RE.test(r))) {
      throw new DomainError('invalid_input', `at most ${MAX_LIST} roles and groups, each a lowercase name`, { field: 'principal.roles' });
    }
    const now = Math.floor(options.clock().getTime() / 1000);
    const jti = randomBytes(16).toString('base64url');
    const exp = now + ttlSeconds;
    const token = await new SignJWT({ ...extra, kind: principal.kind, scope: scopes.join(' '), roles: [...roles], groups: [...groups] })
      .setProtectedHeader({ alg: 'ES256', typ: SESSION_TYP, kid })
      .setIssuer(options.issuer)
      .setSubject(`${principal.kind}:${principal.name}`)
      .setAudience(input.audience ?? options.audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(options.key);
    return { token, jti, expiresAt: new Date(exp * 1000) };
  }

  async function verify(token: string, v: VerifyOptions): Promise<SessionVerifyResult> {
    if (typeof token !== 'string' || !looksLikeJwt(token)) return refuse('malformed', `not a compact JWT of at most ${MAX_TOKEN_BYTES} bytes`);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: ['ES256'],
        typ: SESSION_TYP,
        issuer: options.issuer,
        audience: v.audience,
        currentDate: options.clock(),
        clockTolerance: MAX_CLOCK_SKEW_SECONDS,
        maxTokenAge: MAX_SESSION_TTL_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'scope'],
      }));
    } catch (e) {
      const c = classifyJoseError(e);
      return refuse(c.reason, c.detail);
    }
    const jti = typeof payload.jti === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(payload.jti) ? payload.jti : undefined;
    if (!jti) return refuse('bad_claims', 'jti missing or malformed');
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (exp - iat > MAX_SESSION_TTL_SECONDS) return refuse('bad_claims', `lifetime ${exp - iat}s is over ${MAX_SESSION_TTL_SECONDS}s`, jti);
    const sub = typeof payload.sub === 'string' ? /^(user|service|workload):(.{1,200})$/.exec(payload.sub) : null;
    if (!sub || payload.kind !== sub[1]) return refuse('bad_claims', 'sub is not KIND:NAME', jti);
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (scopes.length < 1 || scopes.length > MAX_SCOPES || !scopes.every((s) => SCOPE_RE.test(s))) return refuse('bad_claims', 'scope claim malformed', jti);
    const roles = stringList(payload.roles, IDENTITY_NAME_RE, MAX_LIST);
    const groups = stringList(payload.groups, IDENTITY_NAME_RE, MAX_LIST);
    if (!roles || !groups) return refuse('bad_claims', 'roles or groups claim malformed', jti);
    if (v.isRevoked && (await v.isRevoked(jti))) return refuse('revoked', `session ${jti} was revoked`, jti);
    if (v.requiredScope !== undefined && !scopes.includes(v.requiredScope)) {
      return refuse('missing_scope', `scope ${v.requiredScope.slice(0, 100)} not among ${scopes.join(' ')}`, jti);
    }
    const kind = sub[1] as PrincipalKind;
    const principal: ResolvedPrincipal = { kind, name: sub[2]!, id: payload.sub as string, roles, groups, credential: `session:${jti}`, scopes };
    return { ok: true, principal, jti, scopes, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000), claims: payload };
  }

  return { issue, verify, jwks: () => structuredClone(jwks), kid };
}
