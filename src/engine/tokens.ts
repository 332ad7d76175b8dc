/** Use-cases: authenticate a bearer token, bootstrap the first admin, create/list/revoke tokens. */
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import { defaultRoles as roles, type ResolvedPrincipal } from '../policy/principal.ts';
import { looksLikeJwt } from '../auth/session.ts';
import { resolveActor } from './principals.ts';
import { createSessionUseCases, isSessionShaped } from './sessions.ts';
import { hashSecret, newToken, parseToken, secretMatches } from '../server/tokens.ts';
import type { TokenRecord } from '../store/store.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';

export type PublicToken = Omit<TokenRecord, 'secretHash'>;
const publicView = ({ secretHash: _s, ...t }: TokenRecord): PublicToken => t;

/** what authenticate() was given: the header as sent, where the request came from */
export interface AuthRequest {
  header: string | undefined;
  requestDigest: string | null;
  /** `METHOD /path`, for the audit entry */
  where: string;
  /** the peer address (req.socket.remoteAddress) */
  remoteAddress: string | undefined;
}

/** `retryAfterSeconds` is set when the request was refused by the failure limiter (429) */
export type AuthOutcome = { ok: true; principal: ResolvedPrincipal } | { ok: false; retryAfterSeconds?: number };

/** a bearer credential: an API token, a session JWT or an OIDC ID token (at most 8 KiB) */
const BEARER_RE = /^Bearer ([^\s]{1,8192})$/;

