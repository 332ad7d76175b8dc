/**
 * Durations, in two written forms:
 * - the project file's `30s`, `10m`, `2h`, `1d`, `1h30m` (whole units, at most 365 days): `parseDuration`, `DURATION_RE`;
 * - Argo Rollouts' finer `500ms`, `1.5s`, `1m30s` (no days) for analysis intervals and timeouts: `parseFineDuration`, `FINE_DURATION_RE`.
 * Rendering milliseconds for messages is `formatDuration` in src/engine/duration.ts.
 */
export const DURATION_RE = /^(?:\d{1,6}[smhd]){1,4}$/;
const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const MAX_DURATION_MS = 365 * 86_400_000;

/** Parse a project-file duration to milliseconds; undefined when malformed or over a year. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smhd])/g)) {
    ms += Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
  }
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/** Argo-style durations: `500ms`, `10s`, `1.5s`, `5m`, `1h`, compounds like `1m30s`; no days. */
export const FINE_DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
/** the longest fine duration text accepted */
export const MAX_FINE_DURATION_TEXT = 32;
const fineUnitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds (rounded) of an Argo-style duration; undefined when the text is not one or is over 32 characters. */
export function parseFineDuration(text: string): number | undefined {
  if (text.length > MAX_FINE_DURATION_TEXT || !FINE_DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * fineUnitMs[m[2] as keyof typeof fineUnitMs];
  return Math.round(total);
}
