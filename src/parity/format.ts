/** Readable tables of parity and drift reports: aligned columns, findings first. */
import type { DriftReport } from './drift.ts';
import type { ParityReport } from './report.ts';

const CELL = 48;

export function cell(v: unknown, present = true): string {
  if (!present) return '-';
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null');
  const one = s.replace(/\s+/g, ' ');
  return one.length > CELL ? `${one.slice(0, CELL - 1)}…` : one;
}

/** rows -> aligned lines (two spaces between columns; the last column is not padded) */
export function alignRows(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function parityTable(r: ParityReport): string {
  const head = `parity ${r.a} vs ${r.b}${r.service ? ` (service ${r.service})` : ''}: score ${r.score.toFixed(4)}; ${r.compared} compared, ${r.equal} equal, ${r.allowed} allowed, ${r.findings} finding${r.findings === 1 ? '' : 's'}`;
  if (r.differences.length === 0) return `${head}\nno differences`;
  const rows = [
    ['STATUS', 'PATH', r.a.toUpperCase(), r.b.toUpperCase(), 'WHY'],
    ...r.differences.map((d) => [
      d.status === 'finding' ? 'FINDING' : 'allowed',
      d.path,
      cell(d.a, 'a' in d),
      cell(d.b, 'b' in d),
      d.status === 'allowed' ? `${d.rule?.id}: ${d.rule?.reason} (owner ${d.rule?.owner}, until ${d.rule?.expires})` : d.rule ? `rule ${d.rule.id} expired on ${d.rule.expires}` : 'not allowed by parity.yaml',
    ]),
  ];
  return [head, ...alignRows(rows)].join('\n');
}

export function driftTable(r: DriftReport): string {
  const head = `drift in ${r.environment}: ${r.error ? `ERROR: ${r.error}` : `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`} (${r.servicesChecked} service${r.servicesChecked === 1 ? '' : 's'} checked)`;
  if (r.findings.length === 0) return `${head}${r.error ? '' : '\nno drift: what runs is what stagegate deployed'}`;
  const rows = [['PATH', 'DECLARED', 'OBSERVED', 'WHAT'], ...r.findings.map((f) => [f.path, cell(f.declared, 'declared' in f), cell(f.observed, 'observed' in f), f.message])];
  return [head, ...alignRows(rows)].join('\n');
}
