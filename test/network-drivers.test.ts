// The other drivers, each with real traffic between namespaces: host (the
// container is the host's namespace), none (loopback only), macvlan (own
// MACs on a parent's LAN), overlay (one L2 segment across two "hosts" joined
// by an underlay), and ipvlan where the kernel has it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAddress } from '../src/address.js';
import { createVethPair } from '../src/link-kinds/index.js';
import { listLinks, setLinkUp } from '../src/link.js';
import type { Namespace } from '../src/namespace.js';
import { closeNetworks, createNetwork, getNetwork, listNetworks, loadNetworks, NetworkError, removeNetwork, type Network } from '../src/network/index.js';
import { OVERLAY_MTU } from '../src/network/drivers/overlay.js';
import { ipJson, kernelHasLinkKind } from './helpers.js';
import { ask, HOST_IP, NsScope, OUTSIDE_IP, resolveA, tcpServer, world } from './network-helpers.js';
import { execFileSync } from 'node:child_process';

const scope = new NsScope();
const closers: { close(): unknown }[] = [];
const code = (e: unknown) => (e as { code?: string }).code;
const names = async (ns: Namespace) => (await listLinks({ ns })).map((l) => l.name).sort();

afterAll(async () => {
  for (const c of closers) await c.close();
  await scope.cleanup();
});

describe('host and none (predefined)', () => {
  let host: Namespace;
  let outside: Namespace;
  beforeAll(async () => {
    ({ host, outside } = await world(scope));
  });
  afterAll(() => closeNetworks({ ns: host }));

  it('are always listed and can be neither created again nor removed', async () => {
    const all = await listNetworks({ ns: host });
    expect(all.filter((n) => n.driver === 'host' || n.driver === 'none').map((n) => n.name)).toEqual(['host', 'none']);
    expect(code(await createNetwork({ ns: host, name: 'h2', driver: 'host' }).catch((e: unknown) => e))).toBe('EOPNOTSUPP');
    expect(code(await removeNetwork('host', { ns: host }).catch((e: unknown) => e))).toBe('EOPNOTSUPP');
    expect(code(await removeNetwork('none', { ns: host }).catch((e: unknown) => e))).toBe('EOPNOTSUPP');
  });

  it('host: the container is the host namespace — connect reports the host\'s view, services need no publishing', async () => {
    const net = await getNetwork('host', { ns: host });
    const ep = await net.connect();
    expect(ep).toMatchObject({ ip: HOST_IP, gateway: OUTSIDE_IP, defaultRoute: true, driver: 'host' });
    expect(ep.interface).toBeUndefined();
    expect(ep.ns!.equals(host)).toBe(true);
    closers.push(await tcpServer(ep.ns!, 9100, 'host-net'));
    expect(await ask(outside, HOST_IP, 9100)).toBe(`host-net ${OUTSIDE_IP}`);
    const other = await scope.create('nwc');
    const err = await net.connect(other).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(code(err)).toBe('EINVAL');
    // Many containers share the host network; the host namespace itself joins no bridge network.
    const second = await net.connect(undefined, { name: 'another' });
    expect(second.id).not.toBe(ep.id);
    const br = await createNetwork({ ns: host, name: 'hb', subnet: '10.90.0.0/24' });
    expect(code(await br.connect(host).catch((e: unknown) => e))).toBe('EINVAL');
    await removeNetwork(br, { ns: host });
  });

  it('none: a namespace of its own with loopback up and nothing else', async () => {
    const c = await scope.create('nwc');
    expect(ipJson(c, 'link', 'show', 'dev', 'lo')[0].flags).not.toContain('UP');
    const ep = await (await getNetwork('none', { ns: host })).connect(c);
    expect(ep.ip).toBeUndefined();
    expect(await names(c)).toEqual(['lo']);
    expect(ipJson(c, 'link', 'show', 'dev', 'lo')[0].flags).toContain('UP');
    closers.push(await tcpServer(c, 80, 'alone', '127.0.0.1'));
    expect(await ask(c, '127.0.0.1', 80)).toBe('alone 127.0.0.1');
    // none excludes every other network, both ways.
    const br = await createNetwork({ ns: host, name: 'nb', subnet: '10.91.0.0/24' });
    expect(code(await br.connect(c).catch((e: unknown) => e))).toBe('EINVAL');
    const d = await scope.create('nwc');
    await br.connect(d);
    expect(code(await (await getNetwork('none', { ns: host })).connect(d).catch((e: unknown) => e))).toBe('EINVAL');
    expect(await names(c)).toEqual(['lo']);
    await removeNetwork(br, { ns: host, force: true });
  });
});

