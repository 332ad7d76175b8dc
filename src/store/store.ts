/**
 * The Store: every durable fact of stagegate. One interface, implemented for SQLite (embedded
 * default) and later PostgreSQL; `src/store/contract.ts` is the suite every implementation passes.
 *
 * Use-cases work inside `store.transaction(tx => ...)`: the repositories handed to the callback are
 * bound to that transaction; a state change and its audit entry commit together or not at all.
 * Transactions are serialized (one writer at a time), so read-then-write inside one is safe.
 */
import type { GateResult, PromotionState } from '../domain/promotion.ts';
import type { FlagRepo } from './flag-records.ts';
import type { RolloutRepo } from './rollout-records.ts';

export * from './flag-records.ts';
export * from './rollout-records.ts';

/** ISO-8601 UTC timestamps with milliseconds, e.g. 2026-11-26T10:00:00.000Z */
export type Timestamp = string;

export type SubjectKind = 'artifact' | 'config' | 'image';

export interface SubjectRecord {
  /** file name as signed (e.g. `checkout.tar.gz`, `config/app.yaml`) or image repository */
  name: string;
  /** `sha256:<hex>` */
  digest: string;
  kind: SubjectKind;
  /** size in bytes when the blob was uploaded; null when not uploaded (images, or no upload) */
  size: number | null;
}

export interface ReleaseRecord {
  /** `sha256:` of the statement bytes */
  id: string;
  service: string;
  version: string;
  /** the Sigstore bundle exactly as pushed (JSON text) */
  bundle: string;
  /** key id (base64 sha256 of SPKI DER) of the key that signed it */
  signerKeyId: string;
  subjects: SubjectRecord[];
  /** actor id of who pushed it */
  pushedBy: string;
  createdAt: Timestamp;
}

export interface PromotionRecord {
  id: string;
  /** global order of requests; assigned by the store on insert, strictly increasing */
  seq: number;
  service: string;
  version: string;
  releaseId: string;
  environment: string;
  state: PromotionState;
  requestedBy: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  /** when the promotion entered its current state */
  stateChangedAt: Timestamp;
  /** results of the last gate run, all gates together; null before gating */
  gates: GateResult[] | null;
  /** a person-readable reason for the current state (why it failed, what it waits for) */
  message: string | null;
  /** when it reached Succeeded (soak time counts from here); null otherwise */
  succeededAt: Timestamp | null;
}

export type NewPromotion = Omit<PromotionRecord, 'seq'>;
export type PromotionPatch = Partial<
  Pick<PromotionRecord, 'state' | 'updatedAt' | 'stateChangedAt' | 'gates' | 'message' | 'succeededAt'>
>;

export interface PromotionQuery {
  service?: string;
  environment?: string;
  releaseId?: string;
  states?: readonly PromotionState[];
  /** newest first when true; oldest (lowest seq) first otherwise */
  newestFirst?: boolean;
  limit?: number;
}

/** One execution of a side-effecting step of a promotion (deploy, verify): run at most once. */
export interface StepRecord {
  promotionId: string;
  /** e.g. `deploy`, `verify` */
  step: string;
  status: 'running' | 'succeeded' | 'failed';
  /** opaque JSON text the runner needs to adopt the step after a restart (pid, run dir) */
  data: string;
  startedAt: Timestamp;
  finishedAt: Timestamp | null;
  /** outcome message */
  message: string | null;
  /** exit code of the command, when it exited */
  exitCode: number | null;
  durationMs: number | null;
  /** the last lines of its output (bounded) */
  outputTail: string | null;
}

export interface StepOutcomeRecord {
  status: 'succeeded' | 'failed';
  message: string;
  finishedAt: Timestamp;
  exitCode: number | null;
  durationMs: number | null;
  outputTail: string | null;
}

export interface TokenRecord {
  /** public token id (the part before the secret), unique */
  id: string;
  name: string;
  /** sha256 hex of the secret part; compared in constant time by the caller */
  secretHash: string;
  /** the principal this token authenticates, e.g. `user:admin` */
  actor: string;
  role: string;
  createdAt: Timestamp;
  revokedAt: Timestamp | null;
  /** what the token may be used for; empty = everything its role allows */
  scopes: string[];
  /** null = does not expire */
  expiresAt: Timestamp | null;
}

export interface ApprovalRecord {
  id: string;
  promotionId: string;
  /** principal id, e.g. `user:alice` */
  approver: string;
  /** the approver's groups when they decided (what the rules count) */
  groups: string[];
  decision: 'approve' | 'reject';
  comment: string;
  /** sha256 over release id + environment + policy digest: what was approved */
  binding: string;
  /** the signed approval statement (Sigstore bundle JSON) */
  bundle: string;
  personallySigned: boolean;
  createdAt: Timestamp;
}

export interface ApprovalRepo {
  insert(a: ApprovalRecord): Promise<void>;
  /** the decisions on one promotion, oldest first */
  list(promotionId: string): Promise<ApprovalRecord[]>;
}

export interface ElevationRecord {
  id: string;
  principal: string;
  role: string;
  reason: string;
  durationMs: number;
  status: 'pending' | 'active' | 'denied';
  requestedAt: Timestamp;
  decidedBy: string | null;
  decidedAt: Timestamp | null;
  /** set when approved: decidedAt + durationMs */
  expiresAt: Timestamp | null;
}

