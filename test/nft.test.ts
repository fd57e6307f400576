// nftables over netlink against the real kernel, with `nft -j` (run inside
// each test's own namespace) as the oracle for what the kernel holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Namespace } from '../src/namespace.js';
import {
  accept,
  concat,
  counter,
  ct,
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
  goto,
  limit,
  log,
  notrack,
  redirect,
  reject,
  snat,
  updateSet,
  addToSet,
  verdict,
  buildExprs,
  sameExprs,
  listRuleset,
  getGeneration,
  type Expr,
  type RuleItem,
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

// Every builder construct next to the nft text it stands for.
const EVERYTHING_NFT = `
table inet F {
  set nets { type ipv4_addr; flags interval; comment "nets!"; elements = { 10.0.0.0/8, 192.168.1.1-192.168.1.9 }; }
  set pairs { type ipv4_addr . inet_service; flags interval; elements = { 10.0.0.0/8 . 80-90 }; }
  map vm { type ifname : verdict; elements = { "eth0" : accept, "br0" : jump other }; }
  set marks { type mark; elements = { 0x10 comment "m", 0x20 }; }
  set dyn { type ipv4_addr; flags dynamic,timeout; timeout 1m; }
  chain other { comment "a regular chain"; }
  chain filt { type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state invalid drop
    ip saddr @nets counter accept
    ip saddr . tcp dport @pairs accept
    iifname vmap @vm
    tcp dport 22 ip6 saddr fe80::/10 accept
    meta mark 0x10 jump other
    meta mark @marks goto other
    udp dport 53 log prefix "dns " reject
    iifname "veth*" return
    tcp dport 80 limit rate 10/second accept
    update @dyn { ip saddr }
    ip daddr 10.0.0.0/20 drop comment "not that one"
    tcp dport 1000-2000 drop
    meta l4proto tcp reject with tcp reset
    th dport != 8080 meta nfproto ipv6 notrack
    ip saddr != @nets drop
    meta mark set 0x10
    ct mark set 0x1
    tcp dport != 1000-2000 accept
    log group 2 prefix "g"
    limit rate over 10/minute drop
    add @dyn { ip saddr timeout 30s }
  }
  chain prer { type nat hook prerouting priority dstnat; policy accept;
    tcp dport 80 redirect to :8080
    ip daddr 1.2.3.4 tcp dport 81 dnat ip to 10.0.0.2:8080
    ip6 daddr ::1 tcp dport 80 dnat ip6 to [fd00::2]:80
    ip daddr 1.2.3.5 dnat ip to 10.0.0.2-10.0.0.5
    udp dport 53 redirect to :5353-5354
  }
  chain postr { type nat hook postrouting priority srcnat; policy accept;
    oifname "eth0" snat ip to 192.168.1.1
    oifname "eth1" meta l4proto tcp masquerade to :1024-2000 random,persistent
  }
}
`;

/** Every rule the builder wrote, in order: [chain, items]. */
const everythingRules: [string, RuleItem[]][] = [];

function everythingTransaction() {
  const family = 'inet' as const;
  const table = 'F';
  const rule = (chain: string, exprs: RuleItem[], comment?: string) => {
    everythingRules.push([chain, exprs]);
    return { family, table, chain, exprs, ...(comment ? { comment } : {}) };
  };
  return transaction()
    .addTable({ family, name: table })
    // The verdict map's jump needs its target first (nft -f orders this itself).
    .addChain({ family, table, name: 'other', comment: 'a regular chain' })
    .addSet({ family, table, name: 'nets', key: 'ipv4_addr', flags: ['interval'], comment: 'nets!', elements: [{ key: '10.0.0.0/8' }, { key: '192.168.1.1', keyEnd: '192.168.1.9' }] })
    .addSet({ family, table, name: 'pairs', key: ['ipv4_addr', 'inet_service'], flags: ['interval'], elements: [{ key: ['10.0.0.0/8', 80], keyEnd: ['10.255.255.255', 90] }] })
    .addSet({ family, table, name: 'vm', key: 'ifname', data: 'verdict', elements: [{ key: 'eth0', data: { code: 'accept' } }, { key: 'br0', data: { code: 'jump', chain: 'other' } }] })
    .addSet({ family, table, name: 'marks', key: 'mark', elements: [{ key: 0x10, comment: 'm' }, { key: 0x20 }] })
    .addSet({ family, table, name: 'dyn', key: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: 60_000 })
    .addChain({ family, table, name: 'filt', type: 'filter', hook: 'forward', priority: 'filter', policy: 'drop' })
    .addRule(rule('filt', [ct.state.has('established', 'related'), accept()]))
    .addRule(rule('filt', [ct.state.has('invalid'), drop()]))
    .addRule(rule('filt', [ip.saddr.in('nets'), counter(), accept()]))
    .addRule(rule('filt', [concat(ip.saddr, tcp.dport).in('pairs'), accept()]))
    .addRule(rule('filt', [meta.iifname.vmap('vm')]))
    .addRule(rule('filt', [tcp.dport.eq(22), ip6.saddr.eq('fe80::/10'), accept()]))
    .addRule(rule('filt', [meta.mark.eq(0x10), jump('other')]))
    .addRule(rule('filt', [meta.mark.in('marks'), goto('other')]))
    .addRule(rule('filt', [udp.dport.eq(53), log({ prefix: 'dns ' }), reject()]))
    .addRule(rule('filt', [meta.iifname.eq('veth*'), verdict.return()]))
    .addRule(rule('filt', [tcp.dport.eq(80), limit({ rate: 10, per: 'second' }), accept()]))
    .addRule(rule('filt', [updateSet('dyn', ip.saddr)]))
    .addRule(rule('filt', [ip.daddr.eq('10.0.0.0/20'), drop()], 'not that one'))
    .addRule(rule('filt', [tcp.dport.range(1000, 2000), drop()]))
    .addRule(rule('filt', [meta.l4proto.eq('tcp'), reject({ with: 'tcp reset' })]))
    .addRule(rule('filt', [th.dport.neq(8080), meta.nfproto.eq('ipv6'), notrack()]))
    .addRule(rule('filt', [ip.saddr.notIn('nets'), drop()]))
    .addRule(rule('filt', [meta.mark.set(0x10)]))
    .addRule(rule('filt', [ct.mark.set(1)]))
    .addRule(rule('filt', [tcp.dport.notRange(1000, 2000), accept()]))
    .addRule(rule('filt', [log({ group: 2, prefix: 'g' })]))
    .addRule(rule('filt', [limit({ rate: 10, per: 'minute', over: true }), drop()]))
    .addRule(rule('filt', [addToSet('dyn', ip.saddr, { timeout: 30_000 })]))
    .addChain({ family, table, name: 'prer', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' })
    .addRule(rule('prer', [tcp.dport.eq(80), redirect({ port: 8080 })]))
    .addRule(rule('prer', [ip.daddr.eq('1.2.3.4'), tcp.dport.eq(81), dnat({ family: 'ip', addr: '10.0.0.2', port: 8080 })]))
    .addRule(rule('prer', [ip6.daddr.eq('::1'), tcp.dport.eq(80), dnat({ family: 'ip6', addr: 'fd00::2', port: 80 })]))
    .addRule(rule('prer', [ip.daddr.eq('1.2.3.5'), dnat({ family: 'ip', addr: ['10.0.0.2', '10.0.0.5'] })]))
    .addRule(rule('prer', [udp.dport.eq(53), redirect({ port: [5353, 5354] })]))
    .addChain({ family, table, name: 'postr', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' })
    .addRule(rule('postr', [meta.oifname.eq('eth0'), snat({ family: 'ip', addr: '192.168.1.1' })]))
    .addRule(rule('postr', [meta.oifname.eq('eth1'), meta.l4proto.eq('tcp'), masquerade({ port: [1024, 2000], random: true, persistent: true })]));
}

describe('every builder construct', () => {
  let mine: Namespace;
  let ref: Namespace;
  beforeAll(async () => {
    mine = await scope.create('nfe');
    ref = await scope.create('nfq');
    nftScript(ref, EVERYTHING_NFT);
    await everythingTransaction().commit({ ns: mine });
  });

  it('lists in nft -j exactly like the nft text', () => {
    const got = withoutHandles(nftJson(mine, 'list', 'ruleset'));
    const want = withoutHandles(nftJson(ref, 'list', 'ruleset'));
    // Rule by rule first, for a readable failure.
    expect(ruleExprs(got)).toEqual(ruleExprs(want));
    expect(got).toEqual(want);
  });

  it('reads rules written by nft -f as the builder’s expressions, none unknown', async () => {
    const theirs = await listRules({ ns: ref, family: 'inet', table: 'F' });
    const ours = await listRules({ ns: mine, family: 'inet', table: 'F' });
    expect(theirs.length).toBe(ours.length);
    for (let i = 0; i < ours.length; i++) {
      expect(theirs[i].exprs.filter((e) => e.type === 'unknown')).toEqual([]);
      expect({ chain: theirs[i].chain, comment: theirs[i].comment, exprs: theirs[i].exprs }).toEqual({ chain: ours[i].chain, comment: ours[i].comment, exprs: ours[i].exprs });
    }
  });

  it('reads every rule back as what was built (kernel-completed defaults aside); a changed rule differs', async () => {
    const back = await listRules({ ns: mine, family: 'inet', table: 'F' });
    expect(back).toHaveLength(everythingRules.length);
    back.forEach((r, i) => {
      const [chain, items] = everythingRules[i];
      expect(r.chain).toBe(chain);
      const written = buildExprs('inet', items);
      expect(sameExprs(written, r.exprs), `rule ${i} in ${chain}`).toBe(true);
    });
    // Something an operator would notice differs: another port, another verdict.
    expect(sameExprs(buildExprs('inet', [tcp.dport.eq(81), accept()]), buildExprs('inet', [tcp.dport.eq(80), accept()]))).toBe(false);
    expect(sameExprs(back[0].exprs, [...back[0].exprs.slice(0, -1), drop()])).toBe(false);
    // The kernel completes nat: ranges of one and the implied flags.
    const dnatBack = back.find((r) => r.exprs.some((e) => e.type === 'nat' && e.family === 'ip'))!;
    expect(dnatBack.exprs.find((e) => e.type === 'nat')).toMatchObject({ regAddrMax: 1, regProtoMax: 2, flags: ['map_ips', 'proto_specified'] });
  });

  it('reads elements of every set kind back typed, from either writer', async () => {
    for (const ns of [mine, ref]) {
      const sets = Object.fromEntries((await listSets({ ns, family: 'inet', table: 'F' })).map((s) => [s.name, s]));
      expect(sets.nets).toMatchObject({ key: 'ipv4_addr', flags: ['interval'], comment: 'nets!' });
      expect(sets.pairs).toMatchObject({ key: ['ipv4_addr', 'inet_service'], flags: ['interval', 'concat'] });
      expect(sets.vm).toMatchObject({ key: 'ifname', data: 'verdict', flags: ['map'] });
      expect(sets.dyn).toMatchObject({ flags: ['timeout', 'dynamic'], timeout: 60_000 });
      expect(await listElements(sets.nets, { ns })).toEqual([{ key: '10.0.0.0', keyEnd: '10.255.255.255' }, { key: '192.168.1.1', keyEnd: '192.168.1.9' }]);
      expect(await listElements(sets.pairs, { ns })).toEqual([{ key: ['10.0.0.0', 80], keyEnd: ['10.255.255.255', 90] }]);
      const vm = await listElements(sets.vm, { ns });
      expect(vm.sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual([
        { key: 'br0', data: { code: 'jump', chain: 'other' } },
        { key: 'eth0', data: { code: 'accept' } },
      ]);
      const marks = await listElements(sets.marks, { ns });
      expect(marks.sort((a, b) => (a.key as number) - (b.key as number))).toEqual([{ key: 0x10, comment: 'm' }, { key: 0x20 }]);
    }
  });

  it('lists the whole ruleset as one consistent snapshot', async () => {
    const r = await listRuleset({ ns: mine, elements: true });
    expect(r.generation).toBe(await getGeneration({ ns: mine }));
    expect(r.tables.map((t) => t.name)).toEqual(['F']);
    expect(r.chains.map((c) => c.name)).toEqual(['other', 'filt', 'prer', 'postr']);
    expect(r.rules).toHaveLength(everythingRules.length);
    expect(r.sets.map((s) => [s.name, s.elements?.length])).toEqual([
      ['nets', 2],
      ['pairs', 1],
      ['vm', 2],
      ['marks', 2],
      ['dyn', 0],
    ]);
  });

  it('gets single objects by name and handle', async () => {
    const t = await getTable({ family: 'inet', name: 'F' }, { ns: mine });
    expect(t).toMatchObject({ family: 'inet', name: 'F', flags: [] });
    expect(t.handle).toBeGreaterThan(0);
    const c = await getChain({ family: 'inet', table: 'F', name: 'filt' }, { ns: mine });
    expect(c).toMatchObject({ type: 'filter', hook: 'forward', priority: 0, policy: 'drop', flags: ['base'] });
    const other = await getChain({ family: 'inet', table: 'F', name: 'other' }, { ns: mine });
    expect(other).toMatchObject({ comment: 'a regular chain', flags: [] });
    expect(other.hook).toBeUndefined();
    const s = await getSet({ family: 'inet', table: 'F', name: 'pairs' }, { ns: mine });
    expect(s.keyLen).toBe(8);
    const rules = await listRules({ ns: mine, family: 'inet', table: 'F', chain: 'filt' });
    const r = await getRule({ family: 'inet', table: 'F', chain: 'filt', handle: rules[12].handle }, { ns: mine });
    expect(r.comment).toBe('not that one');
    expect(r.exprs).toEqual(rules[12].exprs);
    expect(await listChains({ ns: mine, family: 'inet', table: 'F' })).toHaveLength(4);
    expect((await listTables({ ns: mine })).map((x) => x.name)).toEqual(['F']);
  });
});
