/**
 * Traffic weights of the weighted proxy: validation (integer percents per known version, summing to
 * 100) and the per-request choice, a smooth weighted round robin (nginx's algorithm). Smooth WRR is
 * deterministic: over any run of 100 consecutive picks with unchanged weights and eligibility every
 * version gets exactly its weight, so a 10/90 split is exact over 2,000 requests, and the picks are
 * interleaved (10/90 sends one request in ten to the canary, never ten in a row).
 */
import { DomainError } from '../../domain/errors.ts';

export type Weights = Readonly<Record<string, number>>;

const MAX_ENTRIES = 64;

const fail = (message: string, field: string, fix: string): never => {
  throw new DomainError('invalid_input', message, { field, fix });
};

/** Validate `input` against the known `versions`; missing versions get weight 0. Returns a frozen copy. */
export function validateWeights(input: unknown, versions: readonly string[], where = 'weights'): Weights {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail(`${where} must be an object of version -> integer percent, got ${Array.isArray(input) ? 'an array' : typeof input}`, where, 'pass e.g. {"v1": 90, "v2": 10}');
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) fail(`${where} has ${entries.length} entries; at most ${MAX_ENTRIES}`, where, 'name only the versions the proxy serves');
  const out: Record<string, number> = {};
  for (const v of versions) out[v] = 0;
  let sum = 0;
  for (const [version, w] of entries) {
    const field = `${where}.${version}`;
    if (!versions.includes(version)) {
      fail(`${field}: unknown version "${version.slice(0, 128)}"; the proxy's versions are ${versions.join(', ') || '(none)'}`, field, 'add the backend first (addBackend) or fix the version name');
    }
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 100) {
      fail(`${field} must be an integer from 0 to 100, got ${JSON.stringify(w) ?? String(w)}`, field, 'use whole percents, e.g. 10');
    }
    out[version] = w as number;
    sum += w as number;
  }
  if (sum !== 100) {
    const shown = Object.entries(out).map(([v, w]) => `${v}=${w}`).join(', ');
    fail(`${where} must sum to 100, got ${sum} (${shown})`, where, 'adjust the weights so they add up to exactly 100');
  }
  return Object.freeze(out);
}

export interface WeightedPicker {
  /** the next version among those with weight > 0 that `eligible` accepts; undefined when none */
  pick(weights: Weights, eligible: (version: string) => boolean): string | undefined;
  /** forget the round-robin position (call when the weights change) */
  reset(): void;
}

export function createSmoothPicker(): WeightedPicker {
  const current = new Map<string, number>();
  return {
    pick(weights, eligible) {
      let total = 0;
      let best: string | undefined;
      let bestCurrent = Number.NEGATIVE_INFINITY;
      for (const [version, w] of Object.entries(weights)) {
        if (w <= 0 || !eligible(version)) continue;
        const c = (current.get(version) ?? 0) + w;
        current.set(version, c);
        total += w;
        if (c > bestCurrent) {
          bestCurrent = c;
          best = version;
        }
      }
      if (best !== undefined) current.set(best, bestCurrent - total);
      return best;
    },
    reset() {
      current.clear();
    },
  };
}
