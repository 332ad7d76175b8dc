/** The Store's records and repository of feature-flag sets and their change requests (docs/feature-flags.md). */
import type { Timestamp } from './store.ts';

/** One version of an environment's flag set (flagd format, RFC 8785 canonical JSON). Versions start at 1. */
export interface FlagVersionRecord {
  environment: string;
  version: number;
  /** canonical JSON text of the whole flag set */
  flagSet: string;
  /** `sha256:` of `flagSet` */
  digest: string;
  createdBy: string;
  createdAt: Timestamp;
  /** the change request that made it; null for the seed from the flag file */
  changeId: string | null;
}

export const flagChangeStates = ['draft', 'approved', 'applied', 'rejected', 'superseded'] as const;
export type FlagChangeState = (typeof flagChangeStates)[number];

export interface FlagApprovalRecord {
  approver: string;
  groups: string[];
  decision: 'approve' | 'reject';
  comment: string;
  at: Timestamp;
}

/** A proposed change of one environment's flag set: an RFC 6902 patch against `baseVersion`. */
export interface FlagChangeRecord {
  id: string;
  environment: string;
  baseVersion: number;
  /** JSON text of the RFC 6902 operations */
  patch: string;
  /** `sha256:` of the canonical flag set the patch produces from the base */
  resultDigest: string;
  reason: string;
  state: FlagChangeState;
  author: string;
  approvals: FlagApprovalRecord[];
  createdAt: Timestamp;
  updatedAt: Timestamp;
  /** the version it became, once applied */
  appliedVersion: number | null;
}

export interface FlagRepo {
  /** insert; throws DomainError('conflict') when that environment already has this version */
  insertVersion(v: FlagVersionRecord): Promise<void>;
  latest(environment: string): Promise<FlagVersionRecord | undefined>;
  getVersion(environment: string, version: number): Promise<FlagVersionRecord | undefined>;
  /** newest first */
  history(environment: string, limit: number): Promise<FlagVersionRecord[]>;
  insertChange(c: FlagChangeRecord): Promise<void>;
  getChange(id: string): Promise<FlagChangeRecord | undefined>;
  /** apply the patch only if the change is in `expectState`; returns whether it did */
  updateChange(id: string, expectState: FlagChangeState, patch: Partial<Pick<FlagChangeRecord, 'state' | 'approvals' | 'updatedAt' | 'appliedVersion'>>): Promise<boolean>;
  /** newest first */
  listChanges(q: { environment?: string; states?: readonly FlagChangeState[]; limit: number }): Promise<FlagChangeRecord[]>;
}