describe('macvlan', () => {
  let host: Namespace;
  let lan: Namespace;
  let net: Network;
  let c1: Namespace;
  let c2: Namespace;

  beforeAll(async () => {
    host = await scope.create('nwh');
    lan = await scope.create('nwlan');
    // The host's NIC lan0 on a LAN whose router is 192.168.50.1.
    await createVethPair({ ns: host, name: 'lan0', peer: { name: 'wire0', ns: lan }, up: true });
    await addAddress('wire0', '192.168.50.1/24', { ns: lan });
    await setLinkUp(1, { ns: lan });
    net = await createNetwork({ ns: host, name: 'lan', driver: 'macvlan', subnet: '192.168.50.0/24', gateway: '192.168.50.1', ipRange: '192.168.50.128/25', options: { parent: 'lan0' } });
    c1 = await scope.create('nwc');
    c2 = await scope.create('nwc');
  });
  afterAll(() => closeNetworks({ ns: host }));

  it('anchors the network on the parent: a macvlan, down, tagged', () => {
    const [anchor] = ipJson(host, 'link', 'show', 'dev', net.interface!);
    expect(anchor.linkinfo.info_kind).toBe('macvlan');
    expect(anchor.link).toBe('lan0');
    expect(anchor.flags).not.toContain('UP');
    expect(anchor.ifalias).toMatch(/^nw1n .* d=macvlan s=192.168.50.0\/24 g=192.168.50.1 r=192.168.50.128\/25 o.mode=bridge o.parent=lan0$/);
  });

  it('gives each container a macvlan of its own on the LAN: they talk to each other and to the LAN, unNATed', async () => {
    const e1 = await net.connect(c1, { name: 'alpha' });
    const e2 = await net.connect(c2, { name: 'beta' });
    // From the ip range: its first address is an ordinary host address of the /24.
    expect([e1.ip, e2.ip]).toEqual(['192.168.50.128', '192.168.50.129']);
    const [eth0] = ipJson(c1, 'addr', 'show', 'dev', 'eth0');
    expect(eth0.linkinfo.info_kind).toBe('macvlan');
    expect(eth0.linkinfo.info_data.mode).toBe('bridge');
    expect(eth0.address).toBe('02:42:c0:a8:32:80');
    expect(eth0.address).not.toBe(ipJson(c2, 'link', 'show', 'dev', 'eth0')[0].address);
    expect(ipJson(c1, 'route', 'show', 'default')).toEqual([expect.objectContaining({ gateway: '192.168.50.1' })]);
    closers.push(await tcpServer(c2, 80, 'beta'));
    expect(await ask(c1, e2.ip!, 80)).toBe(`beta ${e1.ip}`);
    closers.push(await tcpServer(lan, 80, 'router', '192.168.50.1'));
    expect(await ask(c1, '192.168.50.1', 80)).toBe(`router ${e1.ip}`);
    // User-defined: names resolve.
    expect(await resolveA(c1, 'beta')).toEqual([e2.ip]);
    expect(code(await net.publish(e1, '8080:80').catch((e: unknown) => e))).toBe('EOPNOTSUPP');
    expect((await net.inspect()).healthy).toBe(true);
  });

  it('is found again by a fresh manager: endpoints live in the containers, found by their tags', async () => {
    await closeNetworks({ ns: host });
    const found = (await loadNetworks({ ns: host })).find((n) => n.name === 'lan')!;
    expect(found.endpoints.map((e) => [e.name, e.ip]).sort()).toEqual([
      ['alpha', '192.168.50.128'],
      ['beta', '192.168.50.129'],
    ]);
    const inspect = await found.inspect();
    expect(inspect.healthy).toBe(true);
    expect(inspect.endpoints.every((e) => e.healthy)).toBe(true);
    net = found;
  });

  it('disconnects and removes: the macvlans go from the containers, the anchor from the host', async () => {
    await net.disconnect('beta');
    expect(await names(c2)).toEqual(['lo']);
    await removeNetwork('lan', { ns: host, force: true });
    expect(await names(c1)).toEqual(['lo']);
    expect((await names(host)).some((n) => n.startsWith('nwm-'))).toBe(false);
  });
});

