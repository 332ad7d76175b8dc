/** The zod schema of a duration in stagegate.yaml, to milliseconds within bounds (one for every section that takes one). */
import { z } from 'zod';
import { DURATION_RE, FINE_DURATION_RE, MAX_FINE_DURATION_TEXT, parseDuration, parseFineDuration } from '../domain/duration.ts';

const text = (ms: number): string => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/**
 * `fine` takes `500ms` and decimals (`1.5s`) as analysis and probes need; the project format takes
 * whole `s|m|h|d` parts. Out of bounds is an issue naming the bounds.
 */
export function durationSchema(o: { maxMs: number; minMs?: number; fine?: boolean; describe: string }) {
  const min = o.minMs ?? 0;
  return z
    .string()
    .max(o.fine ? MAX_FINE_DURATION_TEXT : 32)
    .regex(o.fine ? FINE_DURATION_RE : DURATION_RE)
    .describe(o.describe)
    .transform((s, ctx) => {
      const ms = o.fine ? parseFineDuration(s) : parseDuration(s);
      if (ms === undefined || ms < min || ms > o.maxMs) {
        ctx.addIssue({ code: 'custom', message: `duration "${s}" must be ${min > 0 ? `from ${text(min)} ` : ''}${min > 0 ? 'to' : 'at most'} ${text(o.maxMs)}`, input: s });
        return z.NEVER;
      }
      return ms;
    });
}