export function createTokenUseCases(
  deps: Pick<EngineDeps, 'store' | 'clock' | 'project' | 'sessions' | 'apiAudience' | 'oidc' | 'authLimiter' | 'identities'>,
  audit: AuditWriter,
) {
  const sessions = createSessionUseCases(deps, audit);

  /** which verifier, by the credential's shape; the reason is for the audit log, never the client */
  async function verify(credential: string): Promise<{ ok: true; principal: ResolvedPrincipal; tokenId?: string } | { ok: false; reason: string }> {
    const parsed = parseToken(credential);
    if (parsed) {
      const rec = await deps.store.read.tokens.get(parsed.id);
      // compare against a dummy hash when the id is unknown, so timing does not reveal which ids exist
      const ok = secretMatches(parsed.secret, rec?.secretHash ?? hashSecret('unknown-token-id'));
      if (!rec || !ok) return { ok: false, reason: `unknown token or wrong secret (token id ${parsed.id})` };
      if (rec.revokedAt) return { ok: false, reason: `token ${rec.id} was revoked at ${rec.revokedAt}` };
      if (rec.expiresAt && rec.expiresAt <= deps.clock().toISOString()) return { ok: false, reason: `token ${rec.id} expired at ${rec.expiresAt}` };
      const principal = await resolveActor(deps, rec.actor, [rec.role], `token:${rec.id}`, rec.scopes);
      return principal ? { ok: true, principal, tokenId: rec.id } : { ok: false, reason: `token ${rec.id} names an actor stagegate cannot resolve (${rec.actor.slice(0, 80)})` };
    }
    if (credential.startsWith('sgt_')) return { ok: false, reason: 'malformed bearer token' };
    if (!looksLikeJwt(credential)) return { ok: false, reason: 'malformed bearer token' };
    if (isSessionShaped(credential)) return sessions.verifySession(credential);
    const r = await deps.oidc.verify(credential);
    if (!r.ok) return { ok: false, reason: `ID token refused: ${r.reason}: ${r.detail}`.slice(0, 500) };
    return { ok: true, principal: r.resolved };
  }

  /** returns the principal, or records the failure (auth.failed, with the precise reason) and says why not */
  async function authenticate(input: AuthRequest): Promise<AuthOutcome> {
    const anonymous: RequestContext = { actor: 'anonymous', requestDigest: input.requestDigest };
    const m = input.header ? BEARER_RE.exec(input.header) : null;
    const credential = m?.[1];
    const tokenId = credential ? parseToken(credential)?.id : undefined;
    const keys = [`addr:${(input.remoteAddress ?? 'unknown').slice(0, 64)}`, ...(tokenId ? [`token:${tokenId}`] : [])];
    const limited = deps.authLimiter.check(keys);
    if (!limited.allowed) {
      await audit.denied(anonymous, { action: 'auth.failed', subject: input.where, details: { reason: 'rate limited', retryAfterMs: limited.retryAfterMs } });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(limited.retryAfterMs / 1000)) };
    }
    const r = !input.header
      ? { ok: false as const, reason: 'no Authorization header' }
      : !credential
        ? { ok: false as const, reason: 'malformed bearer token' }
        : await verify(credential);
    if (!r.ok) {
      deps.authLimiter.fail(keys);
      await audit.denied(anonymous, { action: 'auth.failed', subject: input.where, details: { reason: r.reason } });
      return { ok: false };
    }
    if (r.tokenId) deps.authLimiter.succeed([`token:${r.tokenId}`]);
    return { ok: true, principal: r.principal };
  }

  /** on first start: make the admin token (or take the given one); returns it only when created now */
  async function bootstrap(given?: string): Promise<string | undefined> {
    return deps.store.transaction(async (tx) => {
      if ((await tx.meta.get('bootstrapped')) === 'yes') return undefined;
      const t = given ? { ...parseToken(given)!, token: given } : newToken();
      const now = deps.clock().toISOString();
      await tx.tokens.insert({ id: t.id, name: 'bootstrap', secretHash: hashSecret(t.secret), actor: 'user:admin', role: 'admin', createdAt: now, revokedAt: null, scopes: [], expiresAt: null });
      await tx.meta.set('bootstrapped', 'yes');
      await audit.record(tx, { actor: 'system:bootstrap', requestDigest: null }, { action: 'token.create', outcome: 'succeeded', subject: `token:${t.id}`, details: { actor: 'user:admin', role: 'admin' } });
      return t.token;
    });
  }

  async function create(
    ctx: RequestContext,
    input: { name: string; actor: string; role: string; scopes?: readonly string[]; expiresInHours?: number },
  ): Promise<{ token: string; record: PublicToken }> {
    await audit.guard(ctx, 'token.create', { type: 'Token', id: 'new' });
    if (!(roles as readonly string[]).includes(input.role) || !NAME_RE.test(input.name) || !/^(user|service):[a-z][a-z0-9._-]{0,62}$/.test(input.actor)) {
      await audit.denied(ctx, { action: 'token.create', subject: `actor:${input.actor.slice(0, 80)}`, details: { reason: 'invalid name, actor or role' } });
      throw new DomainError('invalid_input', 'token needs a name (lowercase), an actor user:NAME and a role', { fix: `actor is user:NAME or service:NAME; role is one of ${roles.join(', ')}` });
    }
    const t = newToken();
    const now = deps.clock();
    const expiresAt = input.expiresInHours ? new Date(now.getTime() + input.expiresInHours * 3_600_000).toISOString() : null;
    const record: TokenRecord = { id: t.id, name: input.name, secretHash: hashSecret(t.secret), actor: input.actor, role: input.role, createdAt: now.toISOString(), revokedAt: null, scopes: [...(input.scopes ?? [])], expiresAt };
    await deps.store.transaction(async (tx) => {
      await tx.tokens.insert(record);
      await audit.record(tx, ctx, { action: 'token.create', outcome: 'succeeded', subject: `token:${t.id}`, details: { name: input.name, actor: input.actor, role: input.role, scopes: record.scopes, expiresAt } });
    });
    return { token: t.token, record: publicView(record) };
  }

  async function list(ctx: RequestContext): Promise<PublicToken[]> {
    await audit.guard(ctx, 'token.read', { type: 'Token', id: 'all' });
    return (await deps.store.read.tokens.list()).map(publicView);
  }

  async function revoke(ctx: RequestContext, id: string): Promise<void> {
    await audit.guard(ctx, 'token.revoke', { type: 'Token', id });
    const done = await deps.store.transaction(async (tx) => {
      const ok = await tx.tokens.revoke(id, deps.clock().toISOString());
      if (ok) await audit.record(tx, ctx, { action: 'token.revoke', outcome: 'succeeded', subject: `token:${id}` });
      return ok;
    });
    if (!done) throw new DomainError('not_found', `no active token ${id}`, { fix: 'list tokens with `stagegate token list`' });
  }

  return { authenticate, bootstrap, create, list, revoke, login: sessions.login, logout: sessions.logout, jwks: sessions.jwks, sessions };
}
