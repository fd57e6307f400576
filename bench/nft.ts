// Bench 5: publishing ports with the map ruleset of KERNEL-FACTS.md. The
// reference is the `nft` tool itself: one `nft -f` file with the table, its
// chains and N map elements (in a named namespace, through `ip netns exec`);
// one `nft add element` process per port spawned from Node, run directly in
// the bench's namespace (the target's reference) and through `ip netns exec`
// with the map empty and with 10,000 elements present.
// Targets: publishing 10,000 ports in one call no slower than `nft -f`;
// adding one port with 10,000 present ≤ 2× adding one with none; ≥ 100×
// faster than one nft process per port.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAddress } from '../src/address.js';
import { listPublishedPorts, publishPort, publishPorts, removeFirewall, unpublishPort, type PublishOptions } from '../src/firewall/index.js';
import { createBridge } from '../src/link-kinds/index.js';
import { portMap, portMapSpec } from '../src/firewall/layout.js';
import { Namespace } from '../src/namespace.js';
import { addElements } from '../src/nft/index.js';
import { addNetns, delNetns, execFileP } from './lib/proc.js';
import type { Bench, BenchResult } from './lib/report.js';
import { median, summarize, timeEach, usSince, type Summary } from './lib/stats.js';

export const N = 10_000;
export const PER_PROCESS = 50;
export const TABLE = 'nwbench';

/** Published port i: tcp . (10000 + i) → 172.18.(x).(y) . 5000, the container address 172.18.0.0 + 2 + i/… */
export function elementFor(i: number): { proto: 'tcp'; port: number; address: string; targetPort: number } {
  const v = (172 << 24) | (18 << 16) | (2 + (i % 60000));
  return { proto: 'tcp', port: 10000 + i, address: `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`, targetPort: 5000 };
}

const elementText = (i: number) => {
  const e = elementFor(i);
  return `${e.proto} . ${e.port} : ${e.address} . ${e.targetPort}`;
};

