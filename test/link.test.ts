// Links against the real kernel, each test in namespaces of its own. Every
// effect is read back over netlink and cross-checked with `ip -j -d link`
// both ways: what netweave makes, ip reads the same; what ip makes, netweave
// decodes the same.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ipJson, ipRun, kernelHasLinkKind, NsScope, possibleCpus, uniqueName, whileSteady } from './helpers.js';
import { NetlinkError } from '../src/errors.js';
import {
  createInParentThenMove,
  createLink,
  deleteLink,
  deleteLinkGroup,
  findLink,
  getLink,
  isLinkKind,
  listLinks,
  setLink,
  setLinkAlias,
  setLinkDown,
  setLinkGroup,
  setLinkMac,
  setLinkMtu,
  setLinkName,
  setLinkNamespace,
  setLinkUp,
  type Link,
} from '../src/link.js';
import {
  attachToBridge,
  createBridge,
  createDummy,
  createIpvlan,
  createMacvlan,
  createTuntap,
  createVethPair,
  createVlan,
  createVxlan,
  detachFromBridge,
  listBridgePorts,
} from '../src/link-kinds/index.js';
import { native } from '../src/native.js';
import type { Namespace } from '../src/namespace.js';

const scope = new NsScope();
afterAll(() => scope.cleanup());

const has = {
  dummy: kernelHasLinkKind('dummy'),
  vlan: kernelHasLinkKind('vlan'),
  ipvlan: kernelHasLinkKind('ipvlan'),
};
for (const [kind, ok] of Object.entries(has)) {
  if (!ok) console.log(`link.test: this kernel lacks the "${kind}" link kind: its create test is skipped, its EOPNOTSUPP test runs`);
}

/** Bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING), probed with ip in a throw-away namespace. */
function kernelHasBridgeVlanFiltering(): boolean {
  const probe = uniqueName('probe');
  execFileSync('ip', ['netns', 'add', probe]);
  try {
    execFileSync('ip', ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge', 'vlan_filtering', '1'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('ip', ['netns', 'del', probe]);
  }
}
const hasVlanFiltering = kernelHasBridgeVlanFiltering();
if (!hasVlanFiltering) console.log('link.test: this kernel has no bridge VLAN filtering (EOPNOTSUPP): the vlanFiltering test is skipped');

/** ip's view of one link: `ip -n <ns> -j -d link show dev <name>`. */
function ipLink(ns: Namespace, name: string): any {
  const [e] = ipJson(ns, 'link', 'show', 'dev', name);
  return e;
}

function names(links: Link[]): string[] {
  return links.map((l) => l.name).sort();
}

/** What ip prints for a link, derived from netweave's decode: the fields both know. */
function asIpSees(l: Link, all: Link[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ifindex: l.index,
    ifname: l.name,
    mtu: l.mtu,
    operstate: typeof l.operstate === 'string' ? l.operstate.toUpperCase() : l.operstate,
    group: l.group === 0 ? 'default' : String(l.group),
    txqlen: l.txqlen,
    address: l.mac,
    broadcast: l.broadcast,
    promiscuity: l.promiscuity,
    min_mtu: l.minMtu,
    max_mtu: l.maxMtu,
    num_tx_queues: l.numTxQueues,
    up: l.flags.up,
  };
  if (l.master !== undefined) out.master = all.find((m) => m.index === l.master)?.name;
  if (l.alias !== undefined) out.ifalias = l.alias;
  if (l.linkNetnsId !== undefined) out.link_netnsid = l.linkNetnsId;
  if (l.kind !== undefined) out.info_kind = l.kind;
  if (l.portKind !== undefined) out.info_slave_kind = l.portKind;
  return out;
}

function ipFields(e: any): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ifindex: e.ifindex,
    ifname: e.ifname,
    mtu: e.mtu,
    operstate: e.operstate,
    group: e.group,
    txqlen: e.txqlen,
    address: e.address,
    broadcast: e.broadcast,
    promiscuity: e.promiscuity,
    min_mtu: e.min_mtu,
    max_mtu: e.max_mtu,
    num_tx_queues: e.num_tx_queues,
    up: e.flags.includes('UP'),
  };
  if (e.master !== undefined) out.master = e.master;
  if (e.ifalias !== undefined) out.ifalias = e.ifalias;
  if (e.link_netnsid !== undefined) out.link_netnsid = e.link_netnsid;
  if (e.linkinfo?.info_kind !== undefined) out.info_kind = e.linkinfo.info_kind;
  if (e.linkinfo?.info_slave_kind !== undefined) out.info_slave_kind = e.linkinfo.info_slave_kind;
  return out;
}

/** Every link of a namespace, netweave's decode against ip's, field by field. */
async function expectSameAsIp(ns: Namespace): Promise<Link[]> {
  // Operational states move on their own (linkwatch runs a moment after a link comes up).
  const { ours: mine, oracle: theirs } = await whileSteady(
    () => listLinks({ ns }),
    () => ipJson(ns, 'link', 'show') as any[],
  );
  expect(names(mine)).toEqual(theirs.map((e) => e.ifname).sort());
  for (const e of theirs) {
    const l = mine.find((m) => m.index === e.ifindex)!;
    expect(asIpSees(l, mine), `link ${e.ifname}`).toEqual(ipFields(e));
  }
  return mine;
}

