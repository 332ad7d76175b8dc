/** Durations as the project file writes them: `30s`, `10m`, `2h`, `1d`, `1h30m` (at most 365 days). */
export const DURATION_RE = /^(?:\d{1,6}[smhd]){1,4}$/;
const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const MAX_DURATION_MS = 365 * 86_400_000;

/** Parse a duration to milliseconds; undefined when malformed or over a year. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smhd])/g)) {
    ms += Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
  }
  return ms <= MAX_DURATION_MS ? ms : undefined;
}
