// Bench 2: veth pairs. References: plain C rtnetlink (bench/c/veth.c: create
// one request + ack at a time, delete one by one, by group, by dropping the
// namespace) and Node spawning `ip -n NS link add … type veth` per pair.
// Targets: createVethPair awaited ≤ 1.10× C; ≥ 6× faster than spawning `ip`
// per op; tearing down 200 pairs ≥ 20× faster than one by one; event-loop
// max delay < 2 ms while 1,000 creates run.
import { runC, type CSamples } from './lib/c.js';
import { addNetns, delNetns, execFileP, ip } from './lib/proc.js';
import type { Bench, BenchResult } from './lib/report.js';
import { summarize, timeEach } from './lib/stats.js';

export const CREATE = 200;
export const DELETE_ONE = 20;
export const IP_SPAWN = 50;

interface CVeth {
  create: CSamples;
  delete_one: CSamples;
  delete_group: { pairs: number; total_us: number; us_per_pair: number };
  delete_netns: { pairs: number; total_us: number; us_per_pair: number };
}

/** `ip -n NS link add sI type veth peer name tI`, one process per pair, awaited. */
async function ipSpawnPerPair(n: number): Promise<number[]> {
  const ns = addNetns('ipveth');
  try {
    const add = (i: number) => execFileP('ip', ['-n', ns, 'link', 'add', `s${i}`, 'type', 'veth', 'peer', 'name', `t${i}`]);
    for (let i = 0; i < 3; i++) await add(1000 + i); // warm-up: page cache, first-use costs
    const us = await timeEach(n, add);
    const made = ip('-n', ns, '-o', 'link', 'show').split('\n').filter((l) => / s\d+@/.test(l)).length;
    if (made !== n + 3) throw new Error(`ip spawn: expected ${n + 3} veth pairs, found ${made}`);
    return us;
  } finally {
    delNetns(ns);
  }
}

const PENDING_CREATE = 'needs createVethPair (src/link.ts)';

const bench: Bench = {
  name: 'veth',
  description: `veth pairs: create ${CREATE} one at a time; delete one by one (${DELETE_ONE}), by group, by namespace; vs ip per op`,
  async run(): Promise<BenchResult> {
    const c = await runC<CVeth>('veth', [CREATE, DELETE_ONE, 3]);
    const spawn = summarize(await ipSpawnPerPair(IP_SPAWN));
    const oneByOne200Ms = (c.delete_one.median_us * CREATE) / 1000;

    return {
      rows: [
        {
          metric: 'createVethPair awaited (median)',
          unit: 'µs/op',
          pending: PENDING_CREATE,
          reference: c.create.median_us,
          referenceName: 'C',
          target: { kind: 'max-ratio', value: 1.1, text: '≤ 1.10× C' },
        },
        {
          metric: 'createVethPair vs spawning ip per pair (median)',
          unit: 'ms/op',
          pending: PENDING_CREATE,
          reference: spawn.median / 1000,
          referenceName: 'ip spawn',
          target: { kind: 'min-speedup', value: 6, text: '≥ 6× faster' },
        },
        {
          metric: `teardown of ${CREATE} pairs vs one by one`,
          unit: `ms/${CREATE} pairs`,
          pending: 'needs link deletion by group or namespace (src/link.ts, src/namespace.ts)',
          reference: oneByOne200Ms,
          referenceName: 'C 1-by-1',
          target: { kind: 'min-speedup', value: 20, text: '≥ 20× faster' },
          note: `one by one is ${DELETE_ONE} C deletes (median ${(c.delete_one.median_us / 1000).toFixed(1)} ms each) × ${CREATE}`,
        },
        {
          metric: 'event-loop max delay, 1,000 creates',
          unit: 'ms',
          pending: PENDING_CREATE,
          target: { kind: 'max-abs', value: 2, text: '< 2 ms' },
        },
        { metric: 'C: delete one by one (median)', unit: 'µs/op', reference: c.delete_one.median_us, referenceName: 'C' },
        { metric: `C: delete by group (${CREATE} pairs)`, unit: 'µs/pair', reference: c.delete_group.us_per_pair, referenceName: 'C' },
        { metric: `C: delete by namespace (${CREATE} pairs)`, unit: 'µs/pair', reference: c.delete_netns.us_per_pair, referenceName: 'C' },
        { metric: `ip spawn per pair (mean of ${IP_SPAWN})`, unit: 'ms/op', reference: spawn.mean / 1000, referenceName: 'ip spawn' },
      ],
      raw: { c, ipSpawnUs: spawn },
    };
  },
};

export default bench;