/** Counts requests the engine sent while fn ran (0 proves validation ran before any syscall). */
async function requestsDuring(fn: () => Promise<unknown>): Promise<number> {
  const before = native.stats().requests;
  await fn().catch(() => {});
  return native.stats().requests - before;
}

describe('veth pairs', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('lv');
  });

  it('creates a pair in one request; the kernel and ip agree on both ends', async () => {
    const before = native.stats().requests;
    const pair = await createVethPair({ name: 'va0', peer: { name: 'vb0' }, mtu: 1400, mac: '02:11:22:33:44:55', peerMac: '02:11:22:33:44:66', ns });
    expect(native.stats().requests - before).toBe(1);
    expect(pair.link).toMatchObject({ name: 'va0', kind: 'veth', mtu: 1400, mac: '02:11:22:33:44:55' });
    expect(isLinkKind(pair.link, 'veth')).toBe(true);
    const peer = await getLink('vb0', { ns });
    expect(pair.peer).toMatchObject({ name: 'vb0', index: peer.index });
    expect(peer).toMatchObject({ kind: 'veth', mtu: 1400, mac: '02:11:22:33:44:66', link: pair.link.index });
    expect(pair.link.link).toBe(peer.index);
    const e = ipLink(ns, 'va0');
    expect(e).toMatchObject({ ifname: 'va0', mtu: 1400, address: '02:11:22:33:44:55', link: 'vb0', linkinfo: { info_kind: 'veth' } });
    expect(ipLink(ns, 'vb0')).toMatchObject({ mtu: 1400, address: '02:11:22:33:44:66', link: 'va0' });
    await expectSameAsIp(ns);
  });

  it('gives both ends the queues asked for; unasked, the kernel\'s own default (one per possible CPU for a veth)', async () => {
    const pair = await createVethPair({ name: 'vq0', peer: { name: 'vq1' }, txQueues: 1, rxQueues: 3, ns });
    expect(pair.link).toMatchObject({ numTxQueues: 1, numRxQueues: 3 });
    expect(await getLink('vq1', { ns })).toMatchObject({ numTxQueues: 1, numRxQueues: 3 });
    for (const end of ['vq0', 'vq1']) expect(ipJson(ns, '-d', 'link', 'show', 'dev', end)[0]).toMatchObject({ num_tx_queues: 1, num_rx_queues: 3 });
    // What `ip link add … type veth` gets: the same as leaving the options out here.
    ipRun(ns, 'link', 'add', 'vq2', 'type', 'veth', 'peer', 'name', 'vq3');
    const plain = await createVethPair({ name: 'vq4', peer: { name: 'vq5' }, ns });
    const ipDefault = ipJson(ns, '-d', 'link', 'show', 'dev', 'vq2')[0];
    expect(plain.link).toMatchObject({ numTxQueues: ipDefault.num_tx_queues, numRxQueues: ipDefault.num_rx_queues });
    expect(ipDefault.num_tx_queues).toBe(possibleCpus());
    for (const [k, v] of [['txQueues', 0], ['rxQueues', 4097], ['txQueues', 1.5], ['rxQueues', '2']] as const) {
      const err = await createVethPair({ name: 'vq6', peer: { name: 'vq7' }, [k]: v, ns } as never).catch((e) => e);
      expect(err, `${k} ${v}`).toBeInstanceOf(RangeError);
      expect(err.message).toMatch(new RegExp(`^${k} must be an integer in 1..4096`));
    }
    expect(names(await listLinks({ ns })).filter((n) => n.startsWith('vq6') || n.startsWith('vq7'))).toEqual([]);
  });

  it('gives the peer its final name inside another namespace, beside an eth0 of its own; up brings both ends up', async () => {
    const host = await scope.create('lh');
    const ctr = await scope.create('lc');
    ipRun(host, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other');
    const hostEth0 = await getLink('eth0', { ns: host });

    const pair = await createVethPair({ name: 'veth1', peer: { name: 'eth0', ns: ctr }, ns: host, up: true });
    expect(pair.peer.ns).toBe(ctr);
    const inside = await getLink('eth0', { ns: ctr });
    expect(inside).toMatchObject({ kind: 'veth', index: pair.peer.index, link: pair.link.index });
    expect(inside.linkNetnsId).toEqual(expect.any(Number));
    expect(inside.flags.up).toBe(true);
    expect((await getLink('veth1', { ns: host })).flags.up).toBe(true);
    // The host's own eth0 is untouched.
    expect(await getLink('eth0', { ns: host })).toMatchObject({ index: hostEth0.index, link: hostEth0.link });
    expect(ipLink(ctr, 'eth0')).toMatchObject({ ifname: 'eth0', ifindex: inside.index, link_index: pair.link.index, flags: expect.arrayContaining(['UP']) });
    expect(ipLink(host, 'veth1').flags).toContain('UP');
    await expectSameAsIp(host);
    await expectSameAsIp(ctr);
  });

  it('leaves nothing behind when the kernel refuses the pair (peer name taken in its namespace)', async () => {
    const host = await scope.create('lh');
    const ctr = await scope.create('lc');
    ipRun(ctr, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'x0');
    const hostBefore = names(await listLinks({ ns: host }));
    const ctrBefore = names(await listLinks({ ns: ctr }));
    const err = await createVethPair({ name: 'veth2', peer: { name: 'eth0', ns: ctr }, ns: host, up: true }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'EEXIST', operation: 'createVethPair', subject: 'veth2 (peer eth0)' });
    expect(names(await listLinks({ ns: host }))).toEqual(hostBefore);
    expect(names(await listLinks({ ns: ctr }))).toEqual(ctrBefore);
    expect(ipJson(host, 'link', 'show').map((e: any) => e.ifname).sort()).toEqual(hostBefore);
  });

  it('leaves nothing behind when the master does not exist', async () => {
    const before = names(await listLinks({ ns }));
    const err = await createVethPair({ name: 'va9', peer: { name: 'vb9' }, master: 'nosuchbr', ns }).catch((e) => e);
    expect(err).toMatchObject({ code: 'ENODEV', operation: 'createVethPair', subject: 'nosuchbr' });
    const err2 = await createVethPair({ name: 'va9', peer: { name: 'vb9' }, master: 0x7ffffff0, ns }).catch((e) => e);
    expect(err2).toBeInstanceOf(NetlinkError);
    expect(names(await listLinks({ ns }))).toEqual(before);
  });

  it('up in the same namespace: the link in the create request, the peer right after by index', async () => {
    const before = native.stats().requests;
    const pair = await createVethPair({ name: 'va4', peer: { name: 'vb4' }, up: true, ns });
    expect(native.stats().requests - before).toBe(2);
    expect(pair.link.flags.up).toBe(true);
    const peer = await getLink('vb4', { ns });
    expect(peer).toMatchObject({ index: pair.peer.index, flags: expect.objectContaining({ up: true, lowerUp: true }) });
    expect(ipLink(ns, 'vb4').flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
  });

  it('sets the alias right after the create, by index', async () => {
    const pair = await createVethPair({ name: 'va3', peer: { name: 'vb3' }, alias: 'nw:net1:ctr3', linkGroup: 9, ns });
    expect(pair.link.alias).toBe('nw:net1:ctr3');
    expect(await getLink('va3', { ns })).toMatchObject({ alias: 'nw:net1:ctr3', group: 9 });
    expect(await getLink('vb3', { ns })).toMatchObject({ group: 9 });
    expect(ipLink(ns, 'va3')).toMatchObject({ ifalias: 'nw:net1:ctr3', group: '9' });
  });

  it('refuses bad arguments before any syscall', async () => {
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => createVethPair({ name: 'x'.repeat(16), peer: { name: 'p' }, ns }), /name.*longer than 15 bytes/],
      [() => createVethPair({ name: 'a/b', peer: { name: 'p' }, ns }), /name/],
      [() => createVethPair({ name: 'ok', peer: { name: 'bad name' }, ns }), /peer\.name/],
      [() => createVethPair({ name: 'ok', peer: { name: 'p' }, mac: 'zz', ns }), /mac/],
      [() => createVethPair({ name: 'ok', peer: { name: 'p' }, mtu: -1, ns }), /mtu/],
      [() => createVethPair({ name: 'ok', peer: { name: 'p' }, linkGroup: 0, ns }), /linkGroup 0/],
      [() => createVethPair({ name: 'ok', peer: { name: 'p' }, bogus: 1, ns } as any), /unknown option "bogus"/],
      [() => createVethPair({ name: 'ok', peer: { name: 'p', mtu: 1 }, ns } as any), /peer: unknown option "mtu"/],
      [() => getLink('', { ns }), /must not be empty/],
      [() => getLink(-3, { ns }), /link must be an integer/],
      [() => setLink('lo', { mtu: 1.5 }, { ns }), /mtu/],
      [() => setLink('lo', { colour: 'red' } as any, { ns }), /unknown option "colour"/],
      [() => deleteLinkGroup(0, { ns }), /group 0/],
      [() => createVxlan({ name: 'vx', vni: 1 << 24, ns }), /vni/],
      [() => createVxlan({ name: 'vx', vni: 1, remote: '10.0.0.1', group: '239.1.1.1', ns }), /exclusive/],
      [() => createVxlan({ name: 'vx', vni: 1, group: '10.0.0.1', ns }), /not a multicast/],
      [() => createVxlan({ name: 'vx', vni: 1, remote: '10.0.0.1', local: 'fd00::1', ns }), /family/],
      [() => createMacvlan({ name: 'mv', parent: 'lo', mode: 'hub' as any, ns }), /mode must be one of/],
      [() => createLink({ name: 'x', kind: 'vxlan', info: { vni: 5 }, ns }), /vxlan: unknown option "vni"/],
    ];
    for (const [call, message] of cases) {
      const n = await requestsDuring(async () => {
        await expect(call()).rejects.toThrow(message);
      });
      expect(n, String(message)).toBe(0);
    }
    await expect(getLink(-3, { ns })).rejects.toBeInstanceOf(RangeError);
    await expect(createVethPair({ name: 'a/b', peer: { name: 'p' }, ns })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('reading links', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('lr');
  });

  it('getLink by name is a direct GET; a missing link is ENODEV naming it', async () => {
    await createVethPair({ name: 'ga', peer: { name: 'gb' }, ns });
    const byName = await getLink('ga', { ns });
    expect(await getLink(byName.index, { ns })).toMatchObject({ name: 'ga', index: byName.index });
    expect(await getLink(byName, {})).toMatchObject({ name: 'ga' }); // the Link carries its namespace
    const err = await getLink('nosuch0', { ns }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'ENODEV', operation: 'getLink', subject: 'nosuch0' });
    expect(await findLink('nosuch0', { ns })).toBeUndefined();
    await expect(getLink(99999, { ns })).rejects.toMatchObject({ code: 'ENODEV', subject: '#99999' });
  });

  it('finds a link by an alternative name longer than IFNAMSIZ (IFLA_ALT_IFNAME)', async () => {
    const altname = 'a-very-long-alternative-interface-name';
    ipRun(ns, 'link', 'property', 'add', 'dev', 'ga', 'altname', altname);
    const l = await getLink(altname, { ns });
    expect(l.name).toBe('ga');
    expect(l.altNames).toEqual([altname]);
    expect(ipLink(ns, 'ga').altnames).toEqual([altname]);
  });

  it('decodes IFLA_STATS64 counters as numbers equal to ip -s', async () => {
    await setLinkUp('lo', { ns });
    const udp = await ns.createDgram({ address: '127.0.0.1' });
    const { port } = udp.address();
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve, reject) => udp.send(Buffer.alloc(100), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    udp.close();
    const lo = await getLink('lo', { ns });
    const [e] = ipJson(ns, '-s', 'link', 'show', 'dev', 'lo');
    expect(lo.stats!.txPackets).toBeGreaterThanOrEqual(5);
    expect(typeof lo.stats!.txBytes).toBe('number');
    expect({ rx: lo.stats!.rxPackets, tx: lo.stats!.txPackets, rxBytes: lo.stats!.rxBytes, txBytes: lo.stats!.txBytes }).toEqual({
      rx: e.stats64.rx.packets,
      tx: e.stats64.tx.packets,
      rxBytes: e.stats64.rx.bytes,
      txBytes: e.stats64.tx.bytes,
    });
  });

  it('listLinks filters by kind and by master in the kernel, and matches ip -j -d', async () => {
    const br = await createBridge({ name: 'lbr0', ns });
    await createVethPair({ name: 'la1', peer: { name: 'lb1' }, master: br, ns });
    await createVethPair({ name: 'la2', peer: { name: 'lb2' }, master: 'lbr0', ns });
    await createVxlan({ name: 'lvx0', vni: 7, ns });
    expect(names(await listLinks({ ns, kind: 'bridge' }))).toEqual(['lbr0']);
    expect(names(await listLinks({ ns, kind: 'vxlan' }))).toEqual(['lvx0']);
    expect(names(await listLinks({ ns, master: 'lbr0' }))).toEqual(['la1', 'la2']);
    expect(names(await listLinks({ ns, master: br.index }))).toEqual(['la1', 'la2']);
    expect(names(await listLinks({ ns, kind: 'nosuchkind' }))).toEqual([]);
    expect(names(await listLinks({ ns, kind: 'veth' }))).toEqual(names(ipJson(ns, 'link', 'show', 'type', 'veth').map((e: any) => ({ name: e.ifname }))));
    await expectSameAsIp(ns);
  });
});

