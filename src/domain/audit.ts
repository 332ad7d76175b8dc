/** An audit entry: one action, allowed or denied. Its RFC 8785 canonical JSON is the Merkle leaf. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export const auditOutcomes = ['allowed', 'denied', 'succeeded', 'failed'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

export interface AuditEntry {
  /** ISO-8601 UTC */
  time: string;
  /** who: `user:NAME`, `token:ID`, `system:reconciler`, `anonymous` */
  actor: string;
  /** what: dotted verb, e.g. `release.push`, `promotion.request`, `promotion.transition`, `auth.failed` */
  action: string;
  outcome: AuditOutcome;
  /** on what: `release:sha256:…`, `promotion:ID`, `service:checkout`, `token:ID` */
  subject: string;
  /** `sha256:` of the request body that caused it; null for system actions */
  requestDigest: string | null;
  /** action-specific facts; never a secret */
  details: { [k: string]: JsonValue };
}
