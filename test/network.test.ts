// Bridge networks end to end, in throw-away namespaces: the default network
// and a user-defined one on a "host" namespace whose uplink leads to an
// "outside" namespace. Every claim is checked against what the kernel has
// (ip -j as the oracle, the firewall read back) and with real traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { FirewallError, listIsolations, listMasquerades, listPublishedPorts } from '../src/firewall/index.js';
import { listAddresses } from '../src/address.js';
import { NetlinkError } from '../src/errors.js';
import { listLinks } from '../src/link.js';
import { native } from '../src/native.js';
import { listRoutes } from '../src/route.js';
import type { Namespace } from '../src/namespace.js';
import { IpamError } from '../src/network/ipam.js';
import {
  configureNetworkDns,
  closeNetworks,
  createNetwork,
  defaultNetwork,
  getNetwork,
  listNetworks,
  NetworkError,
  pruneNetworks,
  removeNetwork,
  type Endpoint,
  type Network,
} from '../src/network/index.js';
import { ipJson, ipRun, openFdsOf, possibleCpus } from './helpers.js';
import { ask, HOST_IP, NsScope, OUTSIDE_IP, resolveA, tcpServer, udpAsk, udpEcho, unreachable, world } from './network-helpers.js';

const scope = new NsScope();
let host: Namespace;
let outside: Namespace;
let upstream: dgram.Socket;
const closers: { close(): unknown }[] = [];

beforeAll(async () => {
  ({ host, outside } = await world(scope));
  // An upstream DNS server for names the networks do not know, in this process's own namespace
  // (the embedded server forwards from there): every A query gets 198.51.100.7.
  upstream = dgram.createSocket('udp4');
  upstream.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    const a = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: (q.questions ?? []).map((x) => ({ type: 'A' as const, name: x.name, ttl: 60, data: '198.51.100.7' })),
    });
    upstream.send(a, r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
  configureNetworkDns({ ns: host, upstream: [`127.0.0.1:${(upstream.address() as { port: number }).port}`] });
});

afterAll(async () => {
  for (const c of closers) await c.close();
  await closeNetworks({ ns: host });
  upstream.close();
  await scope.cleanup();
});

const linkNames = async (ns: Namespace) => (await listLinks({ ns })).map((l) => l.name).sort();
const code = (e: unknown) => (e as { code?: string }).code;

