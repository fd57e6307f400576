// Bench 3: 1,000 IPv4 address adds on one link (a fresh, down veth end in a
// namespace of its own), awaited one at a time and pipelined. Reference:
// bench/c/addr.c, which adds 10.(100+round).x.y/32 with x.y = 0.1, 0.2, …
// (addressFor below) — use the same shape for the netweave side.
// Target: 1,000 adds in flight ≥ 0.7× C pipelined throughput.
import { addAddress } from '../src/address.js';
import { createVethPair } from '../src/link-kinds/index.js';
import { deleteLink } from '../src/link.js';
import { Namespace } from '../src/namespace.js';
import { runC, type CSamples } from './lib/c.js';
import { median } from './lib/stats.js';
import type { Bench, BenchResult } from './lib/report.js';

export const N = 1000;
/** Alternating turns of one C round and one netweave round (each: in flight, then awaited). */
export const TURNS = 7;

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
 * adds — alternately all in flight (Promise.all) and awaited one at a time;
 * the veths are deleted after (their addresses with them).
 * The link is passed by index, as C does (a name costs a lookup first).
 */
async function netweaveSide(rounds: number, ns: Namespace, first: number) {
  const inflight: number[] = [];
  const awaited: number[] = [];
  try {
    for (let r = first; r < first + 2 * rounds; r++) {
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
    for (let r = first; r < first + 2 * rounds; r++) await deleteLink(`ad${r}`, { ns }).catch(() => {});
  }
  return { inflight, awaited };
}

const bench: Bench = {
  name: 'addr',
  description: `${N.toLocaleString('en')} IPv4 address adds on one link: awaited and in flight`,
  async run(): Promise<BenchResult> {
    // C and netweave alternate, one round each per turn: drift on a shared machine hits both.
    const cRuns: CAddr[] = [];
    const inflight: number[] = [];
    const awaited: number[] = [];
    const ns = await Namespace.create();
    try {
      // Unmeasured first rounds: the JIT's first passes over the encoders are not the steady cost.
      await netweaveSide(2, ns, 1000);
      for (let k = 0; k < TURNS; k++) {
        cRuns.push(await runC<CAddr>('addr', [N, 1]));
        const r = await netweaveSide(1, ns, 2 * k);
        inflight.push(...r.inflight);
        awaited.push(...r.awaited);
      }
    } finally {
      await ns.delete();
    }
    const c = { pipelined: { us_per_op: median(cRuns.map((x) => x.pipelined.us_per_op)) }, awaited: { median_us: median(cRuns.map((x) => x.awaited.median_us)) } };
    const nw = { inflightUsPerOp: median(inflight), awaitedMedianUs: median(awaited) };
    return {
      rows: [
        {
          metric: `${N.toLocaleString('en')} address adds in flight (median of ${TURNS} rounds, alternating with C)`,
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
      raw: { c: cRuns, netweave: { inflight, awaited: median(awaited) } },
    };
  },
};

export default bench;
