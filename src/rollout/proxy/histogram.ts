/**
 * A latency histogram with logarithmic buckets (constant memory, O(1) record): every value is kept
 * in a bucket whose bounds are within `relativeError` of it, so percentiles are exact to that
 * relative error however many values were recorded. Used for the proxy's per-version latency.
 */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencyHistogram {
  record(ms: number): void;
  /** nearest-rank percentile in ms, p in (0, 100]; 0 when empty */
  percentile(p: number): number;
  summary(): LatencySummary;
  reset(): void;
  readonly count: number;
}

export function createLatencyHistogram(opts: { lowestMs?: number; highestMs?: number; relativeError?: number } = {}): LatencyHistogram {
  const lowest = opts.lowestMs ?? 0.001;
  const highest = opts.highestMs ?? 3_600_000;
  const relErr = opts.relativeError ?? 0.01;
  const growth = (1 + relErr) / (1 - relErr);
  const logGrowth = Math.log(growth);
  const size = Math.ceil(Math.log(highest / lowest) / logGrowth) + 1;
  const counts = new Float64Array(size);
  let count = 0;
  let max = 0;
  const index = (ms: number): number => (ms <= lowest ? 0 : Math.min(size - 1, Math.ceil(Math.log(ms / lowest) / logGrowth)));
  // a bucket (lowest*g^(i-1), lowest*g^i] is represented by the value within relErr of both bounds
  const value = (i: number): number => (i === 0 ? lowest : (lowest * growth ** i) * (1 - relErr));
  const h: LatencyHistogram = {
    record(ms) {
      if (!Number.isFinite(ms) || ms < 0) return;
      counts[index(ms)]! += 1;
      count += 1;
      if (ms > max) max = ms;
    },
    percentile(p) {
      if (count === 0) return 0;
      const rank = Math.min(count, Math.max(1, Math.ceil((p / 100) * count)));
      let seen = 0;
      for (let i = 0; i < size; i++) {
        seen += counts[i]!;
        if (seen >= rank) return Math.min(value(i), max);
      }
      return max;
    },
    summary() {
      const r = (v: number) => Math.round(v * 1000) / 1000;
      return { count, p50: r(h.percentile(50)), p90: r(h.percentile(90)), p99: r(h.percentile(99)), max: r(max) };
    },
    reset() {
      counts.fill(0);
      count = 0;
      max = 0;
    },
    get count() {
      return count;
    },
  };
  return h;
}
