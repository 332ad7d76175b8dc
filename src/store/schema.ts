/**
 * Kysely table types of the stagegate database. Column names are snake_case; the repositories in
 * `kysely-repos.ts` map rows to the camelCase records of `store.ts`. Timestamps are ISO-8601 text.
 * Integers are typed `number`; drivers that return big integers as strings (pg) are normalised with
 * `Number()` when rows are mapped.
 */

export interface ReleasesTable {
  /** `sha256:` of the statement bytes */
  id: string;
  /** insertion order, 1-based and dense: max(seq) + 1 inside the serialized transaction */
  seq: number;
  service: string;
  version: string;
  bundle: string;
  signer_key_id: string;
  pushed_by: string;
  created_at: string;
}

export interface ReleaseSubjectsTable {
  release_id: string;
  /** position of the subject in the signed statement, so subjects come back in signed order */
  position: number;
  name: string;
  digest: string;
  kind: string;
  size: number | null;
}

export interface PromotionsTable {
  id: string;
  seq: number;
  service: string;
  version: string;
  release_id: string;
  environment: string;
  state: string;
  requested_by: string;
  created_at: string;
  updated_at: string;
  state_changed_at: string;
  /** JSON array of gate results; parsed back with a bounded zod schema */
  gates: string | null;
  message: string | null;
  succeeded_at: string | null;
}

export interface StepsTable {
  promotion_id: string;
  step: string;
  status: string;
  data: string;
  started_at: string;
  finished_at: string | null;
  message: string | null;
  exit_code: number | null;
  duration_ms: number | null;
  output_tail: string | null;
}

export interface TokensTable {
  id: string;
  name: string;
  secret_hash: string;
  actor: string;
  role: string;
  created_at: string;
  revoked_at: string | null;
  scopes: string | null;
  expires_at: string | null;
}

export interface ApprovalsTable {
  id: string;
  promotion_id: string;
  approver: string;
  groups: string;
  decision: string;
  comment: string;
  binding: string;
  bundle: string;
  personally_signed: number;
  created_at: string;
}

export interface ElevationsTable {
  id: string;
  principal: string;
  role: string;
  reason: string;
  duration_ms: number;
  status: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string | null;
}

export interface BreakGlassTable {
  id: string;
  promotion_id: string;
  requested_by: string;
  justification: string;
  skip: string;
  status: string;
  created_at: string;
  time_box_ms: number;
  confirmed_by: string | null;
  confirmed_at: string | null;
  expires_at: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_comment: string | null;
}

export interface RevokedSessionsTable {
  jti: string;
  expires_at: string;
}

export interface AuditEntriesTable {
  idx: number;
  entry: string;
  created_at: string;
}

export interface MerkleNodesTable {
  level: number;
  idx: number;
  hash: Uint8Array;
}

export interface CheckpointsTable {
  size: number;
  note: string;
  created_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  releases: ReleasesTable;
  release_subjects: ReleaseSubjectsTable;
  promotions: PromotionsTable;
  steps: StepsTable;
  tokens: TokensTable;
  approvals: ApprovalsTable;
  elevations: ElevationsTable;
  break_glass: BreakGlassTable;
  revoked_sessions: RevokedSessionsTable;
  audit_entries: AuditEntriesTable;
  merkle_nodes: MerkleNodesTable;
  checkpoints: CheckpointsTable;
  meta: MetaTable;
}