describe('changing links', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('ls');
    await createVethPair({ name: 'sa', peer: { name: 'sb' }, ns });
  });

  it('up, down, mtu, mac, alias, group, name: each read back and seen by ip', async () => {
    await setLinkUp('sa', { ns });
    expect((await getLink('sa', { ns })).flags.up).toBe(true);
    expect(ipLink(ns, 'sa').flags).toContain('UP');
    await setLinkDown('sa', { ns });
    expect((await getLink('sa', { ns })).flags.up).toBe(false);
    await setLinkMtu('sa', 1280, { ns });
    await setLinkMac('sa', '02:AA:bb:cc:dd:ee', { ns });
    await setLinkAlias('sa', 'tagged', { ns });
    await setLinkGroup('sa', 42, { ns });
    expect(await getLink('sa', { ns })).toMatchObject({ mtu: 1280, mac: '02:aa:bb:cc:dd:ee', alias: 'tagged', group: 42 });
    expect(ipLink(ns, 'sa')).toMatchObject({ mtu: 1280, address: '02:aa:bb:cc:dd:ee', ifalias: 'tagged', group: '42' });
    await setLinkAlias('sa', '', { ns });
    expect((await getLink('sa', { ns })).alias).toBeUndefined();
    const index = (await getLink('sa', { ns })).index;
    await setLinkName('sa', 'sa-renamed', { ns });
    expect(await getLink('sa-renamed', { ns })).toMatchObject({ index });
    expect(ipLink(ns, 'sa-renamed').ifindex).toBe(index);
    await expect(getLink('sa', { ns })).rejects.toMatchObject({ code: 'ENODEV' });
    await setLinkName(index, 'sa', { ns });
    await expectSameAsIp(ns);
  });

  it('setLink applies several changes in one request', async () => {
    const before = native.stats().requests;
    await setLink('sb', { up: true, mtu: 1300, alias: 'both' }, { ns });
    expect(native.stats().requests - before).toBe(1);
    expect(await getLink('sb', { ns })).toMatchObject({ mtu: 1300, alias: 'both', flags: expect.objectContaining({ up: true }) });
  });

  it('a change to a missing link is ENODEV naming it', async () => {
    await expect(setLinkUp('ghost0', { ns })).rejects.toMatchObject({ code: 'ENODEV', operation: 'setLinkUp', subject: 'ghost0' });
    await expect(deleteLink('ghost0', { ns })).rejects.toMatchObject({ code: 'ENODEV', operation: 'deleteLink', subject: 'ghost0' });
  });

  it('moves a link into another namespace and renames it there in one request', async () => {
    const other = await scope.create('lm');
    await createVethPair({ name: 'ma', peer: { name: 'mb' }, ns });
    ipRun(other, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'keep');
    await setLinkNamespace('mb', other, { ns, name: 'eth1' });
    expect(await findLink('mb', { ns })).toBeUndefined();
    const moved = await getLink('eth1', { ns: other });
    expect(moved.kind).toBe('veth');
    expect(ipLink(other, 'eth1').link_netnsid).toEqual(expect.any(Number));
    // Moving under a name that exists there is refused, and the link stays home.
    await createVethPair({ name: 'mc', peer: { name: 'md' }, ns });
    await expect(setLinkNamespace('md', other, { ns, name: 'eth0' })).rejects.toMatchObject({ code: 'EEXIST' });
    await expectSameAsIp(other);
  });
});

