// nftables over netlink against the real kernel, with `nft -j` (run inside
// each test's own namespace) as the oracle for what the kernel holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../src/errors.js';
import type { Namespace } from '../src/namespace.js';
import {
  accept,
  addChain,
  addElements,
  addRule,
  addSet,
  addTable,
  concat,
  counter,
  ct,
  deleteElements,
  deleteRule,
  deleteTable,
  dnat,
  drop,
  fib,
  getChain,
  getRule,
  getSet,
  getTable,
  ip,
  ip6,
  jump,
  listChains,
  listElements,
  listRules,
  listSets,
  listTables,
  masquerade,
  meta,
  tcp,
  th,
  transaction,
  udp,
  type Expr,
} from '../src/nft/index.js';
import { NsScope } from './helpers.js';
import { nftJson, nftScript, ruleExprs, withoutHandles } from './nft-oracle.js';

const scope = new NsScope();
afterAll(() => scope.cleanup());

// The publishing ruleset of KERNEL-FACTS.md, as nft text: the reference.
const PUBLISH_NFT = `
table ip T {
  map pub { type inet_proto . inet_service : ipv4_addr . inet_service; }
  chain pre { type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local dnat ip to meta l4proto . th dport map @pub
  }
  chain out { type nat hook output priority -100; policy accept;
    fib daddr type local dnat ip to meta l4proto . th dport map @pub
  }
  chain post { type nat hook postrouting priority srcnat; policy accept;
    ip saddr 172.18.0.0/16 oifname != "br0" masquerade
    ip saddr 127.0.0.0/8 oifname "br0" masquerade
    ct status dnat ip saddr 172.18.0.0/16 oifname "br0" masquerade
  }
}
add element ip T pub { tcp . 8080 : 172.18.0.10 . 5000, udp . 53 : 172.18.0.11 . 5353 }
`;

/** The same ruleset through this library: one transaction. */
function publishTransaction() {
  const family = 'ip' as const;
  const table = 'T';
  const toPub = [fib.daddr.type.eq('local'), dnat({ map: { key: concat(meta.l4proto, th.dport), name: 'pub', withPort: true } })];
  return transaction()
    .addTable({ family, name: table })
    .addSet({
      family,
      table,
      name: 'pub',
      key: ['inet_proto', 'inet_service'],
      data: ['ipv4_addr', 'inet_service'],
      elements: [
        { key: ['tcp', 8080], data: ['172.18.0.10', 5000] },
        { key: ['udp', 53], data: ['172.18.0.11', 5353] },
      ],
    })
    .addChain({ family, table, name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' })
    .addChain({ family, table, name: 'out', type: 'nat', hook: 'output', priority: -100, policy: 'accept' })
    .addChain({ family, table, name: 'post', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' })
    .addRule({ family, table, chain: 'pre', exprs: toPub })
    .addRule({ family, table, chain: 'out', exprs: toPub })
    .addRule({ family, table, chain: 'post', exprs: [ip.saddr.eq('172.18.0.0/16'), meta.oifname.neq('br0'), masquerade()] })
    .addRule({ family, table, chain: 'post', exprs: [ip.saddr.eq('127.0.0.0/8'), meta.oifname.eq('br0'), masquerade()] })
    .addRule({ family, table, chain: 'post', exprs: [ct.status.has('dnat'), ip.saddr.eq('172.18.0.0/16'), meta.oifname.eq('br0'), masquerade()] });
}

describe('the publishing ruleset (KERNEL-FACTS.md)', () => {
  let mine: Namespace;
  let ref: Namespace;
  beforeAll(async () => {
    mine = await scope.create('nfp');
    ref = await scope.create('nfr');
    nftScript(ref, PUBLISH_NFT);
  });

  it('built over netlink, nft -j lists exactly what nft -f makes of the text', async () => {
    await publishTransaction().commit({ ns: mine });
    const got = withoutHandles(nftJson(mine, 'list', 'ruleset'));
    const want = withoutHandles(nftJson(ref, 'list', 'ruleset'));
    expect(got).toEqual(want);
    // And it is the intended rule, spelled out.
    expect(ruleExprs(got, 'pre')[0]).toEqual([
      { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } },
      {
        dnat: {
          family: 'ip',
          addr: { map: { key: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] }, data: '@pub' } },
        },
      },
    ]);
  });

  it('reads back over netlink as the expressions it was built from', async () => {
    const rules = await listRules({ ns: mine, family: 'ip', table: 'T', chain: 'post' });
    expect(rules).toHaveLength(3);
    const third: Expr[] = rules[2].exprs;
    expect(third).toEqual([
      { type: 'ct', key: 'status', dreg: 1 },
      { type: 'bitwise', sreg: 1, dreg: 1, len: 4, op: 'mask_xor', mask: Buffer.from([0x20, 0, 0, 0]), xor: Buffer.alloc(4) },
      { type: 'cmp', sreg: 1, op: 'neq', data: Buffer.alloc(4) },
      { type: 'payload', base: 'network', offset: 12, len: 2, dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([172, 18]) },
      { type: 'meta', key: 'oifname', dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from('br0\0\0\0\0\0\0\0\0\0\0\0\0\0') },
      { type: 'masq' },
    ]);
  });

  it('decodes what nft -f wrote into the same typed expressions', async () => {
    const theirs = await listRules({ ns: ref, family: 'ip', table: 'T' });
    const ours = await listRules({ ns: mine, family: 'ip', table: 'T' });
    expect(theirs.map((r) => [r.chain, r.exprs])).toEqual(ours.map((r) => [r.chain, r.exprs]));
    expect(theirs.every((r) => r.exprs.every((e) => e.type !== 'unknown'))).toBe(true);
  });

  it('lists the map with its typed elements', async () => {
    const sets = await listSets({ ns: mine, family: 'ip', table: 'T' });
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({ name: 'pub', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'], flags: ['map'] });
    const els = await listElements(sets[0], { ns: mine });
    expect(els.sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual([
      { key: ['tcp', 8080], data: ['172.18.0.10', 5000] },
      { key: ['udp', 53], data: ['172.18.0.11', 5353] },
    ]);
    // nft -f's map reads the same
    expect(await listElements({ family: 'ip', table: 'T', name: 'pub' }, { ns: ref })).toHaveLength(2);
  });
});
