/** What the use-cases need, and the context of one request. */
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { CedarAuthorizer } from '../policy/cedar/authorizer.ts';
import type { IdentityHolder } from './identities.ts';
import type { ResolvedPrincipal } from '../policy/principal.ts';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Project } from '../project/schema.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Target } from '../rollout/target.ts';
import type { OidcVerifier } from '../auth/oidc.ts';
import type { FailureLimiter } from '../auth/rate-limit.ts';
import type { SessionIssuer } from '../auth/session.ts';

export interface EngineDeps {
  store: Store;
  log: AuditLog;
  project: Project;
  blobs: BlobStore;
  /** the server's P-256 key: signs approval records */
  serverKey: KeyObject;
  /** users, groups and service accounts: the project file's and the API-managed ones */
  identities: IdentityHolder;
  /** the Cedar policy set every action is decided by */
  authz: CedarAuthorizer;
  /** the target of each name in the project file */
  targets: ReadonlyMap<string, Target>;
  clock: () => Date;
  logger: Logger;
  /** where per-promotion working folders (verified artifact copies, step runs) live */
  runsDir: string;
  /** issues and verifies session tokens (ES256, at most 15 minutes) with the server's session key */
  sessions: SessionIssuer;
  /** the `aud` of API session tokens; deploy credentials use `<apiAudience>#deploy` */
  apiAudience: string;
  /** workload identity: ID tokens of the project's `identities.oidc` issuers */
  oidc: OidcVerifier;
  /** failed-authentication limiter, keyed `addr:<remote address>` and `token:<id>` */
  authLimiter: FailureLimiter;
  /** folder of `<env>.key` age identities that open secrets/<env>/<service>.sops.yaml (gates, deploy) */
  ageIdentityDir?: string | undefined;
}

/** who asks, and the digest of what they sent */
export interface RequestContext {
  actor: string;
  principal?: ResolvedPrincipal;
  requestDigest: string | null;
  /** set once a denial of this request is in the audit log, so the HTTP layer does not log it twice */
  denialRecorded?: boolean;
}

export const systemContext: RequestContext = { actor: 'system:reconciler', requestDigest: null };