describe('overlay across two hosts', () => {
  let hostA: Namespace;
  let hostB: Namespace;
  let netA: Network;
  let netB: Network;

  beforeAll(async () => {
    hostA = await scope.create('nwha');
    hostB = await scope.create('nwhb');
    // The underlay: one veth between the two hosts.
    await createVethPair({ ns: hostA, name: 'u0', peer: { name: 'u1', ns: hostB }, up: true });
    await Promise.all([addAddress('u0', '10.99.0.1/24', { ns: hostA }), addAddress('u1', '10.99.0.2/24', { ns: hostB })]);
    netA = await createNetwork({ ns: hostA, name: 'ov', driver: 'overlay', subnet: '10.10.0.0/16', ipRange: '10.10.1.0/24', options: { vni: 4242, local: '10.99.0.1', peers: ['10.99.0.2'] } });
    netB = await createNetwork({ ns: hostB, name: 'ov', driver: 'overlay', subnet: '10.10.0.0/16', ipRange: '10.10.2.0/24', options: { vni: 4242, local: '10.99.0.2', peers: ['10.99.0.1'] } });
  });
  afterAll(async () => {
    await closeNetworks({ ns: hostA });
    await closeNetworks({ ns: hostB });
  });

  it('builds a bridge with a vxlan port flooding to the peer host', () => {
    const vx = ipJson(hostA, 'link', 'show', 'master', netA.interface!).find((l: { linkinfo?: { info_kind: string } }) => l.linkinfo?.info_kind === 'vxlan');
    expect(vx.linkinfo.info_data).toMatchObject({ id: 4242, local: '10.99.0.1', port: 4789 });
    expect(vx.mtu).toBe(OVERLAY_MTU);
    const fdb = JSON.parse(execFileSync('bridge', ['-n', hostA.name!, '-j', 'fdb', 'show', 'dev', vx.ifname], { encoding: 'utf8' }));
    expect(fdb).toContainEqual(expect.objectContaining({ mac: '00:00:00:00:00:00', dst: '10.99.0.2' }));
    // No address on the bridge: the segment is not routed through the host.
    expect(ipJson(hostA, 'addr', 'show', 'dev', netA.interface!)[0].addr_info.filter((a: { family: string }) => a.family === 'inet')).toEqual([]);
  });

  it('puts containers on two hosts on one L2 segment', async () => {
    const cA = await scope.create('nwc');
    const cB = await scope.create('nwc');
    const eA = await netA.connect(cA, { name: 'left' });
    const eB = await netB.connect(cB, { name: 'right' });
    // Each host hands out addresses from its own range of the shared subnet.
    expect(eA.ip).toBe('10.10.1.0');
    expect(eB.ip).toBe('10.10.2.0');
    expect(ipJson(cA, 'link', 'show', 'dev', 'eth0')[0].mtu).toBe(OVERLAY_MTU);
    expect(eA.defaultRoute).toBe(false);
    closers.push(await tcpServer(cB, 80, 'right'));
    expect(await ask(cA, eB.ip!, 80)).toBe(`right ${eA.ip}`);
    const inspect = await netA.inspect();
    expect(inspect.healthy).toBe(true);
    expect(inspect.details).toEqual({ vxlan: `nwx-${netA.id.slice(0, 11)}`, peers: ['10.99.0.2'] });
  });

  it('connectNew puts a namespace made in the same pass on the segment too', async () => {
    const e = await netA.connectNew({ name: 'fresh' });
    try {
      expect(e.ip).toMatch(/^10\.10\.1\./);
      expect((await listLinks({ ns: e.ns! })).find((l) => l.name === 'eth0')?.mtu).toBe(OVERLAY_MTU);
      const right = netB.endpoints.find((x) => x.name === 'right')!;
      expect(await ask(e.ns!, right.ip!, 80)).toBe(`right ${e.ip}`);
    } finally {
      await netA.disconnect(e);
      e.ns!.close();
    }
  });

  it('changes its peer hosts in the FDB', async () => {
    const fdb = () =>
      JSON.parse(execFileSync('bridge', ['-n', hostA.name!, '-j', 'fdb', 'show', 'dev', `nwx-${netA.id.slice(0, 11)}`], { encoding: 'utf8' }))
        .filter((e: { mac: string }) => e.mac === '00:00:00:00:00:00')
        .map((e: { dst: string }) => e.dst)
        .sort();
    await netA.setPeers(['10.99.0.2', '10.99.0.3', '10.99.0.4']);
    expect(fdb()).toEqual(['10.99.0.2', '10.99.0.3', '10.99.0.4']);
    await netA.setPeers(['10.99.0.2']);
    expect(fdb()).toEqual(['10.99.0.2']);
    expect(code(await (await getNetwork('none', { ns: hostA })).setPeers([]).catch((e: unknown) => e))).toBe('EOPNOTSUPP');
  });
});

