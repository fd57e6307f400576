// Bench 6: listing 5,000 links. Reference: Node running `ip -j link show`
// in the namespace and JSON.parse of its output. The links (2,500 veth
// pairs) are made with one `ip -batch` in a namespace of their own.
// Target: listLinks over 5,000 links no slower than `ip -j link show` + JSON.parse.
import { listLinks } from '../src/link.js';
import { Namespace } from '../src/namespace.js';
import { addNetns, delNetns, execFileP, runWithInput } from './lib/proc.js';
import type { Bench, BenchResult } from './lib/report.js';
import { summarize, timeEach, usSince } from './lib/stats.js';

export const LINKS = 5000;

const bench: Bench = {
  name: 'links',
  description: `list ${LINKS.toLocaleString('en')} links vs ip -j link show + JSON.parse`,
  async run(): Promise<BenchResult> {
    const ns = addNetns('links');
    try {
      const lines: string[] = [];
      for (let i = 0; i < LINKS / 2; i++) lines.push(`link add la${i} type veth peer name lb${i}`);
      const t0 = process.hrtime.bigint();
      await runWithInput('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
      const createMs = usSince(t0) / 1000;

      const list = async () => {
        const { stdout } = await execFileP('ip', ['-n', ns, '-j', 'link', 'show'], { maxBuffer: 256 << 20 });
        return JSON.parse(stdout) as unknown[];
      };
      const count = (await list()).length; // warm-up
      if (count !== LINKS + 1) throw new Error(`expected ${LINKS + 1} links (with lo), ip lists ${count}`);
      const ip = summarize(await timeEach(5, list));

      const nsh = Namespace.open(ns);
      const nwList = () => listLinks({ ns: nsh });
      const got = (await nwList()).length; // warm-up
      if (got !== LINKS + 1) throw new Error(`expected ${LINKS + 1} links (with lo), listLinks returned ${got}`);
      const nw = summarize(await timeEach(5, nwList));
      nsh.close();

      return {
        rows: [
          {
            metric: `list ${LINKS.toLocaleString('en')} links (median of 5)`,
            unit: 'ms',
            netweave: nw.median / 1000,
            reference: ip.median / 1000,
            referenceName: 'ip -j + parse',
            target: { kind: 'max-ratio', value: 1, text: 'no slower than ip -j' },
          },
          { metric: `ip -batch: create ${LINKS / 2} veth pairs (fixture)`, unit: 'ms', reference: createMs, referenceName: 'ip -batch' },
        ],
        raw: { ipJsonUs: ip, netweaveUs: nw, createMs },
      };
    } finally {
      delNetns(ns);
    }
  },
};

export default bench;
