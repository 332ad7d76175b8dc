/** Use-cases: authenticate a bearer token, bootstrap the first admin, create/list/revoke tokens. */
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import { defaultRoles as roles, type ResolvedPrincipal } from '../policy/principal.ts';
import { resolveActor } from './principals.ts';
import { hashSecret, newToken, parseToken, secretMatches } from '../server/tokens.ts';
import type { TokenRecord } from '../store/store.ts';
import type { AuditWriter } from './audit-writer.ts';
import type { EngineDeps, RequestContext } from './deps.ts';

export type PublicToken = Omit<TokenRecord, 'secretHash'>;
const publicView = ({ secretHash: _s, ...t }: TokenRecord): PublicToken => t;

export function createTokenUseCases(deps: Pick<EngineDeps, 'store' | 'clock' | 'project'>, audit: AuditWriter) {
  /** returns the principal, or records the failure and returns undefined */
  async function authenticate(header: string | undefined, requestDigest: string | null, where: string): Promise<ResolvedPrincipal | undefined> {
    const anonymous: RequestContext = { actor: 'anonymous', requestDigest };
    const fail = async (reason: string) => {
      await audit.denied(anonymous, { action: 'auth.failed', subject: where, details: { reason } });
      return undefined;
    };
    if (!header) return fail('no Authorization header');
    const m = /^Bearer ([^\s]{1,200})$/.exec(header);
    const parsed = m ? parseToken(m[1]!) : undefined;
    if (!parsed) return fail('malformed bearer token');
    const rec = await deps.store.read.tokens.get(parsed.id);
    // compare against a dummy hash when the id is unknown, so timing does not reveal which ids exist
    const ok = secretMatches(parsed.secret, rec?.secretHash ?? hashSecret('unknown-token-id'));
    if (!rec || !ok) return fail(`unknown token or wrong secret (token id ${parsed.id})`);
    if (rec.revokedAt) return fail(`token ${rec.id} was revoked at ${rec.revokedAt}`);
    if (rec.expiresAt && rec.expiresAt <= deps.clock().toISOString()) return fail(`token ${rec.id} expired at ${rec.expiresAt}`);
    const principal = await resolveActor(deps, rec.actor, [rec.role], `token:${rec.id}`, rec.scopes);
    return principal ?? fail(`token ${rec.id} names an actor stagegate cannot resolve (${rec.actor.slice(0, 80)})`);
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

  return { authenticate, bootstrap, create, list, revoke };
}
