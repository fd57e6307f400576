// Bench 3: 1,000 IPv4 address adds on one link (a fresh, down veth end in a
// namespace of its own), awaited one at a time and pipelined. Reference:
// bench/c/addr.c, which adds 10.(100+round).x.y/32 with x.y = 0.1, 0.2, …
// (addressFor below) — use the same shape for the netweave side.
// Target: 1,000 adds in flight ≥ 0.7× C pipelined throughput.
import { runC, type CSamples } from './lib/c.js';
import type { Bench, BenchResult } from './lib/report.js';

export const N = 1000;

/** The i-th address (0-based) of a round, as bench/c/addr.c adds it: /32. */
export function addressFor(round: number, i: number): string {
  const v = ((10 << 24) | ((100 + round) << 16)) + i + 1;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

interface CAddr {
  awaited: CSamples;
  pipelined: { n: number; rounds: number; us_per_op: number; best_us_per_op: number };
}

const PENDING = 'needs address add (src/address.ts) on a link from createVethPair (src/link.ts)';

const bench: Bench = {
  name: 'addr',
  description: `${N.toLocaleString('en')} IPv4 address adds on one link: awaited and in flight`,
  async run(): Promise<BenchResult> {
    const c = await runC<CAddr>('addr', [N, 3]);
    return {
      rows: [
        {
          metric: `${N.toLocaleString('en')} address adds in flight`,
          unit: 'µs/op',
          pending: PENDING,
          reference: c.pipelined.us_per_op,
          referenceName: 'C pipelined',
          target: { kind: 'min-speedup', value: 0.7, text: 'throughput ≥ 0.7× C' },
        },
        {
          metric: 'address add awaited (median)',
          unit: 'µs/op',
          pending: PENDING,
          reference: c.awaited.median_us,
          referenceName: 'C',
        },
      ],
      raw: { c },
    };
  },
};

export default bench;
