/**
 * Session use-cases: `POST /v1/login` exchanges an API token for a short-lived ES256 session JWT,
 * `POST /v1/logout` revokes it, the JWKS publishes the verification key, and deployments get a
 * credential scoped to their promotion. Verification of a presented session lives here too, so
 * tokens.ts only picks the verifier by the credential's shape.
 */
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { createDeployCredentials } from '../auth/scoped-credential.ts';
import { looksLikeJwt, MAX_CLOCK_SKEW_SECONDS, MAX_SESSION_TTL_SECONDS, SESSION_TYP } from '../auth/session.ts';
import { DomainError } from '../domain/errors.ts';
import { terminalStates } from '../domain/promotion.ts';
import { actions, scopeAllows } from '../policy/authorize.ts';
import type { ResolvedPrincipal } from '../policy/principal.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';
import { resolveActor } from './principals.ts';

/** the session scope that stands for "no limit beyond the roles" (an unscoped API token) */
export const UNSCOPED_SESSION_SCOPE = 'api';
/** `*` cannot appear in a JWT scope (SCOPE_RE); in the token it is written `all`: `*.read` <-> `all.read` */
const WILDCARD_WORD = 'all';
/** an action scope as API tokens and `login --scopes` write it: `release.push`, `*.read`, `promotion.*`, `*` */
export const ACTION_SCOPE_RE = /^(?:(?:\*|[a-z][a-z0-9-]{0,31})(?:\.(?:\*|[a-z][a-z0-9-]{0,31}))?|flag\.evaluate:[a-z][a-z0-9-]{0,62})$/;
/** `flag.evaluate:prod`: flag evaluation (OFREP) of that environment only (src/flags/ofrep.ts enforces the environment) */
export const ENV_SCOPE_RE = /^flag\.evaluate:[a-z][a-z0-9-]{0,62}$/;

/** action scopes (empty = unscoped) -> the session's `scope` claim values */
export function toSessionScopes(scopes: readonly string[]): string[] {
  if (scopes.length === 0) return [UNSCOPED_SESSION_SCOPE];
  return scopes.map((s) =>
    s
      .split('.')
      .map((part) => (part === '*' ? WILDCARD_WORD : part))
      .join('.'),
  );
}

/** the session's `scope` claim values -> action scopes (empty = unscoped) */
export function fromSessionScopes(scopes: readonly string[]): string[] {
  if (scopes.length === 1 && scopes[0] === UNSCOPED_SESSION_SCOPE) return [];
  return scopes.map((s) =>
    s
      .split('.')
      .map((part) => (part === WILDCARD_WORD ? '*' : part))
      .join('.'),
  );
}

/** does the credential's scope list allow every action the requested scope allows? (no widening) */
export function scopeCovered(held: readonly string[], requested: string): boolean {
  if (ENV_SCOPE_RE.test(requested)) {
    // covered by itself, or by an unqualified scope that allows flag.evaluate in every environment
    const plain = held.filter((h) => !ENV_SCOPE_RE.test(h));
    return held.length === 0 || held.includes(requested) || (plain.length > 0 && scopeAllows(plain, 'flag.evaluate'));
  }
  return actions.every((a) => !scopeAllows([requested], a) || scopeAllows(held, a));
}

/** true when the token text is a compact JWT whose header says it is a stagegate session */
export function isSessionShaped(token: string): boolean {
  if (!looksLikeJwt(token)) return false;
  try {
    return decodeProtectedHeader(token).typ === SESSION_TYP;
  } catch {
    return false;
  }
}

/**
 * The credential a deployment receives as STAGEGATE_DEPLOY_TOKEN: a session for this promotion only
 * (audience `<api audience>#deploy`, scope `deploy:<promotion>`, principal `workload:deploy/<promotion>`),
 * living at most 15 minutes and refused by verifyDeployCredential once the promotion has ended.
 */
export async function deployCredentialFor(
  deps: Pick<EngineDeps, 'sessions' | 'apiAudience'>,
  promotionId: string,
  environment: string,
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  return createDeployCredentials({ sessions: deps.sessions, audience: deps.apiAudience }).issueDeployCredential({ promotionId, environment, ttlSeconds: MAX_SESSION_TTL_SECONDS });
}

export type SessionAuth = { ok: true; principal: ResolvedPrincipal; tokenId: string } | { ok: false; reason: string };

type Deps = Pick<EngineDeps, 'store' | 'clock' | 'project' | 'sessions' | 'apiAudience' | 'identities'>;

