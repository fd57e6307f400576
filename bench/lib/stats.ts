// Summaries of per-op timings.

export interface Summary {
  n: number;
  median: number;
  mean: number;
  p90: number;
  min: number;
  max: number;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  return lo + 1 < sorted.length ? sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - lo) : sorted[lo];
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return { n: s.length, median: quantile(s, 0.5), mean: sum / s.length, p90: quantile(s, 0.9), min: s[0], max: s[s.length - 1] };
}

export const median = (v: number[]): number => quantile([...v].sort((a, b) => a - b), 0.5);

/** Microseconds elapsed since a process.hrtime.bigint() reading. */
export function usSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1000;
}

/** Runs fn n times one after another; returns each run's duration in µs. */
export async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(usSince(t0));
  }
  return out;
}

/**
 * Waits until this process has gone quiet before a reference program's
 * block: after its last request the JS thread polls for up to 1 ms
 * (setPollBudget) and the engine thread for up to 0.6 ms, each keeping a
 * vCPU busy that the reference's kernel work would otherwise have — on a
 * 2-vCPU VM that slowed the C program's first creates of a block.
 */
export function quiet(ms = 3): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