describe('the default bridge network', () => {
  let net: Network;
  let c1: Namespace;
  let c2: Namespace;
  let e1: Endpoint;
  let e2: Endpoint;

  beforeAll(async () => {
    net = await defaultNetwork({ ns: host });
    c1 = await scope.create('nwc');
    c2 = await scope.create('nwc');
    e1 = await net.connect(c1, { name: 'one' });
    e2 = await net.connect(c2, { name: 'two' });
  });

  it('is bridge nw0 with the gateway 172.17.0.1/16, up, tagged, with routing and masquerade on', async () => {
    expect(net).toMatchObject({ name: 'bridge', driver: 'bridge', subnet: '172.17.0.0/16', gateway: '172.17.0.1', isDefault: true, dns: false, interface: 'nw0' });
    const [br] = ipJson(host, 'addr', 'show', 'dev', 'nw0');
    expect(br.flags).toContain('UP');
    expect(br.ifalias).toMatch(/^nw1n i=[0-9a-f]{16} n=bridge d=bridge s=172.17.0.0\/16 g=172.17.0.1 f=d o.bridge=nw0$/);
    expect(br.addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toContain('172.17.0.1/16');
    expect(await host.getSysctl('net.ipv4.ip_forward')).toBe('1');
    expect(await listMasquerades({ ns: host })).toContainEqual({ source: '172.17.0.0/16', exceptOutInterface: 'nw0', tag: `nw:${net.id}` });
    expect(await defaultNetwork({ ns: host })).toBe(net); // idempotent
  });

  it('hands out addresses in order and builds each endpoint as the kernel shows it', async () => {
    expect(e1).toMatchObject({ ip: '172.17.0.2', address: '172.17.0.2/16', gateway: '172.17.0.1', mac: '02:42:ac:11:00:02', interface: 'eth0', defaultRoute: true, network: 'bridge' });
    expect(e2.ip).toBe('172.17.0.3');
    // Inside: eth0 up with its address and MAC, lo up, default route via the gateway.
    const [eth0] = ipJson(c1, 'addr', 'show', 'dev', 'eth0');
    expect(eth0.flags).toContain('UP');
    expect(eth0.address).toBe('02:42:ac:11:00:02');
    const v4 = eth0.addr_info.filter((a: { family: string }) => a.family === 'inet');
    expect(v4.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual(['172.17.0.2/16']);
    expect(ipJson(c1, 'link', 'show', 'dev', 'lo')[0].flags).toContain('UP');
    expect(ipJson(c1, 'route', 'show', 'default')).toEqual([expect.objectContaining({ dst: 'default', gateway: '172.17.0.1', dev: 'eth0' })]);
    // Host side: the veth end on nw0, up, in the network's link group, carrying the committed tag.
    const ports = ipJson(host, 'link', 'show', 'master', 'nw0');
    const h1 = ports.find((p: { ifname: string }) => p.ifname === e1.hostInterface);
    expect(h1.flags).toContain('UP');
    expect(h1.ifalias).toMatch(new RegExp(`^nw1e i=${e1.id} N=${net.id} a=172.17.0.2 n=one if=eth0 ns=`));
    expect(h1.link_netnsid).toBeTypeOf('number');
    const inspect = await net.inspect();
    expect(inspect.healthy).toBe(true);
    expect(inspect.endpoints.map((e) => [e.name, e.ip, e.healthy])).toEqual([
      ['one', '172.17.0.2', true],
      ['two', '172.17.0.3', true],
    ]);
    expect(String(h1.group)).toBe(String(inspect.linkGroup)); // `ip link del group N` removes them all
  });

  it('lets containers on the network talk to each other', async () => {
    closers.push(await tcpServer(c1, 80, 'c1'));
    expect(await ask(c2, e1.ip!, 80)).toBe(`c1 ${e2.ip}`);
  });

  it('masquerades traffic to the outside as the host address', async () => {
    closers.push(await tcpServer(outside, 7000, 'internet', OUTSIDE_IP));
    expect(await ask(c1, OUTSIDE_IP, 7000)).toBe(`internet ${HOST_IP}`);
  });

  it('publishes ports in Docker forms: fixed, random, UDP — outside → host → container', async () => {
    const [p] = await net.publish(e1, '8080:80');
    expect(p).toMatchObject({ hostPort: 8080, protocol: 'tcp', to: { address: '172.17.0.2', port: 80 }, tag: `nw:${net.id}:${e1.id}` });
    expect(await ask(outside, HOST_IP, 8080)).toBe(`c1 ${OUTSIDE_IP}`);

    closers.push(await tcpServer(c2, 80, 'c2'));
    const [r] = await net.publish(e2, '80');
    expect(r.hostPort).toBeGreaterThanOrEqual(49153);
    expect(r.hostPort).toBeLessThanOrEqual(60999);
    expect(await ask(outside, HOST_IP, r.hostPort)).toBe(`c2 ${OUTSIDE_IP}`);

    closers.push(await udpEcho(c2, 53, 'dns'));
    const [u] = await net.publish(e2, `${HOST_IP}:5353:53/udp`);
    expect(u).toMatchObject({ hostIp: HOST_IP, hostPort: 5353, protocol: 'udp' });
    expect(await udpAsk(outside, HOST_IP, 5353, 'hello')).toBe(`dns ${OUTSIDE_IP} hello`);

    const kernel = await listPublishedPorts({ ns: host });
    expect(kernel.filter((k) => k.tag === `nw:${net.id}:${e2.id}`).map((k) => k.hostPort).sort()).toEqual([5353, r.hostPort].sort());
    expect(e2.ports).toHaveLength(2);
  });

  it('refuses a host port that is already published, changing nothing', async () => {
    const before = await listPublishedPorts({ ns: host });
    const err = await net.publish(e2, '8080:81').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirewallError);
    expect(code(err)).toBe('EADDRINUSE');
    expect(await listPublishedPorts({ ns: host })).toEqual(before);
    expect(e2.ports).toHaveLength(2);
  });

  it('honours a static address, refuses a taken or foreign one, leaving nothing behind', async () => {
    const c3 = await scope.create('nwc');
    const e3 = await net.connect(c3, { ip: '172.17.0.50', aliases: ['fifty'] });
    expect(e3.ip).toBe('172.17.0.50');
    expect(ipJson(c3, 'addr', 'show', 'dev', 'eth0')[0].addr_info[0].local).toBe('172.17.0.50');
    const c4 = await scope.create('nwc');
    const before = await linkNames(host);
    for (const [ip, want] of [
      ['172.17.0.50', 'EADDRINUSE'],
      ['172.17.0.1', 'EADDRINUSE'],
      ['10.9.9.9', 'EADDRNOTAVAIL'],
      ['172.17.255.255', 'EADDRNOTAVAIL'],
    ] as const) {
      const err = await net.connect(c4, { ip }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IpamError);
      expect(code(err)).toBe(want);
    }
    expect(await linkNames(host)).toEqual(before);
    expect(await linkNames(c4)).toEqual(['lo']);
    // Dynamic allocation skips the static one and continues from the lowest free.
    const e4 = await net.connect(c4);
    expect(e4.ip).toBe('172.17.0.4');
  });

  it('refuses to connect a namespace twice or to reuse a name, making nothing', async () => {
    const before = await linkNames(host);
    const twice = await net.connect(c1).catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(NetworkError);
    expect(code(twice)).toBe('EEXIST');
    expect((twice as Error).message).toMatch(/already connected to network bridge/);
    const c5 = await scope.create('nwc');
    const sameName = await net.connect(c5, { name: 'one' }).catch((e: unknown) => e);
    expect(code(sameName)).toBe('EEXIST');
    const sameAlias = await net.connect(c5, { name: 'five', aliases: ['FIFTY'] }).catch((e: unknown) => e);
    expect(code(sameAlias)).toBe('EEXIST');
    expect(await linkNames(host)).toEqual(before);
    expect(await linkNames(c5)).toEqual(['lo']);
  });

  it('disconnects: links, ports and the address go; the address is handed out again', async () => {
    const ports = e2.ports.length;
    expect(ports).toBe(2);
    await net.disconnect(e2);
    expect((await linkNames(host)).includes(e2.hostInterface!)).toBe(false);
    expect(await linkNames(c2)).toEqual(['lo']);
    expect((await listPublishedPorts({ ns: host })).some((p) => p.tag === `nw:${net.id}:${e2.id}`)).toBe(false);
    expect(net.endpoint('two')).toBeUndefined();
    const again = await net.connect(c2, { name: 'two-again' });
    expect(again.ip).toBe('172.17.0.3');
    expect(await ask(c1, OUTSIDE_IP, 7000)).toBe(`internet ${HOST_IP}`);
  });
});

describe('a user-defined network', () => {
  let app: Network;
  let web: Namespace;
  let client: Namespace;
  let eWeb: Endpoint;
  let eClient: Endpoint;
  let bridgeNet: Network;

  beforeAll(async () => {
    bridgeNet = await defaultNetwork({ ns: host });
    app = await createNetwork({ ns: host, name: 'appnet' });
    web = await scope.create('nwc');
    client = await scope.create('nwc');
    eWeb = await app.connect(web, { name: 'web', aliases: ['www'] });
    eClient = await app.connect(client, { name: 'client' });
  });

  it('takes the next free subnet, its own bridge, and is isolated from the default network', async () => {
    expect(app).toMatchObject({ subnet: '172.18.0.0/16', gateway: '172.18.0.1', isDefault: false, dns: true });
    expect(app.interface).toBe(`nw-${app.id.slice(0, 12)}`);
    expect(ipJson(host, 'link', 'show', 'dev', app.interface!)[0].ifalias).toMatch(/^nw1n .* n=appnet d=bridge s=172.18.0.0\/16 g=172.18.0.1$/);
    const iso = await listIsolations({ ns: host });
    expect(iso).toContainEqual(expect.objectContaining({ a: expect.stringMatching(/^(nw0|nw-)/), b: expect.stringMatching(/^(nw0|nw-)/) }));
    expect(iso.some((i) => [i.a, i.b].sort().join() === ['nw0', app.interface!].sort().join())).toBe(true);
  });

  it('resolves the names and aliases of the network at 127.0.0.11, and forwards the rest upstream', async () => {
    expect(eWeb.resolvConf).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    expect(await resolveA(client, 'web')).toEqual([eWeb.ip]);
    expect(await resolveA(client, 'WWW')).toEqual([eWeb.ip]);
    expect(await resolveA(web, 'client')).toEqual([eClient.ip]);
    expect(await resolveA(client, 'example.test')).toEqual(['198.51.100.7']);
    // And the name leads somewhere: TCP to what it resolved to.
    closers.push(await tcpServer(web, 80, 'web'));
    const [ip] = (await resolveA(client, 'www')) as string[];
    expect(await ask(client, ip, 80)).toBe(`web ${eClient.ip}`);
  });

  it('keeps networks apart: default-network containers cannot reach it, and back', async () => {
    const other = await scope.create('nwc');
    const eOther = await bridgeNet.connect(other);
    closers.push(await tcpServer(other, 80, 'other'));
    expect(await unreachable(other, eWeb.ip!, 80)).toBe(true);
    expect(await unreachable(web, eOther.ip!, 80)).toBe(true);
    // Both still get out.
    expect(await ask(web, OUTSIDE_IP, 7000)).toBe(`internet ${HOST_IP}`);
    expect(await ask(other, OUTSIDE_IP, 7000)).toBe(`internet ${HOST_IP}`);
    // The default network has no DNS.
    expect(eOther.resolvConf).not.toMatch(/127\.0\.0\.11/);
  });

  it('a second network on the same namespace is eth1 and keeps the first default route; DNS follows disconnects', async () => {
    const e = await bridgeNet.connect(client, { name: 'client-b' });
    expect(e.interface).toBe('eth1');
    expect(e.defaultRoute).toBe(false);
    expect(ipJson(client, 'route', 'show', 'default')).toEqual([expect.objectContaining({ gateway: '172.18.0.1', dev: 'eth0' })]);
    expect(ipJson(client, 'addr', 'show', 'dev', 'eth1')[0].addr_info[0].local).toBe(e.ip);
    // Leaving the default network keeps DNS; the name of a disconnected endpoint stops resolving.
    await bridgeNet.disconnect(e);
    expect(await resolveA(client, 'web')).toEqual([eWeb.ip]);
    await app.disconnect(eWeb);
    // No longer a name of the network: the query goes upstream (which answers everything).
    expect(await resolveA(client, 'web')).toEqual(['198.51.100.7']);
  });

  it('keeps a default route the namespace already had (made without netweave), and still tags the endpoint complete', async () => {
    const own = await scope.create('nwc');
    ipRun(own, 'link', 'set', 'lo', 'up');
    ipRun(own, 'route', 'add', 'default', 'dev', 'lo');
    const e = await bridgeNet.connect(own, { name: 'has-route' });
    expect(e.defaultRoute).toBe(false);
    expect(ipJson(own, 'route', 'show', 'default')).toEqual([expect.objectContaining({ dev: 'lo' })]);
    expect(ipJson(own, 'addr', 'show', 'dev', 'eth0')[0].addr_info[0].local).toBe(e.ip);
    const found = (await bridgeNet.inspect()).endpoints.find((x) => x.name === 'has-route');
    expect(found).toMatchObject({ ip: e.ip, healthy: true });
    await bridgeNet.disconnect(e);
  });

  it('lists networks like docker network ls', async () => {
    const all = await listNetworks({ ns: host });
    expect(all.map((n) => [n.name, n.driver])).toEqual([
      ['appnet', 'bridge'],
      ['bridge', 'bridge'],
      ['host', 'host'],
      ['none', 'none'],
    ]);
  });
});

describe('refusals leave nothing behind', () => {
  const state = async () => ({
    links: await linkNames(host),
    masq: await listMasquerades({ ns: host }),
    iso: await listIsolations({ ns: host }),
    ports: await listPublishedPorts({ ns: host }),
  });

  it('overlapping subnets, a taken name, a gateway outside, an unknown driver', async () => {
    const base = await defaultNetwork({ ns: host });
    const before = await state();
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => createNetwork({ ns: host, name: 'overlap', subnet: '172.17.128.0/17' }), 'EADDRINUSE', /overlaps 172.17.0.0\/16 of network bridge/],
      [() => createNetwork({ ns: host, name: base.name }), 'EEXIST', /network bridge already exists/],
      [() => createNetwork({ ns: host, name: 'gw', subnet: '10.50.0.0/24', gateway: '10.51.0.1' }), 'ERR_OUT_OF_RANGE', /gateway 10.51.0.1 is outside subnet 10.50.0.0\/24/],
      [() => createNetwork({ ns: host, name: 'drv', driver: 'nope' }), 'EOPNOTSUPP', /unknown network driver "nope"/],
      [() => createNetwork({ ns: host, name: 'ipv', driver: 'ipvlan', subnet: '10.60.0.0/24', options: { parent: 'nonexistent0' } }), 'ENODEV', /nonexistent0/],
    ];
    for (const [make, want, msg] of cases) {
      const err = await make().catch((e: unknown) => e);
      expect(code(err), String(err)).toBe(want);
      expect((err as Error).message).toMatch(msg);
    }
    expect(await state()).toEqual(before);
  });

  it('runs out of addresses with a clear error', async () => {
    const small = await createNetwork({ ns: host, name: 'small', subnet: '10.70.0.0/29' });
    const made: Endpoint[] = [];
    for (let i = 0; i < 5; i++) made.push(await small.connect(await scope.create('nwc')));
    expect(made.map((e) => e.ip)).toEqual(['10.70.0.2', '10.70.0.3', '10.70.0.4', '10.70.0.5', '10.70.0.6']);
    const last = await scope.create('nwc');
    const err = await small.connect(last).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpamError);
    expect(code(err)).toBe('EADDRNOTAVAIL');
    expect((err as Error).message).toBe('no free address left in 10.70.0.0/29');
    expect(await linkNames(last)).toEqual(['lo']);
    // removeNetwork refuses while endpoints are connected, then force removes everything in one go.
    const busy = await removeNetwork('small', { ns: host }).catch((e: unknown) => e);
    expect(code(busy)).toBe('EBUSY');
    const bridge = small.interface!;
    await removeNetwork('small', { ns: host, force: true });
    const links = await linkNames(host);
    expect(links.includes(bridge)).toBe(false);
    expect(made.some((e) => links.includes(e.hostInterface!))).toBe(false);
    expect((await listMasquerades({ ns: host })).some((m) => m.exceptOutInterface === bridge)).toBe(false);
    expect((await listIsolations({ ns: host })).some((i) => i.a === bridge || i.b === bridge)).toBe(false);
    expect((await listNetworks({ ns: host })).some((n) => n.name === 'small')).toBe(false);
  });

  it('connects many namespaces at once, and disconnects some of them in one request', async () => {
    const busy = await createNetwork({ ns: host, name: 'busy', subnet: '10.71.0.0/24' });
    const nss = await Promise.all(Array.from({ length: 24 }, () => scope.create('nwp')));
    const eps = await Promise.all(nss.map((n, i) => busy.connect(n, { name: `p${i}` })));
    const ips = eps.map((e) => e.ip);
    expect(new Set(ips).size).toBe(24);
    expect(ips.map((ip) => Number(ip!.split('.')[3])).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 2));
    const inspect = await busy.inspect();
    expect(inspect.endpoints.filter((e) => e.healthy)).toHaveLength(24);
    closers.push(await tcpServer(nss[0], 80, 'p0'));
    expect(await ask(nss[23], eps[0].ip!, 80)).toBe(`p0 ${eps[23].ip}`);
    // Half go in one request (moved into the network's scratch group, deleted as a group).
    await busy.disconnect(eps.slice(0, 12));
    const left = ipJson(host, 'link', 'show', 'master', busy.interface!).map((l: { ifname: string }) => l.ifname).sort();
    expect(left).toEqual(eps.slice(12).map((e) => e.hostInterface).sort());
    expect(await linkNames(nss[0])).toEqual(['lo']);
    closers.push(await tcpServer(nss[12], 80, 'p12'));
    expect(await ask(nss[23], eps[12].ip!, 80)).toBe(`p12 ${eps[23].ip}`);
    expect((await busy.inspect()).endpoints.map((e) => e.name).sort()).toEqual(eps.slice(12).map((e) => e.name).sort());
    await removeNetwork(busy, { ns: host, force: true });
  });

  it('an internal network gives no way out: no masquerade, no default route', async () => {
    const internal = await createNetwork({ ns: host, name: 'backend', internal: true });
    const c = await scope.create('nwc');
    const e = await internal.connect(c);
    expect(e.defaultRoute).toBe(false);
    expect(ipJson(c, 'route', 'show', 'default')).toEqual([]);
    expect((await listMasquerades({ ns: host })).some((m) => m.source === internal.subnet)).toBe(false);
    expect(await unreachable(c, OUTSIDE_IP, 7000, 300)).toBe(true);
    const err = await internal.publish(e, '9000:80').catch((x: unknown) => x);
    expect(code(err)).toBe('EOPNOTSUPP');
    await removeNetwork(internal, { ns: host, force: true });
  });
});

