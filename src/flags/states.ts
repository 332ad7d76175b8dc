/**
 * Flag states of an environment for parity reports: per flag its state, default variant and the
 * digests of its variants and targeting (RFC 8785 canonical JSON), so two environments compare
 * without sending whole rules around.
 */
import canonicalize from 'canonicalize';
import { digestOf } from '../crypto/digest.ts';
import type { Store } from '../store/store.ts';
import { currentFlags } from './current.ts';

export interface FlagState {
  state: string;
  defaultVariant: string | null;
  variantsDigest: string;
  targetingDigest: string | null;
}

const digestJson = (v: unknown): string => digestOf(canonicalize(v) ?? 'null');

/** targeting with `{"$ref": name}` replaced by the shared evaluator, so a changed evaluator shows */
function resolveRefs(v: unknown, evaluators: Record<string, unknown>, depth = 0): unknown {
  if (depth > 32 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => resolveRefs(x, evaluators, depth + 1));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$ref' && typeof o['$ref'] === 'string' && Object.hasOwn(evaluators, o['$ref'])) {
    return resolveRefs(evaluators[o['$ref']], evaluators, depth + 1);
  }
  return Object.fromEntries(keys.map((k) => [k, resolveRefs(o[k], evaluators, depth + 1)]));
}

/** the flag states of `env` now (empty when no flag set is stored); reads only, no audit */
export async function flagStates(store: Pick<Store, 'read'>, env: string): Promise<Record<string, FlagState>> {
  const { flagSet } = await currentFlags(store.read.flags, env);
  const out: Record<string, FlagState> = {};
  for (const [key, f] of Object.entries(flagSet.flags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const hasTargeting = f.targeting !== undefined && Object.keys(f.targeting).length > 0;
    out[key] = {
      state: f.state,
      defaultVariant: f.defaultVariant ?? null,
      variantsDigest: digestJson(f.variants),
      targetingDigest: hasTargeting ? digestJson(resolveRefs(f.targeting, flagSet.$evaluators ?? {})) : null,
    };
  }
  return out;
}