export interface ElevationRepo {
  insert(e: ElevationRecord): Promise<void>;
  get(id: string): Promise<ElevationRecord | undefined>;
  /** decide a pending request; false if it was not pending */
  decide(id: string, patch: Pick<ElevationRecord, 'status' | 'decidedBy' | 'decidedAt' | 'expiresAt'>): Promise<boolean>;
  /** active elevations of a principal that have not expired at `now` */
  activeFor(principal: string, now: Timestamp): Promise<ElevationRecord[]>;
  list(q: { status?: ElevationRecord['status']; limit: number }): Promise<ElevationRecord[]>;
}

export interface BreakGlassRecord {
  id: string;
  promotionId: string;
  requestedBy: string;
  justification: string;
  /** the gates it may skip: approvals, freeze, soak */
  skip: string[];
  status: 'pending' | 'active' | 'rejected';
  createdAt: Timestamp;
  timeBoxMs: number;
  confirmedBy: string | null;
  confirmedAt: Timestamp | null;
  expiresAt: Timestamp | null;
  reviewedBy: string | null;
  reviewedAt: Timestamp | null;
  reviewComment: string | null;
}

export interface BreakGlassRepo {
  insert(b: BreakGlassRecord): Promise<void>;
  get(id: string): Promise<BreakGlassRecord | undefined>;
  /** apply the patch only if the record has `expectStatus` (and, for reviews, is not reviewed yet) */
  update(id: string, expectStatus: BreakGlassRecord['status'], patch: Partial<Omit<BreakGlassRecord, 'id' | 'promotionId'>>): Promise<boolean>;
  forPromotion(promotionId: string): Promise<BreakGlassRecord[]>;
  /** confirmed break-glass uses nobody has reviewed yet, oldest first */
  unreviewed(limit: number): Promise<BreakGlassRecord[]>;
}

export interface RevocationRepo {
  revoke(jti: string, expiresAt: Timestamp): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

export interface AuditEntryRow {
  /** 0-based position in the log */
  index: number;
  /** the canonical JSON (RFC 8785) bytes of the entry, as UTF-8 text: the Merkle leaf data */
  entry: string;
  createdAt: Timestamp;
}

export interface MerkleNodeRow {
  /** 0 = leaf hash, k = hash of the complete subtree of 2^k leaves starting at index * 2^k */
  level: number;
  index: number;
  hash: Uint8Array;
}

export interface CheckpointRow {
  size: number;
  /** the signed note text */
  note: string;
  createdAt: Timestamp;
}

export interface ReleaseRepo {
  /** insert; throws DomainError('conflict') if the id or service@version already exists */
  insert(r: ReleaseRecord): Promise<void>;
  get(id: string): Promise<ReleaseRecord | undefined>;
  findByServiceVersion(service: string, version: string): Promise<ReleaseRecord | undefined>;
  /** newest first */
  list(q: { service?: string; limit: number }): Promise<ReleaseRecord[]>;
  count(): Promise<number>;
}

export interface PromotionRepo {
  /** insert and return the assigned seq */
  insert(p: NewPromotion): Promise<number>;
  get(id: string): Promise<PromotionRecord | undefined>;
  /**
   * apply the patch only if the promotion is currently in `expectState`; returns whether it did
   * (optimistic concurrency: a transition happens once)
   */
  update(id: string, expectState: PromotionState, patch: PromotionPatch): Promise<boolean>;
  list(q: PromotionQuery): Promise<PromotionRecord[]>;
}

export interface StepRepo {
  /** insert a `running` step; returns false (and writes nothing) if that step already exists */
  start(s: Pick<StepRecord, 'promotionId' | 'step' | 'data' | 'startedAt'>): Promise<boolean>;
  get(promotionId: string, step: string): Promise<StepRecord | undefined>;
  finish(promotionId: string, step: string, outcome: StepOutcomeRecord): Promise<void>;
  /** the steps of one promotion, in the order they started */
  list(promotionId: string): Promise<StepRecord[]>;
}

export interface TokenRepo {
  insert(t: TokenRecord): Promise<void>;
  get(id: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string, at: Timestamp): Promise<boolean>;
}

export interface AuditRepo {
  /** number of entries in the log */
  size(): Promise<number>;
  /** append one entry at `row.index`, which must equal size(); throws on a gap or duplicate */
  appendEntry(row: AuditEntryRow): Promise<void>;
  getEntry(index: number): Promise<AuditEntryRow | undefined>;
  /** entries with index in [from, from+limit), in order */
  listEntries(from: number, limit: number): Promise<AuditEntryRow[]>;
  putNodes(nodes: readonly MerkleNodeRow[]): Promise<void>;
  getNode(level: number, index: number): Promise<Uint8Array | undefined>;
  putCheckpoint(c: CheckpointRow): Promise<void>;
  latestCheckpoint(): Promise<CheckpointRow | undefined>;
}

export interface MetaRepo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface Repos {
  flags: FlagRepo;
  rollouts: RolloutRepo;
  releases: ReleaseRepo;
  promotions: PromotionRepo;
  steps: StepRepo;
  tokens: TokenRepo;
  approvals: ApprovalRepo;
  elevations: ElevationRepo;
  breakGlass: BreakGlassRepo;
  revocations: RevocationRepo;
  audit: AuditRepo;
  meta: MetaRepo;
}

export interface Store {
  /** run fn in one serialized transaction; rolls back if fn throws */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** repositories for reads (and single writes) outside an explicit transaction */
  readonly read: Repos;
  /** the dialect, for diagnostics */
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}