describe('connectNew: a container namespace made and connected in one pass', () => {
  let net: Network;
  const made: Namespace[] = [];
  beforeAll(async () => {
    net = await createNetwork({ ns: host, name: 'freshnet', subnet: '10.88.0.0/24' });
  });
  afterAll(() => {
    for (const ns of made) ns.close();
  });
  const netFds = () => openFdsOf('net:');

  it('creates the namespace and the endpoint as the kernel shows them, with three sendmsg calls for all of it', async () => {
    const before = native.stats();
    const e = await net.connectNew({ name: 'fresh1', aliases: ['f1'] });
    const after = native.stats();
    const ns = e.ns!;
    made.push(ns);
    expect(after.sendmsgs - before.sendmsgs).toBe(3); // host request, inside request, tag: the namespace is the chain's first step
    expect(e).toMatchObject({ ip: '10.88.0.2', interface: 'eth0', defaultRoute: true, network: 'freshnet' });
    // Read back over netlink inside the new namespace (it has no name for `ip -n`).
    const links = await listLinks({ ns });
    expect(links.map((l) => [l.name, l.flags.up])).toEqual([
      ['lo', true],
      ['eth0', true],
    ]);
    expect((await listAddresses({ ns, family: 'inet' })).map((a) => a.cidr)).toEqual(['127.0.0.1/8', '10.88.0.2/24']);
    expect((await listRoutes({ ns })).find((r) => r.dst === 'default')).toMatchObject({ gateway: '10.88.0.1' });
    const h = ipJson(host, 'link', 'show', 'dev', e.hostInterface!)[0];
    expect(h.master).toBe(net.interface);
    expect(h.ifalias).toMatch(new RegExp(`^nw1e i=${e.id} N=${net.id} a=10.88.0.2 n=fresh1 `));
    expect((await net.inspect()).endpoints.find((x) => x.id === e.id)?.healthy).toBe(true);
    // The identity the engine sent with the namespace is what fstat says of its fd.
    expect(ns.identity()).toEqual(native.fdIdentity(ns.fd));
  });

  it('carries traffic and resolves names like any endpoint', async () => {
    const a = await net.connectNew({ name: 'fresh2' });
    const b = await net.connectNew({ name: 'fresh3' });
    made.push(a.ns!, b.ns!);
    closers.push(await tcpServer(a.ns!, 80, 'fresh2'));
    expect(await ask(b.ns!, a.ip!, 80)).toBe(`fresh2 ${b.ip}`);
    expect(await resolveA(b.ns!, 'fresh2')).toEqual([a.ip]);
    closers.push(await tcpServer(outside, 7100, 'internet', OUTSIDE_IP));
    expect(await ask(b.ns!, OUTSIDE_IP, 7100)).toBe(`internet ${HOST_IP}`);
  });

  it('leaves nothing behind when the kernel refuses a step: no host link, no namespace descriptor, no address taken', async () => {
    const lonely = await createNetwork({ ns: host, name: 'gonebr', subnet: '10.89.0.0/24' });
    try {
      // The bridge goes behind netweave's back: the host request's IFLA_MASTER names no device.
      ipRun(host, 'link', 'del', lonely.interface!);
      const links = await linkNames(host);
      const fds = netFds();
      const err = await lonely.connectNew().catch((x: unknown) => x);
      expect(err).toBeInstanceOf(NetlinkError);
      expect(code(err)).toBe('EINVAL'); // the kernel's answer to an IFLA_MASTER that names no device
      expect(await linkNames(host)).toEqual(links);
      expect(netFds()).toBe(fds);
      expect(lonely.endpoints).toEqual([]);
      // The address it held is free again: the next one gets it.
      ipRun(host, 'link', 'add', lonely.interface!, 'type', 'bridge');
      ipRun(host, 'link', 'set', lonely.interface!, 'up');
      (lonely as unknown as { rec: { link: { index: number } } }).rec.link.index = ipJson(host, 'link', 'show', 'dev', lonely.interface!)[0].ifindex;
      const e = await lonely.connectNew();
      made.push(e.ns!);
      expect(e.ip).toBe('10.89.0.2');
    } finally {
      await removeNetwork(lonely, { ns: host, force: true }).catch(() => {});
      // The bridge made behind netweave's back carries no tag, so the network is gone for netweave (ENOENT above): what is left of it is prune's.
      await pruneNetworks({ ns: host });
    }
  });

  it('drops the namespace it began making when the driver fails before sending the rest', async () => {
    const rec = (net as unknown as { rec: { link?: unknown } }).rec;
    const link = rec.link;
    const fds = netFds();
    const active = native.stats().active;
    rec.link = undefined; // the driver throws "has no bridge" after the namespace's part went out
    try {
      await expect(net.connectNew({ name: 'dropped' })).rejects.toThrow(/has no bridge/);
    } finally {
      rec.link = link;
    }
    expect(netFds()).toBe(fds);
    expect(native.stats().active).toBe(active);
    expect(net.endpoints.map((e) => e.name)).not.toContain('dropped');
    // Its name and address are free again.
    const e = await net.connectNew({ name: 'dropped' });
    made.push(e.ns!);
    expect(net.endpoints.map((x) => x.name)).toContain('dropped');
  });

  it('refuses bad options and a taken name before anything is made', async () => {
    const fds = netFds();
    await expect(net.connectNew({ name: 'fresh1' })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(net.connectNew({ ip: '10.88.0.2' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(net.connectNew({ bogus: 1 } as never)).rejects.toThrow(TypeError);
    expect(netFds()).toBe(fds);
  });

  it('runs many at once: distinct addresses, every endpoint healthy as the kernel has it', async () => {
    const eps = await Promise.all(Array.from({ length: 12 }, (_, i) => net.connectNew({ name: `many${i}` })));
    made.push(...eps.map((e) => e.ns!));
    expect(new Set(eps.map((e) => e.ip)).size).toBe(12);
    const seen = (await net.inspect()).endpoints.filter((e) => e.name.startsWith('many'));
    expect(seen).toHaveLength(12);
    expect(seen.every((e) => e.healthy)).toBe(true);
    expect(await resolveA(eps[0].ns!, 'many11')).toEqual([eps[11].ip]);
    await net.disconnect(eps);
  });

  it('leaves connects under way alone: prune and inspect running meanwhile neither remove nor list them (their host ends are untagged until the commit)', async () => {
    let settled = false;
    const connects = Promise.all(Array.from({ length: 12 }, (_, i) => net.connectNew({ name: `busy${i}` }))).finally(() => (settled = true));
    const pruned: string[] = [];
    const listed: string[] = [];
    let rounds = 0;
    while (!settled) {
      const [report, view] = await Promise.all([pruneNetworks({ ns: host }), net.inspect()]);
      pruned.push(...report.links.map((l) => l.name));
      listed.push(...view.incomplete.map((i) => i.link));
      rounds++;
    }
    const eps = await connects;
    made.push(...eps.map((e) => e.ns!));
    expect(rounds).toBeGreaterThan(0);
    const busy = new Set(eps.map((e) => e.hostInterface));
    expect(pruned.filter((n) => busy.has(n)), 'removed by prune').toEqual([]);
    expect(listed.filter((n) => busy.has(n)), 'listed as incomplete by inspect').toEqual([]);
    const seen = (await net.inspect()).endpoints.filter((e) => e.name.startsWith('busy'));
    expect(seen.map((e) => e.healthy)).toEqual(Array(12).fill(true));
    await net.disconnect(eps);
  });

  it('disconnects like any endpoint; the namespace stays the caller\'s', async () => {
    const e = await net.connectNew({ name: 'fresh4' });
    made.push(e.ns!);
    await net.disconnect(e);
    expect(await linkNames(host)).not.toContain(e.hostInterface);
    expect((await listLinks({ ns: e.ns! })).map((l) => l.name)).toEqual(['lo']);
  });

  it('works for a driver without a one-pass path too (none: the namespace, loopback up)', async () => {
    const none = await getNetwork('none', { ns: host });
    const e = await none.connectNew();
    made.push(e.ns!);
    expect((await listLinks({ ns: e.ns! })).map((l) => [l.name, l.flags.up])).toEqual([['lo', true]]);
  });
});

describe('the queues of endpoint veths', () => {
  // [host end, container end] as the kernel reports them: [tx, rx] each.
  const queuesOf = async (net: Network, e: Endpoint): Promise<number[][]> => {
    const h = ipJson(host, '-d', 'link', 'show', 'dev', e.hostInterface!)[0];
    const c = (await listLinks({ ns: e.ns! })).find((l) => l.name === e.interface)!;
    return [
      [h.num_tx_queues, h.num_rx_queues],
      [c.numTxQueues!, c.numRxQueues!],
    ];
  };
  const made: Namespace[] = [];
  afterAll(() => {
    for (const ns of made) ns.close();
  });

  it('are one of each by default, on both ends, by connect and connectNew; the option sets another count or the kernel\'s default', async () => {
    const nets: Network[] = [];
    try {
      const one = await createNetwork({ ns: host, name: 'q1', subnet: '10.91.0.0/24' });
      nets.push(one);
      const three = await createNetwork({ ns: host, name: 'q3', subnet: '10.92.0.0/24', options: { queues: 3 } });
      nets.push(three);
      const kernel = await createNetwork({ ns: host, name: 'q0', subnet: '10.93.0.0/24', options: { queues: '0' } });
      nets.push(kernel);
      expect(one.options.queues).toBeUndefined();
      expect(three.options.queues).toBe('3');
      const ns = await scope.create('nwq');
      const connected = await one.connect(ns);
      const fresh = await one.connectNew();
      made.push(fresh.ns!);
      expect(await queuesOf(one, { ...connected, ns })).toEqual([[1, 1], [1, 1]]);
      expect(await queuesOf(one, fresh)).toEqual([[1, 1], [1, 1]]);
      const e3 = await three.connectNew();
      made.push(e3.ns!);
      expect(await queuesOf(three, e3)).toEqual([[3, 3], [3, 3]]);
      // 0: what `ip link add … type veth` gets, one per possible CPU.
      const e0 = await kernel.connectNew();
      made.push(e0.ns!);
      const cpus = possibleCpus();
      expect(await queuesOf(kernel, e0)).toEqual([[cpus, cpus], [cpus, cpus]]);
      // The option is recorded with the network: a new process finds it again.
      const tag = ipJson(host, 'link', 'show', 'dev', three.interface!)[0].ifalias;
      expect(tag).toMatch(/ o\.queues=3( |$)/);
      for (const bad of [-1, 4097, 1.5, 'many']) {
        const err = await createNetwork({ ns: host, name: 'qbad', subnet: '10.94.0.0/24', options: { queues: bad } }).catch((e) => e);
        expect(code(err), String(bad)).toBe('ERR_OUT_OF_RANGE');
        expect(err.message).toMatch(/options\.queues must be an integer in 0\.\.4096/);
      }
      expect((await listNetworks({ ns: host })).map((n) => n.name)).not.toContain('qbad');
    } finally {
      for (const n of nets) await removeNetwork(n, { ns: host, force: true });
    }
  });
});