describe('ipvlan', () => {
  const has = kernelHasLinkKind('ipvlan');
  if (!has) console.log('ipvlan: skipping the traffic test — this kernel has no ipvlan link kind ("Unknown device type")');

  it.skipIf(has)('on a kernel without ipvlan, createNetwork says so (EOPNOTSUPP) and leaves nothing', async () => {
    const { host } = await world(scope);
    const before = await names(host);
    const err = await createNetwork({ ns: host, name: 'ipv', driver: 'ipvlan', subnet: '10.80.0.0/24', options: { parent: 'up0' } }).catch((e: unknown) => e);
    expect(code(err)).toBe('EOPNOTSUPP');
    expect((err as Error).message).toMatch(/lacks the "ipvlan" link kind/);
    expect(await names(host)).toEqual(before);
    await closeNetworks({ ns: host });
  });

  it.skipIf(!has)('l2: containers share the parent\'s MAC and talk over the LAN', async () => {
    const host = await scope.create('nwh');
    const lan = await scope.create('nwlan');
    await createVethPair({ ns: host, name: 'lan0', peer: { name: 'wire0', ns: lan }, up: true });
    await addAddress('wire0', '192.168.60.1/24', { ns: lan });
    const net = await createNetwork({ ns: host, name: 'ipv', driver: 'ipvlan', subnet: '192.168.60.0/24', gateway: '192.168.60.1', options: { parent: 'lan0', mode: 'l2' } });
    const c1 = await scope.create('nwc');
    const c2 = await scope.create('nwc');
    const e1 = await net.connect(c1);
    const e2 = await net.connect(c2);
    closers.push(await tcpServer(c2, 80, 'c2'));
    expect(await ask(c1, e2.ip!, 80)).toBe(`c2 ${e1.ip}`);
    closers.push(await tcpServer(lan, 80, 'router', '192.168.60.1'));
    expect(await ask(c1, '192.168.60.1', 80)).toBe(`router ${e1.ip}`);
    await removeNetwork(net, { ns: host, force: true });
    await closeNetworks({ ns: host });
  });
});
