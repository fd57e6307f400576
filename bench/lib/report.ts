// What a bench returns and how the harness turns it into a verdict. Benches
// print figures; a target miss is reported, never thrown.

/**
 * How a netweave figure is judged against its reference (both in the row's
 * unit, lower is better: time per op or per run).
 * - max-ratio:   netweave / reference ≤ value   ("≤ 5× C", "no slower than")
 * - min-speedup: reference / netweave ≥ value   ("≥ 20× faster", "throughput ≥ 0.5× C")
 * - max-abs:     netweave ≤ value               ("< 2 ms")
 */
export type Target =
  | { kind: 'max-ratio'; value: number; text: string }
  | { kind: 'min-speedup'; value: number; text: string }
  | { kind: 'max-abs'; value: number; text: string };

export interface Row {
  /** What is measured, e.g. "awaited get of lo". */
  metric: string;
  /** Unit of both figures, e.g. "µs/op", "ms/container". */
  unit: string;
  /** netweave's figure; undefined while the API is missing (see pending). */
  netweave?: number;
  /** Why the netweave side is not measured yet, e.g. "needs createVethPair (src/link.ts)". */
  pending?: string;
  reference?: number;
  /** Which reference: "C", "ip per op", "nft -f"… */
  referenceName?: string;
  target?: Target;
  note?: string;
}

export type Status = 'pass' | 'MISS' | 'pending' | 'info';

export interface JudgedRow extends Row {
  ratio?: number;
  status: Status;
}

export interface BenchResult {
  rows: Row[];
  /** Everything measured, for bench/results/latest.json (C programs' JSON etc.). */
  raw?: Record<string, unknown>;
  notes?: string[];
}

export interface Bench {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}

export function judge(row: Row): JudgedRow {
  const t = row.target;
  if (!t) return { ...row, status: row.netweave === undefined && row.pending ? 'pending' : 'info' };
  if (row.netweave === undefined) return { ...row, status: 'pending' };
  if (t.kind === 'max-abs') return { ...row, status: row.netweave <= t.value ? 'pass' : 'MISS' };
  if (row.reference === undefined || !(row.reference > 0) || !(row.netweave > 0)) return { ...row, status: 'info' };
  if (t.kind === 'max-ratio') {
    const ratio = row.netweave / row.reference;
    return { ...row, ratio, status: ratio <= t.value ? 'pass' : 'MISS' };
  }
  const ratio = row.reference / row.netweave;
  return { ...row, ratio, status: ratio >= t.value ? 'pass' : 'MISS' };
}

export const LEGEND =
  'ratio: "time N×" = netweave time / reference time (lower is better); "speed N×" = reference time / netweave time (higher is better)';

export function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

function ratioText(r: JudgedRow): string {
  if (r.ratio === undefined) return '';
  return r.target?.kind === 'min-speedup' ? `speed ${fmt(r.ratio)}×` : `time ${fmt(r.ratio)}×`;
}

/** A fixed-width table: metric, unit, netweave, reference, ratio, target, status. */
export function table(rows: JudgedRow[]): string {
  const head = ['metric', 'unit', 'netweave', 'reference', 'ratio', 'target', ''];
  const body = rows.map((r) => [
    r.metric,
    r.unit,
    r.netweave !== undefined ? fmt(r.netweave) : r.pending ? 'pending' : '—',
    r.reference !== undefined ? `${fmt(r.reference)} ${r.referenceName ?? ''}`.trim() : '—',
    ratioText(r),
    r.target?.text ?? '',
    r.status === 'info' ? '' : r.status,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    '  ' + cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  const pend = rows.filter((r) => r.pending && r.netweave === undefined).map((r) => r.pending!);
  for (const p of [...new Set(pend)]) out.push(`  netweave side pending: ${p}`);
  for (const r of rows) if (r.note) out.push(`  note (${r.metric}): ${r.note}`);
  return out.join('\n');
}