describe('bridges', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('lb');
  });

  it('creates a bridge with STP and forward delay as ip reads them', async () => {
    const br = await createBridge({ name: 'br0', stp: true, forwardDelay: 400, ageingTime: 6000, up: true, ns });
    expect(br.info).toMatchObject({ stpState: 1, forwardDelay: 400, ageingTime: 6000, vlanFiltering: false });
    const e = ipLink(ns, 'br0');
    expect(e.linkinfo.info_kind).toBe('bridge');
    expect(e.linkinfo.info_data).toMatchObject({ stp_state: 1, forward_delay: 400, ageing_time: 6000, vlan_filtering: 0 });
    expect(e.flags).toContain('UP');
    await expect(createBridge({ name: 'br0', ns })).rejects.toMatchObject({ code: 'EEXIST', operation: 'createBridge', subject: 'br0' });
  });

  it.skipIf(hasVlanFiltering)('an option the kernel refuses (vlan filtering compiled out) stays a plain EOPNOTSUPP, not a missing kind', async () => {
    const err = await createBridge({ name: 'brv', vlanFiltering: true, ns }).catch((e) => e);
    expect(err).toMatchObject({ code: 'EOPNOTSUPP', operation: 'createBridge', subject: 'brv' });
    expect(err.message).not.toMatch(/lacks/);
    expect(await findLink('brv', { ns })).toBeUndefined();
  });

  it.skipIf(!hasVlanFiltering)('creates a VLAN-filtering bridge', async () => {
    const br = await createBridge({ name: 'brv', vlanFiltering: true, vlanDefaultPvid: 10, ns });
    expect(br.info).toMatchObject({ vlanFiltering: true, vlanDefaultPvid: 10 });
    expect(ipLink(ns, 'brv').linkinfo.info_data).toMatchObject({ vlan_filtering: 1, vlan_default_pvid: 10 });
  });

  it('attaches and detaches ports; listBridgePorts gives their state like `bridge link`', async () => {
    const br = await createBridge({ name: 'br1', up: true, ns });
    await createVethPair({ name: 'pa', peer: { name: 'pb' }, up: true, ns });
    await createVethPair({ name: 'qa', peer: { name: 'qb' }, ns });
    await attachToBridge('pa', 'br1', { ns, up: true });
    await attachToBridge('qa', br, { ns });
    const ports = await listBridgePorts('br1', { ns });
    expect(names(ports)).toEqual(['pa', 'qa']);
    const pa = ports.find((p) => p.name === 'pa')!;
    const qa = ports.find((p) => p.name === 'qa')!;
    expect(pa.master).toBe(br.index);
    expect(qa.portInfo.state).toBe('disabled'); // down port
    expect(['forwarding', 'learning', 'listening']).toContain(pa.portInfo.state);
    for (const p of ports) {
      const e = ipLink(ns, p.name);
      expect(e.master).toBe('br1');
      expect(e.linkinfo.info_slave_kind).toBe('bridge');
      expect(e.linkinfo.info_slave_data.state).toBe(p.portInfo.state);
      expect(e.linkinfo.info_slave_data).toMatchObject({ cost: p.portInfo.cost, priority: p.portInfo.priority, learning: p.portInfo.learning });
    }
    await expect(attachToBridge('qa', 'nobr', { ns })).rejects.toMatchObject({ code: 'ENODEV', operation: 'attachToBridge', subject: 'nobr' });
    await expect(attachToBridge('nolink', br, { ns })).rejects.toMatchObject({ code: 'ENODEV', operation: 'attachToBridge', subject: 'nolink' });
    await detachFromBridge('qa', { ns });
    expect(names(await listBridgePorts(br))).toEqual(['pa']);
    expect(ipLink(ns, 'qa').master).toBeUndefined();
    await expectSameAsIp(ns);
  });
});

