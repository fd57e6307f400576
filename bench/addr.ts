// Bench 3: 1,000 IPv4 address adds on one link (a fresh, down veth end in a
// namespace of its own), awaited one at a time and pipelined. Reference:
// bench/c/addr.c, which adds 10.(100+round).x.y/32 with x.y = 0.1, 0.2, …
// (addressFor below) — use the same shape for the netweave side.
// Target: 1,000 adds in flight ≥ 0.7× C pipelined throughput.
import { addAddress } from '../src/address.js';
import { createVethPair } from '../src/link-kinds/index.js';
import { Namespace } from '../src/namespace.js';
import { runC, type CSamples } from './lib/c.js';
import { median } from './lib/stats.js';
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

/**
 * The netweave side, in C's shape: per round a fresh down veth end, N /32
 * adds — alternately all in flight (Promise.all) and awaited one at a time.
 * The link is passed by index, as C does (a name costs a lookup first).
 */
async function netweaveSide(rounds: number) {
  const ns = await Namespace.create();
  const inflight: number[] = [];
  const awaited: number[] = [];
  try {
    for (let r = 0; r < 2 * rounds; r++) {
      const { link } = await createVethPair({ name: `ad${r}`, peer: { name: `ae${r}` }, ns });
      const addrs = Array.from({ length: N }, (_, i) => `${addressFor(r, i)}/32`);
      if (r % 2 === 0) {
        const t0 = process.hrtime.bigint();
        await Promise.all(addrs.map((a) => addAddress(link.index, a, { ns })));
        inflight.push(Number(process.hrtime.bigint() - t0) / 1000 / N);
      } else {
        for (const a of addrs) {
          const t0 = process.hrtime.bigint();
          await addAddress(link.index, a, { ns });
          awaited.push(Number(process.hrtime.bigint() - t0) / 1000);
        }
      }
    }
  } finally {
    await ns.delete();
  }
  return { inflightUsPerOp: median(inflight), awaitedMedianUs: median(awaited) };
}

const bench: Bench = {
  name: 'addr',
  description: `${N.toLocaleString('en')} IPv4 address adds on one link: awaited and in flight`,
  async run(): Promise<BenchResult> {
    const c = await runC<CAddr>('addr', [N, 3]);
    const nw = await netweaveSide(3);
    return {
      rows: [
        {
          metric: `${N.toLocaleString('en')} address adds in flight`,
          unit: 'µs/op',
          netweave: nw.inflightUsPerOp,
          reference: c.pipelined.us_per_op,
          referenceName: 'C pipelined',
          target: { kind: 'min-speedup', value: 0.7, text: 'throughput ≥ 0.7× C' },
        },
        {
          metric: 'address add awaited (median)',
          unit: 'µs/op',
          netweave: nw.awaitedMedianUs,
          reference: c.awaited.median_us,
          referenceName: 'C',
        },
      ],
      raw: { c, netweave: nw },
    };
  },
};

export default bench;