/** The ruleset of KERNEL-FACTS.md ("A publishing ruleset…") with n map elements, as an `nft -f` file. */
export function rulesetText(n: number): string {
  const lines = [
    `table ip ${TABLE} {`,
    '  map pub { type inet_proto . inet_service : ipv4_addr . inet_service; }',
    '  chain pre {',
    '    type nat hook prerouting priority dstnat;',
    '    fib daddr type local dnat ip to meta l4proto . th dport map @pub',
    '  }',
    '  chain out {',
    '    type nat hook output priority -100;',
    '    fib daddr type local dnat ip to meta l4proto . th dport map @pub',
    '  }',
    '  chain post {',
    '    type nat hook postrouting priority srcnat;',
    '    ip saddr 172.18.0.0/16 oifname != "br0" masquerade',
    '    ip saddr 127.0.0.0/8 oifname "br0" masquerade',
    '    ct status dnat ip saddr 172.18.0.0/16 oifname "br0" masquerade',
    '  }',
    '}',
  ];
  if (n > 0) {
    lines.push(`add element ip ${TABLE} pub {`);
    for (let i = 0; i < n; i++) lines.push(`  ${elementText(i)}${i < n - 1 ? ',' : ''}`);
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

const nft = (ns: string, ...args: string[]) => execFileP('ip', ['netns', 'exec', ns, 'nft', ...args], { maxBuffer: 64 << 20 });

/** `nft` spawned as is, in the namespace the bench runs in (the sandbox's): no `ip netns exec` on top. */
const plainNft = (...args: string[]) => execFileP('nft', args, { maxBuffer: 64 << 20 });

async function countElements(ns: string): Promise<number> {
  const { stdout } = await nft(ns, '-j', 'list', 'map', 'ip', TABLE, 'pub');
  const map = JSON.parse(stdout).nftables.find((o: any) => o.map)?.map;
  return map?.elem?.length ?? 0;
}

/** One `ip netns exec NS nft add element …` process per port, awaited; µs each. */
function addPerProcess(ns: string, n: number, first: number): Promise<number[]> {
  return timeEach(n, (i) => nft(ns, 'add', 'element', 'ip', TABLE, 'pub', `{ ${elementText(first + i)} }`));
}

/** Port i as publishPort takes it (the same element as elementFor / rulesetText). */
export function publishFor(i: number): PublishOptions {
  const e = elementFor(i);
  return { hostPort: e.port, protocol: e.proto, to: `${e.address}:${e.targetPort}` };
}

export const ONE_BY_ONE = 300;

/**
 * The netweave side, in a namespace with a bridge holding 172.18.0.1/16 (the
 * targets must lie in one of its networks): publishPorts with N ports into an
 * empty namespace (table, chains, maps and N elements in one transaction;
 * every port checked against one sock_diag dump of the namespace's
 * sockets), 3 times; then publishPort one at a time
 * with the map empty and with N present. Each publishPort is the whole call:
 * argument checks, the target checked against the namespace's addresses
 * (kept current by address events), a bind probe and the commit in one chain.
 */
async function netweaveSide() {
  const ns = await Namespace.create();
  try {
    await createBridge({ name: 'br0', ns, up: true });
    await addAddress('br0', '172.18.0.1/16', { ns });
    const all = Array.from({ length: N }, (_, i) => publishFor(i));
    // One unmeasured run first: the JIT's first pass over the encoders is not the steady cost.
    await publishPorts(all, { ns });
    await removeFirewall({ ns });
    const bulkUs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      await publishPorts(all, { ns });
      bulkUs.push(usSince(t0));
      const got = (await listPublishedPorts({ ns })).length;
      if (got !== N) throw new Error(`publishPorts left ${got} ports, expected ${N}`);
      await removeFirewall({ ns });
    }
    // One at a time, with the map empty (ns) and with N present (full),
    // alternating in blocks of 10 so that drift hits both alike.
    const full = await Namespace.create();
    let none: Summary;
    let present: Summary;
    try {
      await createBridge({ name: 'br0', ns: full, up: true });
      await addAddress('br0', '172.18.0.1/16', { ns: full });
      await publishPorts(all, { ns: full });
      await publishPort({ ...publishFor(N + 1000), ns }); // creates the table
      // Warm-up: publishPort's path run as often as the timed part will (then
      // unpublished), so that the timing is of the JIT-compiled path a running
      // service has, not of its first few hundred calls.
      const warm = Array.from({ length: ONE_BY_ONE }, (_, i) => publishFor(N + 20_000 + i));
      for (const p of warm) await publishPort({ ...p, ns });
      for (const p of warm) await unpublishPort({ hostPort: p.hostPort!, protocol: p.protocol!, ns });
      const noneUs: number[] = [];
      const presentUs: number[] = [];
      let next = N + 2000;
      for (let b = 0; b < ONE_BY_ONE / 10; b++) {
        noneUs.push(...(await timeEach(10, () => publishPort({ ...publishFor(next++), ns }))));
        presentUs.push(...(await timeEach(10, () => publishPort({ ...publishFor(next++), ns: full }))));
      }
      none = summarize(noneUs);
      present = summarize(presentUs);
      const inFull = (await listPublishedPorts({ ns: full })).length;
      if (inFull !== N + ONE_BY_ONE) throw new Error(`full map has ${inFull} ports, expected ${N + ONE_BY_ONE}`);
    } finally {
      await full.delete();
    }
    // For scale: the same element added with no checks at all (the kernel round trip publishPort ends with).
    const map = portMapSpec(portMap(4, false));
    const bare = summarize(
      await timeEach(ONE_BY_ONE, (i) => {
        const e = elementFor(N + 5000 + i);
        return addElements(map, [{ key: [e.proto, e.port], data: [e.address, e.targetPort] }], { ns });
      }),
    );
    const got = (await listPublishedPorts({ ns })).length;
    if (got !== 1 + 2 * ONE_BY_ONE) throw new Error(`map has ${got} ports, expected ${1 + 2 * ONE_BY_ONE}`);
    return { bulkUs, none, present, bare };
  } finally {
    await ns.delete();
  }
}

const bench: Bench = {
  name: 'nft',
  description: `port publishing map: ${N.toLocaleString('en')} ports via publishPorts vs nft -f; publishPort one at a time vs one nft process per port (${PER_PROCESS}), empty map and ${N.toLocaleString('en')} present`,
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'nwb-nft-'));
    const ns = addNetns('nft');
    try {
      const full = join(dir, 'full.nft');
      const empty = join(dir, 'empty.nft');
      writeFileSync(full, rulesetText(N));
      writeFileSync(empty, rulesetText(0));

      // nft -f with N elements into an empty namespace, 3 times.
      const loadUs: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = process.hrtime.bigint();
        await nft(ns, '-f', full);
        loadUs.push(usSince(t0));
        const got = await countElements(ns);
        if (got !== N) throw new Error(`nft -f loaded ${got} elements, expected ${N}`);
        await nft(ns, 'delete', 'table', 'ip', TABLE);
      }

      await nft(ns, '-f', empty);
      await addPerProcess(ns, 2, N + 100); // warm-up
      const none = summarize(await addPerProcess(ns, PER_PROCESS, N));
      await nft(ns, 'delete', 'table', 'ip', TABLE);

      await nft(ns, '-f', full);
      const present = summarize(await addPerProcess(ns, PER_PROCESS, N));
      // The same, with nft run directly where the bench runs (the sandbox namespace).
      await plainNft('-f', empty);
      let plain: Summary;
      try {
        await timeEach(2, (i) => plainNft('add', 'element', 'ip', TABLE, 'pub', `{ ${elementText(N + 200 + i)} }`));
        plain = summarize(await timeEach(PER_PROCESS, (i) => plainNft('add', 'element', 'ip', TABLE, 'pub', `{ ${elementText(N + 300 + i)} }`)));
      } finally {
        await plainNft('delete', 'table', 'ip', TABLE);
      }
      const got = await countElements(ns);
      if (got !== N + PER_PROCESS) throw new Error(`map has ${got} elements, expected ${N + PER_PROCESS}`);

      const nw = await netweaveSide();
      const loadMs = median(loadUs) / 1000;
      return {
        rows: [
          {
            metric: `publish ${N.toLocaleString('en')} ports in one call`,
            unit: 'ms',
            netweave: median(nw.bulkUs) / 1000,
            reference: loadMs,
            referenceName: 'nft -f',
            target: { kind: 'max-ratio', value: 1, text: 'no slower than nft -f' },
            note:
              `nft -f: table + 3 chains + ${N.toLocaleString('en')} elements, median of 3 (${(median(loadUs) / N).toFixed(1)} µs/element); ` +
              `netweave: publishPorts into an empty namespace (table, 4 chains, 5 maps, ${N.toLocaleString('en')} elements in one transaction, ports checked against the published ones and one sock_diag dump of the namespace\'s sockets, targets against its networks), median of 3 after one unmeasured run`,
          },
          {
            metric: `add one port, ${N.toLocaleString('en')} present vs none`,
            unit: 'ms/op',
            netweave: nw.present.median / 1000,
            reference: nw.none.median / 1000,
            referenceName: 'netweave, empty map',
            target: { kind: 'max-ratio', value: 2, text: '≤ 2× with none' },
          },
          {
            metric: 'add one port vs one nft process per port (median)',
            unit: 'ms/op',
            netweave: nw.none.median / 1000,
            reference: plain.median / 1000,
            referenceName: 'nft process',
            target: { kind: 'min-speedup', value: 100, text: '≥ 100× faster' },
            note: `nft spawned from Node (execFile) in the namespace the bench runs in, table with the map present; netweave: publishPort awaited, ${ONE_BY_ONE} ports (checks; the bind probe and the commit in one engine chain each), alternating in blocks of 10 with the row above`,
          },
          {
            metric: 'add one port vs one nft process per port through ip netns exec (median)',
            unit: 'ms/op',
            netweave: nw.none.median / 1000,
            reference: none.median / 1000,
            referenceName: 'ip netns exec nft',
            note: 'how a tool reaches another namespace from outside it: `ip netns exec` adds its own exec and mount setup',
          },
          { metric: `ip netns exec nft per port, ${N.toLocaleString('en')} present (median)`, unit: 'ms/op', reference: present.median / 1000, referenceName: 'ip netns exec nft' },
          { metric: `publishPort, ${N.toLocaleString('en')} present (p90)`, unit: 'ms/op', netweave: nw.present.p90 / 1000 },
          { metric: 'publishPort, empty map (p90)', unit: 'ms/op', netweave: nw.none.p90 / 1000 },
          {
            metric: 'bare element add, no checks (median)',
            unit: 'ms/op',
            netweave: nw.bare.median / 1000,
            reference: plain.median / 1000,
            referenceName: 'nft process',
            note: 'addElements alone: what publishPort costs without its checks (argument and clash checks, the address view, the bind probe that runs before the commit in the same engine pass)',
          },
        ],
        raw: { nftLoadUs: loadUs, perProcessPlainUs: plain, perProcessEmptyUs: none, perProcessPresentUs: present, netweave: nw },
      };
    } finally {
      delNetns(ns);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
