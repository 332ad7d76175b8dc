/**
 * Hard-coded values: configuration values that also appear as literals in a release's artifacts,
 * where a change of the manifest would not reach them. Only values of the `config` section that are
 * specific enough to mean something are looked for: strings of 8+ characters, numbers of 8+ digits.
 */
import { lineColumn } from '../../domain/line-column.ts';
import { leaves } from './pointer.ts';

export const MIN_VALUE_CHARS = 8;
export const MAX_HARDCODED_FINDINGS = 200;

export interface HardcodedFinding {
  /** JSON Pointer of the config value */
  pointer: string;
  /** the artifact file (`app.tgz!src/config.js` for archive entries) */
  file: string;
  line: number;
  column: number;
  /** the value, shortened to 80 characters */
  value: string;
}

/** the config values worth looking for, longest first (so a longer literal is reported before its prefix) */
export function candidateValues(doc: Record<string, unknown>): Array<{ pointer: string; value: string }> {
  const out: Array<{ pointer: string; value: string }> = [];
  for (const [pointer, v] of leaves(doc['config'] ?? {}, '/config')) {
    const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
    if (text !== undefined && text.trim().length >= MIN_VALUE_CHARS) out.push({ pointer, value: text });
  }
  return out.sort((a, b) => b.value.length - a.value.length);
}

export function findHardcodedValues(files: ReadonlyArray<{ name: string; text: string }>, doc: Record<string, unknown>): HardcodedFinding[] {
  const values = candidateValues(doc);
  const findings: HardcodedFinding[] = [];
  for (const f of files) {
    for (const { pointer, value } of values) {
      const at = f.text.indexOf(value);
      if (at < 0) continue;
      const { line, column } = lineColumn(f.text, at);
      findings.push({ pointer, file: f.name, line, column, value: value.length > 80 ? `${value.slice(0, 77)}...` : value });
      if (findings.length >= MAX_HARDCODED_FINDINGS) return findings;
    }
  }
  return findings;
}

export const formatHardcoded = (f: HardcodedFinding): string => `${f.file}:${f.line}:${f.column}: ${f.pointer} (${JSON.stringify(f.value)}) is hard-coded in the artifact`;
