/**
 * Credentials a deployment receives: a session token for one promotion only. Its one scope is
 * `deploy:<promotionId>`, it carries the `promotion` and `environment` claims, it has its own
 * audience so it is no API session, and it stops working as soon as the promotion ends (whatever its
 * `exp`). A deployment that runs longer than one token refreshes it while the promotion is active.
 */
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import type { ResolvedPrincipal } from '../policy/principal.ts';
import type { SessionIssuer, SessionRefusal } from './session.ts';
import { MAX_SESSION_TTL_SECONDS } from './session.ts';

export const DEPLOY_AUDIENCE_SUFFIX = '#deploy';
/** `prm_` + 16 hex, as request-promotion.ts makes them (a little wider, bounded) */
export const PROMOTION_ID_RE = /^prm_[a-z0-9]{8,40}$/;

export type DeployRefusal = SessionRefusal | 'promotion_ended' | 'not_a_deploy_credential';

export interface DeployCredentialClaims {
  promotionId: string;
  environment: string;
  jti: string;
  expiresAt: Date;
  /** `workload:deploy/<promotionId>`, no roles, scope `deploy:<promotionId>` */
  principal: ResolvedPrincipal;
}

export type DeployVerifyResult = ({ ok: true } & DeployCredentialClaims) | { ok: false; reason: DeployRefusal; detail: string };

export interface DeployCredentialOptions {
  sessions: SessionIssuer;
  /** the API audience; deploy credentials use `<audience>#deploy` so they never pass as API sessions */
  audience: string;
}

export interface VerifyDeployOptions {
  isPromotionActive: (promotionId: string) => boolean | Promise<boolean>;
  isRevoked?: (jti: string) => boolean | Promise<boolean>;
  /** when the route acts on one promotion, the credential must be for that one */
  promotionId?: string;
}

export function createDeployCredentials(options: DeployCredentialOptions) {
  const audience = `${options.audience}${DEPLOY_AUDIENCE_SUFFIX}`;

  async function issueDeployCredential(input: { promotionId: string; environment: string; ttlSeconds: number }) {
    if (!PROMOTION_ID_RE.test(input.promotionId)) throw new DomainError('invalid_input', 'promotion id must look like prm_<hex>', { field: 'promotionId' });
    if (!NAME_RE.test(input.environment)) throw new DomainError('invalid_input', 'environment must be an environment name', { field: 'environment' });
    const ttlSeconds = Math.min(input.ttlSeconds, MAX_SESSION_TTL_SECONDS);
    return options.sessions.issue({
      principal: { kind: 'workload', name: `deploy/${input.promotionId}` },
      scopes: [`deploy:${input.promotionId}`],
      ttlSeconds,
      audience,
      extraClaims: { promotion: input.promotionId, environment: input.environment },
    });
  }

  async function verifyDeployCredential(token: string, v: VerifyDeployOptions): Promise<DeployVerifyResult> {
    const r = await options.sessions.verify(token, { audience, ...(v.isRevoked ? { isRevoked: v.isRevoked } : {}) });
    if (!r.ok) return { ok: false, reason: r.reason, detail: r.detail };
    const promotionId = r.claims.promotion;
    const environment = r.claims.environment;
    if (
      typeof promotionId !== 'string' ||
      !PROMOTION_ID_RE.test(promotionId) ||
      typeof environment !== 'string' ||
      !NAME_RE.test(environment) ||
      r.scopes.length !== 1 ||
      r.scopes[0] !== `deploy:${promotionId}` ||
      r.principal.id !== `workload:deploy/${promotionId}`
    ) {
      return { ok: false, reason: 'not_a_deploy_credential', detail: 'scope, principal and promotion claim do not agree' };
    }
    if (v.promotionId !== undefined && v.promotionId !== promotionId) {
      return { ok: false, reason: 'missing_scope', detail: `credential is for ${promotionId}, not ${v.promotionId.slice(0, 60)}` };
    }
    if (!(await v.isPromotionActive(promotionId))) return { ok: false, reason: 'promotion_ended', detail: `promotion ${promotionId} is no longer active` };
    return { ok: true, promotionId, environment, jti: r.jti, expiresAt: r.expiresAt, principal: r.principal };
  }

  /** a fresh credential for the same promotion, while it is active (long deployments) */
  async function refreshDeployCredential(token: string, v: VerifyDeployOptions & { ttlSeconds: number }) {
    const r = await verifyDeployCredential(token, v);
    if (!r.ok) return r;
    const issued = await issueDeployCredential({ promotionId: r.promotionId, environment: r.environment, ttlSeconds: v.ttlSeconds });
    return { ok: true as const, ...issued, replaces: r.jti };
  }

  return { audience, issueDeployCredential, verifyDeployCredential, refreshDeployCredential };
}

export type DeployCredentials = ReturnType<typeof createDeployCredentials>;