export function createSessionUseCases(deps: Deps, audit: AuditWriter) {
  const deploy = createDeployCredentials({ sessions: deps.sessions, audience: deps.apiAudience });

  /** verify a session JWT and the API token it came from; the reason is for the audit log only */
  async function verifySession(token: string): Promise<SessionAuth> {
    const r = await deps.sessions.verify(token, { audience: deps.apiAudience, isRevoked: (jti) => deps.store.read.revocations.isRevoked(jti) });
    if (!r.ok) return { ok: false, reason: `session refused: ${r.reason}${r.jti ? ` (session ${r.jti})` : ''}: ${r.detail}` };
    const tok = r.claims['tok'];
    if (typeof tok !== 'string' || !/^[A-Za-z0-9]{8,40}$/.test(tok)) return { ok: false, reason: `session ${r.jti} names no API token` };
    const rec = await deps.store.read.tokens.get(tok);
    if (!rec) return { ok: false, reason: `session ${r.jti}: its API token ${tok} does not exist` };
    if (rec.revokedAt) return { ok: false, reason: `session ${r.jti}: its API token ${tok} was revoked at ${rec.revokedAt}` };
    if (rec.expiresAt && rec.expiresAt <= deps.clock().toISOString()) return { ok: false, reason: `session ${r.jti}: its API token ${tok} expired at ${rec.expiresAt}` };
    if (rec.actor !== r.principal.id) return { ok: false, reason: `session ${r.jti}: subject does not match the actor of token ${tok}` };
    // roles and groups are resolved again now, so a role removed from the project ends with the next request
    const principal = await resolveActor(deps, rec.actor, [rec.role], `session:${r.jti}`, fromSessionScopes(r.scopes));
    if (!principal) return { ok: false, reason: `session ${r.jti}: actor of token ${tok} cannot be resolved` };
    return { ok: true, principal, tokenId: tok };
  }

  async function login(ctx: RequestContext, input: { scopes?: readonly string[]; ttlSeconds?: number }): Promise<{ token: string; expiresAt: string; jti: string; scopes: string[] }> {
    const p = ctx.principal;
    const tokenId = p?.credential.startsWith('token:') ? p.credential.slice('token:'.length) : undefined;
    if (p && !tokenId) {
      await audit.denied(ctx, { action: 'session.create', subject: `Project:${deps.project.project}`, details: { reason: `credential ${p.credential.slice(0, 80)} is not an API token` } });
      throw new DomainError('forbidden', 'a session is made from an API token, not from another session or an ID token', { fix: 'run `stagegate login` with an API token (--token or STAGEGATE_TOKEN)' });
    }
    await audit.guard(ctx, 'session.create', { type: 'Project', id: deps.project.project });
    const principal = p!;
    const held = principal.scopes;
    const requested = input.scopes ? [...new Set(input.scopes)] : [...held];
    const bad = requested.find((s) => !ACTION_SCOPE_RE.test(s));
    const wider = requested.find((s) => !scopeCovered(held, s));
    if (bad !== undefined || wider !== undefined || (input.scopes && requested.length === 0)) {
      const reason = bad !== undefined ? `scope "${bad.slice(0, 64)}" is malformed` : wider !== undefined ? `scope "${wider}" is wider than the token's [${held.join(', ')}]` : 'scopes is empty';
      await audit.denied(ctx, { action: 'session.create', subject: `token:${tokenId}`, details: { reason } });
      throw new DomainError(bad !== undefined || wider === undefined ? 'invalid_input' : 'forbidden', `cannot create the session: ${reason}`, {
        field: 'scopes',
        fix: 'ask for scopes like release.read, *.read or promotion.*, each within the API token\'s own scopes; leave --scopes out to keep them',
      });
    }
    const ttlSeconds = input.ttlSeconds ?? MAX_SESSION_TTL_SECONDS;
    const issued = await deps.sessions.issue({
      principal: { kind: principal.kind, name: principal.name, roles: principal.roles, groups: principal.groups },
      scopes: toSessionScopes(requested),
      ttlSeconds,
      extraClaims: { tok: tokenId! },
    });
    const expiresAt = issued.expiresAt.toISOString();
    await deps.store.transaction((tx) =>
      audit.record(tx, ctx, { action: 'session.create', outcome: 'succeeded', subject: `session:${issued.jti}`, details: { token: tokenId!, scopes: requested, expiresAt } }),
    );
    return { token: issued.token, expiresAt, jti: issued.jti, scopes: requested };
  }

  /**
   * Revoke the caller's own session. Ending one's own credential needs no permission, so there is no
   * Cedar decision; the revocation is audited.
   */
  async function logout(ctx: RequestContext): Promise<{ revoked: string }> {
    const cred = ctx.principal?.credential ?? '';
    if (!cred.startsWith('session:')) {
      await audit.denied(ctx, { action: 'session.revoke', subject: cred.slice(0, 80) || 'anonymous', details: { reason: 'the credential is not a session token' } });
      throw new DomainError('invalid_input', 'logout ends a session token; this request did not use one', { fix: 'revoke an API token with `stagegate token revoke ID` instead' });
    }
    const jti = cred.slice('session:'.length);
    // the row must outlive the token: no session lives longer than this after now
    const keepUntil = new Date(deps.clock().getTime() + (MAX_SESSION_TTL_SECONDS + MAX_CLOCK_SKEW_SECONDS) * 1000).toISOString();
    await deps.store.transaction(async (tx) => {
      await tx.revocations.revoke(jti, keepUntil);
      await audit.record(tx, ctx, { action: 'session.revoke', outcome: 'succeeded', subject: `session:${jti}` });
    });
    return { revoked: jti };
  }

  function jwks(): JSONWebKeySet {
    return deps.sessions.jwks();
  }


  /** check a deploy credential: valid, not revoked, and its promotion still active */
  async function verifyDeployCredential(token: string, promotionId?: string) {
    return deploy.verifyDeployCredential(token, {
      isRevoked: (jti) => deps.store.read.revocations.isRevoked(jti),
      isPromotionActive: async (id) => {
        const p = await deps.store.read.promotions.get(id);
        return p !== undefined && !terminalStates.includes(p.state);
      },
      ...(promotionId !== undefined ? { promotionId } : {}),
    });
  }

  return { verifySession, login, logout, jwks, deployCredentialFor: (promotionId: string, environment: string) => deployCredentialFor(deps, promotionId, environment), verifyDeployCredential };
}
export type SessionUseCases = ReturnType<typeof createSessionUseCases>;
