/**
 * The promotion state machine. States are durable; the reconcile loop moves a promotion from one
 * state to the next, committing each transition together with its audit entry.
 */
export const promotionStates = [
  'Pending',
  'Gating',
  'AwaitingApproval',
  'Deploying',
  'Verifying',
  'Succeeded',
  'Failed',
  'Aborted',
  'RolledBack',
] as const;
export type PromotionState = (typeof promotionStates)[number];

export const terminalStates: readonly PromotionState[] = ['Succeeded', 'Failed', 'Aborted', 'RolledBack'];

const transitions: Record<PromotionState, readonly PromotionState[]> = {
  Pending: ['Gating', 'Aborted'],
  Gating: ['AwaitingApproval', 'Deploying', 'Failed', 'Aborted'],
  AwaitingApproval: ['Deploying', 'Failed', 'Aborted'],
  Deploying: ['Verifying', 'Failed', 'Aborted', 'RolledBack'],
  Verifying: ['Succeeded', 'Failed', 'RolledBack'],
  Succeeded: [],
  Failed: [],
  Aborted: [],
  RolledBack: [],
};

export function isTerminal(s: PromotionState): boolean {
  return terminalStates.includes(s);
}

export function canTransition(from: PromotionState, to: PromotionState): boolean {
  return transitions[from].includes(to);
}

export interface GateResult {
  /** gate name, e.g. `signature`, `checksums`, `requires` */
  gate: string;
  passed: boolean;
  /** what was checked, or what is wrong and what to do */
  message: string;
  /** the component, artifact, environment or key the result is about */
  subject?: string;
}
