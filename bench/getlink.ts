// Bench 1: RTM_GETLINK of `lo` over netweave's raw socket layer vs plain C
// (bench/c/getlink.c): awaited one at a time, and 10,000 in flight.
// Targets: awaited ≤ 5× C; in-flight throughput ≥ 0.5× C.
import { Namespace } from '../src/namespace.js';
import { native } from '../src/native.js';
import { NLM_F_REQUEST, NLMSG_ERROR, Writer } from '../src/wire/netlink.js';
import { RTM_GETLINK, RTM_NEWLINK } from '../src/wire/rtnetlink.js';
import { runC, type CSamples } from './lib/c.js';
import { measureLoopDelay } from './lib/loop-delay.js';
import type { Bench, BenchResult } from './lib/report.js';
import { summarize, timeEach, usSince } from './lib/stats.js';

const IFLA_IFNAME = 3;
export const AWAITED = 20_000;
export const IN_FLIGHT = 10_000;

/** The same request as bench/c/getlink.c: ifinfomsg + IFLA_IFNAME "lo", no ack flag. */
export function getLoRequest(): Buffer {
  const w = new Writer(64);
  const at = w.begin(RTM_GETLINK, NLM_F_REQUEST);
  w.struct(16); // struct ifinfomsg
  w.string(IFLA_IFNAME, 'lo');
  w.end(at);
  return Buffer.from(w.finish());
}

interface CGetlink {
  awaited: CSamples;
  in_flight: { n: number; us_per_op: number; best_batch: number; by_batch: Record<string, number> };
}

const bench: Bench = {
  name: 'getlink',
  description: 'RTM_GETLINK of lo: awaited one at a time (20,000) and 10,000 in flight',
  async run(): Promise<BenchResult> {
    const c = await runC<CGetlink>('getlink', [AWAITED, IN_FLIGHT]);

    const sock = Namespace.current().route();
    const req = getLoRequest();
    const opts = { operation: 'getLink', subject: 'lo' };
    const check = (r: Awaited<ReturnType<typeof sock.request>>) => {
      const m = r.messages[0];
      if (r.messages.length !== 1 || m.type !== RTM_NEWLINK) {
        throw new Error(`unexpected reply to get lo: ${m?.type === NLMSG_ERROR ? 'error ack' : `type ${m?.type}`}`);
      }
    };
    for (let i = 0; i < 2_000; i++) check(await sock.request(req, opts)); // warm-up (JIT, socket open)

    const awaited = summarize(await timeEach(AWAITED, async () => check(await sock.request(req, opts))));

    // In flight: the median of 3 rounds of IN_FLIGHT requests issued at once.
    const rounds: { usPerOp: number; maxDelayMs: number; sendmsgs: number }[] = [];
    for (let r = 0; r < 3; r++) {
      const before = native.stats();
      const { result: us, delay } = await measureLoopDelay(async () => {
        const t0 = process.hrtime.bigint();
        const replies = await Promise.all(Array.from({ length: IN_FLIGHT }, () => sock.request(req, opts)));
        const us = usSince(t0);
        replies.forEach(check);
        return us;
      });
      rounds.push({ usPerOp: us / IN_FLIGHT, maxDelayMs: delay.maxMs, sendmsgs: native.stats().sendmsgs - before.sendmsgs });
    }
    rounds.sort((a, b) => a.usPerOp - b.usPerOp);
    const inFlight = rounds[1];

    return {
      rows: [
        {
          metric: 'awaited get of lo (median)',
          unit: 'µs/op',
          netweave: awaited.median,
          reference: c.awaited.median_us,
          referenceName: 'C',
          target: { kind: 'max-ratio', value: 5, text: '≤ 5× C' },
        },
        {
          metric: `${IN_FLIGHT.toLocaleString('en')} gets in flight`,
          unit: 'µs/op',
          netweave: inFlight.usPerOp,
          reference: c.in_flight.us_per_op,
          referenceName: 'C',
          target: { kind: 'min-speedup', value: 0.5, text: 'throughput ≥ 0.5× C' },
          note: `C: best of batch sizes ${Object.keys(c.in_flight.by_batch).join('/')} per datagram (batch ${c.in_flight.best_batch}); netweave: Promise.all, ${inFlight.sendmsgs} sendmsg calls`,
        },
        {
          metric: `event-loop max delay, ${IN_FLIGHT.toLocaleString('en')} in flight`,
          unit: 'ms',
          netweave: inFlight.maxDelayMs,
        },
      ],
      raw: { c, netweave: { awaited, inFlight: rounds } },
    };
  },
};

export default bench;