describe('macvlan, vxlan and other kinds', () => {
  it('creates a macvlan inside a namespace as eth0 while the parent namespace has its own eth0', async () => {
    const host = await scope.create('lh');
    const ctr = await scope.create('lc');
    ipRun(host, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
    ipRun(host, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplink-p');
    const hostBefore = names(await listLinks({ ns: host }));
    const mv = await createMacvlan({ name: 'eth0', parent: 'uplink', parentNs: host, ns: ctr, mode: 'private', up: true });
    expect(mv).toMatchObject({ name: 'eth0', kind: 'macvlan', info: { mode: 'private' } });
    expect(mv.flags.up).toBe(true);
    expect(names(await listLinks({ ns: host }))).toEqual(hostBefore);
    expect(ipLink(ctr, 'eth0')).toMatchObject({ ifindex: mv.index, linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
    // The same name again in the target is EEXIST.
    await expect(createMacvlan({ name: 'eth0', parent: 'uplink', parentNs: host, ns: ctr })).rejects.toMatchObject({ code: 'EEXIST', subject: 'eth0' });
    await expectSameAsIp(ctr);
  });

  it('the two-step path (temporary name beside the parent, then move + rename) works and cleans up after itself', async () => {
    const host = await scope.create('lh');
    const ctr = await scope.create('lc');
    ipRun(host, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'uplink');
    const parent = await getLink('uplink', { ns: host });
    const hostBefore = names(await listLinks({ ns: host }));
    const mv = await createInParentThenMove({
      ns: host,
      into: ctr,
      operation: 'createMacvlan',
      subject: 'eth0',
      req: { ifi: { index: 0, flags: 1, change: 1 }, attrs: { ifname: 'eth0', link: parent.index }, kind: 'macvlan', info: { mode: 4 } },
    });
    expect(mv).toMatchObject({ name: 'eth0', kind: 'macvlan', info: { mode: 'bridge' }, flags: expect.objectContaining({ up: true }) });
    expect(names(await listLinks({ ns: host }))).toEqual(hostBefore);
    expect(ipLink(ctr, 'eth0').linkinfo.info_data.mode).toBe('bridge');
    // A final name taken in the target: the rename fails after the move; no temporary link survives anywhere.
    const ctrBefore = names(await listLinks({ ns: ctr }));
    const err = await createInParentThenMove({
      ns: host,
      into: ctr,
      operation: 'createMacvlan',
      subject: 'eth0',
      req: { ifi: { index: 0, flags: 0, change: 0 }, attrs: { ifname: 'eth0', link: parent.index }, kind: 'macvlan', info: { mode: 4 } },
    }).catch((e) => e);
    expect(err).toMatchObject({ code: 'EEXIST', operation: 'createMacvlan' });
    expect(names(await listLinks({ ns: host }))).toEqual(hostBefore);
    expect(names(await listLinks({ ns: ctr }))).toEqual(ctrBefore);
  });

  it('creates a vxlan whose vni, port, remote and local ip reads back', async () => {
    const ns = await scope.create('lx');
    await createVethPair({ name: 'under', peer: { name: 'under-p' }, ns });
    const vx = await createVxlan({ name: 'vx0', vni: 4242, remote: '10.9.0.2', local: '10.9.0.1', dstport: 4790, learning: false, srcPortRange: [30000, 40000], parent: 'under', ttl: 'inherit', ns });
    expect(vx.info).toMatchObject({ vni: 4242, remote: '10.9.0.2', local: '10.9.0.1', port: 4790, learning: false, srcPortRange: { low: 30000, high: 40000 }, ttlInherit: true });
    expect(vx.info!.link).toBe((await getLink('under', { ns })).index);
    const d = ipLink(ns, 'vx0').linkinfo.info_data;
    expect(d).toMatchObject({ id: 4242, remote: '10.9.0.2', local: '10.9.0.1', port: 4790, learning: false, port_range: { low: 30000, high: 40000 }, link: 'under' });
    expect(ipRun(ns, '-d', 'link', 'show', 'vx0')).toMatch(/ ttl inherit /); // ip -j leaves ttl inherit out
    const vx6 = await createVxlan({ name: 'vx6', vni: 5, group: 'ff05::100', parent: 'under', ns });
    expect(vx6.info).toMatchObject({ vni: 5, group: 'ff05::100', port: 4789, ttlInherit: false });
    expect(ipLink(ns, 'vx6').linkinfo.info_data).toMatchObject({ id: 5, group6: 'ff05::100', port: 4789 });
    await expectSameAsIp(ns);
  });

  it('decodes what ip creates the way ip reads it (veth, bridge, macvlan, vxlan, ifb)', async () => {
    const ns = await scope.create('li');
    ipRun(ns, 'link', 'add', 'ibr', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '500', 'hello_time', '300', 'priority', '4096');
    ipRun(ns, 'link', 'add', 'iva', 'mtu', '9000', 'address', '02:00:00:00:01:01', 'group', '3', 'type', 'veth', 'peer', 'name', 'ivb');
    ipRun(ns, 'link', 'set', 'iva', 'master', 'ibr', 'alias', 'from-ip');
    ipRun(ns, 'link', 'add', 'imv', 'link', 'ivb', 'type', 'macvlan', 'mode', 'source');
    ipRun(ns, 'link', 'add', 'ivx', 'type', 'vxlan', 'id', '99', 'group', '239.1.1.1', 'dev', 'ivb', 'dstport', '4790', 'ttl', '17', 'tos', '0x10', 'ageing', '120');
    ipRun(ns, 'link', 'add', 'ifb9', 'type', 'ifb');
    const links = await expectSameAsIp(ns);
    const get = (n: string) => links.find((l) => l.name === n)!;
    const e = (n: string) => ipLink(ns, n).linkinfo;
    const br = get('ibr');
    expect(isLinkKind(br, 'bridge') && br.info).toMatchObject({ stpState: 1, forwardDelay: 500, helloTime: 300, priority: 4096 });
    expect(e('ibr').info_data).toMatchObject({ stp_state: 1, forward_delay: 500, hello_time: 300, priority: 4096 });
    expect(br.info && 'bridgeId' in br.info && br.info.bridgeId?.startsWith('1000.')).toBe(true);
    expect(get('iva')).toMatchObject({ mtu: 9000, mac: '02:00:00:00:01:01', group: 3, alias: 'from-ip', master: br.index, portKind: 'bridge', link: get('ivb').index });
    expect(get('imv')).toMatchObject({ kind: 'macvlan', info: { mode: 'source' }, link: get('ivb').index });
    expect(e('imv').info_data.mode).toBe('source');
    const vx = get('ivx');
    expect(vx.info).toMatchObject({ vni: 99, group: '239.1.1.1', port: 4790, ttl: 17, tos: 0x10, ageing: 120, link: get('ivb').index, learning: true });
    expect(e('ivx').info_data).toMatchObject({ id: 99, group: '239.1.1.1', port: 4790, ttl: 17, ageing: 120, learning: true });
    expect(get('ifb9')).toMatchObject({ kind: 'ifb' });
  });

  it('createLink makes any kind the kernel has (ifb; macvtap through the macvlan table)', async () => {
    const ns = await scope.create('lg');
    const ifb = await createLink({ name: 'ifb3', kind: 'ifb', up: true, ns });
    expect(ifb).toMatchObject({ name: 'ifb3', kind: 'ifb' });
    expect(ipLink(ns, 'ifb3').linkinfo.info_kind).toBe('ifb');
    await createVethPair({ name: 'tpa', peer: { name: 'tpb' }, ns });
    const tap = await createLink({ name: 'mvt0', kind: 'macvtap', parent: 'tpa', info: { mode: 2 }, ns });
    expect(tap).toMatchObject({ kind: 'macvtap', info: { mode: 'vepa' } });
    expect(ipLink(ns, 'mvt0').linkinfo).toMatchObject({ info_kind: 'macvtap', info_data: { mode: 'vepa' } });
    await expect(createLink({ name: 'zz0', kind: 'no-such-kind', ns })).rejects.toMatchObject({ code: 'EOPNOTSUPP', operation: 'createLink' });
  });

  it.skipIf(has.dummy)('a kind this kernel lacks (dummy) is EOPNOTSUPP saying so', async () => {
    const ns = await scope.create('lk');
    const err = await createDummy({ name: 'd0', ns }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'EOPNOTSUPP', operation: 'createDummy', subject: 'd0' });
    expect(err.message).toMatch(/lacks the "dummy" link kind/);
    expect(await findLink('d0', { ns })).toBeUndefined();
  });

  it.skipIf(has.vlan)('802.1q vlan missing: EOPNOTSUPP naming the kind', async () => {
    const ns = await scope.create('lk');
    await createVethPair({ name: 'vp', peer: { name: 'vq' }, ns });
    await expect(createVlan({ name: 'vp.5', parent: 'vp', id: 5, parentNs: ns })).rejects.toMatchObject({ code: 'EOPNOTSUPP', operation: 'createVlan', message: expect.stringMatching(/"vlan"/) });
  });

  it.skipIf(has.ipvlan)('ipvlan missing: EOPNOTSUPP naming the kind', async () => {
    const ns = await scope.create('lk');
    await createVethPair({ name: 'ip0', peer: { name: 'ip1' }, ns });
    await expect(createIpvlan({ name: 'iv0', parent: 'ip0', parentNs: ns })).rejects.toMatchObject({ code: 'EOPNOTSUPP', operation: 'createIpvlan', message: expect.stringMatching(/"ipvlan"/) });
  });

  it.skipIf(!has.dummy)('creates a dummy link', async () => {
    const ns = await scope.create('lk');
    const d = await createDummy({ name: 'd0', mtu: 1400, ns });
    expect(d).toMatchObject({ kind: 'dummy', mtu: 1400 });
    expect(ipLink(ns, 'd0').linkinfo.info_kind).toBe('dummy');
  });

  it.skipIf(!has.vlan)('creates an 802.1ad vlan whose id and protocol ip reads back', async () => {
    const ns = await scope.create('lk');
    await createVethPair({ name: 'vp', peer: { name: 'vq' }, ns });
    const v = await createVlan({ name: 'vp.5', parent: 'vp', id: 5, protocol: '802.1ad', parentNs: ns });
    expect(v.info).toMatchObject({ id: 5, protocol: '802.1ad' });
    expect(ipLink(ns, 'vp.5').linkinfo.info_data).toMatchObject({ id: 5, protocol: '802.1ad' });
  });

  it.skipIf(!has.ipvlan)('creates an ipvlan inside a namespace', async () => {
    const host = await scope.create('lh');
    const ctr = await scope.create('lc');
    await createVethPair({ name: 'ip0', peer: { name: 'ip1' }, ns: host });
    const v = await createIpvlan({ name: 'eth0', parent: 'ip0', parentNs: host, ns: ctr, mode: 'l2' });
    expect(v.info).toMatchObject({ mode: 'l2' });
    expect(ipLink(ctr, 'eth0').linkinfo.info_data.mode).toBe('l2');
  });
});

describe('tun and tap', () => {
  let ns: Namespace;
  beforeAll(async () => {
    ns = await scope.create('tt');
  });

  it('creates a persistent tun device in a namespace, as ip tuntap add does', async () => {
    const t = await createTuntap({ name: 'tun0', mode: 'tun', ns, mtu: 1400, up: true });
    expect(t).toMatchObject({ name: 'tun0', kind: 'tun', mtu: 1400, info: { type: 'tun', pi: false, vnetHdr: false, persist: true, multiQueue: false } });
    expect(t.flags.up).toBe(true);
    // Read back by iproute2: a tun, in this namespace only.
    expect(ipLink(ns, 'tun0')).toMatchObject({ ifindex: t.index, mtu: 1400, linkinfo: { info_kind: 'tun', info_data: { type: 'tun', pi: false, vnet_hdr: false, persist: true, multi_queue: false } } });
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/\btun0\b/);
    await expectSameAsIp(ns);
  });

  it('creates a tap with packet info, vnet header, several queues, an owner and a group, in a link group on a bridge', async () => {
    await createBridge({ name: 'brt', ns });
    const t = await createTuntap({ name: 'tap0', mode: 'tap', ns, packetInfo: true, vnetHdr: true, multiQueue: true, owner: 1234, group: 4321, linkGroup: 77, master: 'brt', mac: '02:00:00:00:00:aa' });
    expect(t).toMatchObject({ kind: 'tun', group: 77, mac: '02:00:00:00:00:aa', info: { type: 'tap', pi: true, vnetHdr: true, multiQueue: true, owner: 1234, group: 4321, persist: true } });
    const ip = ipLink(ns, 'tap0');
    expect(ip).toMatchObject({ master: 'brt', address: '02:00:00:00:00:aa', linkinfo: { info_kind: 'tun', info_data: { type: 'tap', pi: true, vnet_hdr: true, multi_queue: true, user: 1234, group: 4321 } } });
  });

  it('decodes a tap that ip made', async () => {
    ipRun(ns, 'tuntap', 'add', 'dev', 'iptap', 'mode', 'tap', 'user', '99', 'vnet_hdr');
    expect(await getLink('iptap', { ns })).toMatchObject({ kind: 'tun', info: { type: 'tap', owner: 99, vnetHdr: true, pi: false, persist: true } });
  });

  it('refuses a name in use (a tun or anything else) with EEXIST, and bad options before any syscall', async () => {
    await expect(createTuntap({ name: 'tun0', mode: 'tun', ns })).rejects.toMatchObject({ code: 'EEXIST', subject: 'tun0', operation: 'createTuntap' });
    await expect(createTuntap({ name: 'lo', mode: 'tap', ns })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(createTuntap({ name: 'x', mode: 'tunnel' as 'tun', ns })).rejects.toThrow(TypeError);
    await expect(createTuntap({ name: 'x', mode: 'tun', ns, owner: -1 })).rejects.toThrow(RangeError);
    await expect(createTuntap({ name: 'x', mode: 'tun', ns, persist: false } as never)).rejects.toThrow(/unknown option/);
    expect(await findLink('x', { ns })).toBeUndefined();
  });

  it('deletes the device again when an option after the create fails (master that does not exist)', async () => {
    await expect(createTuntap({ name: 'tun9', mode: 'tun', ns, master: 'nosuchbr' })).rejects.toMatchObject({ code: 'ENODEV' });
    expect(await findLink('tun9', { ns })).toBeUndefined();
  });

  it('is deleted like any link', async () => {
    await createTuntap({ name: 'tun8', mode: 'tun', ns });
    await deleteLink('tun8', { ns });
    expect(await findLink('tun8', { ns })).toBeUndefined();
  });
});

describe('deleting', () => {
  let ns: Namespace;
  afterEach(async () => {
    expect(ipJson(ns, 'link', 'show').length).toBe((await listLinks({ ns })).length);
  });

  it('deleteLink removes a veth and its peer', async () => {
    ns = await scope.create('ld');
    await createVethPair({ name: 'da', peer: { name: 'db' }, ns });
    await deleteLink('da', { ns });
    expect(names(await listLinks({ ns }))).toEqual(['lo']);
  });

  it('deleteLinkGroup removes exactly the group, peers included', async () => {
    ns = await scope.create('ld');
    const other = await scope.create('lo');
    for (let i = 0; i < 3; i++) await createVethPair({ name: uniqueName('g5a'), peer: { name: uniqueName('g5b') }, linkGroup: 5, ns });
    await createVethPair({ name: 'g5x', peer: { name: 'eth0', ns: other }, linkGroup: 5, ns });
    for (let i = 0; i < 2; i++) await createVethPair({ name: `g6a${i}`, peer: { name: `g6b${i}` }, linkGroup: 6, ns });
    await createBridge({ name: 'keepbr', ns });
    await setLinkGroup('keepbr', 7, { ns });
    const inGroup = (g: string) => ipJson(ns, 'link', 'show').filter((e: any) => e.group === g).length;
    expect(inGroup('5')).toBe(7);
    expect(await deleteLinkGroup(5, { ns })).toBe(true);
    expect(names(await listLinks({ ns }))).toEqual(['g6a0', 'g6a1', 'g6b0', 'g6b1', 'keepbr', 'lo']);
    expect(inGroup('5')).toBe(0);
    expect(inGroup('6')).toBe(4);
    expect(names(await listLinks({ ns: other }))).toEqual(['lo']);
    expect(await deleteLinkGroup(5, { ns })).toBe(false); // nothing left in it: the kernel's ENODEV
    expect(await deleteLinkGroup(6, { ns })).toBe(true);
    expect(names(await listLinks({ ns }))).toEqual(['keepbr', 'lo']);
  });
});
