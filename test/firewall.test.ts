// The high-level firewall against the real kernel, with real packets: a
// `host` namespace with bridges and an uplink to an `outside` namespace (the
// internet), containers on the bridges, servers and clients as in-process
// sockets. Built with netweave's own link/address/route calls.
//
//   outside 203.0.113.2/24, 2001:db8:1::2/64  (no route to the containers)
//      | eth0
//      | up0   host 203.0.113.1/24, 2001:db8:1::1/64
//   host: br0 172.18.0.1/16 fd00:18::1/64     br1 172.19.0.1/16
//      |              |                          |
//   c1 172.18.0.10  c2 172.18.0.20            c3 172.19.0.10
//      fd00:18::10
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAddress } from '../src/address.js';
import { NetlinkError } from '../src/errors.js';
import {
  addMasquerade,
  enableForwarding,
  FirewallError,
  isolateNetworks,
  listIsolations,
  listMasquerades,
  listPublishedPorts,
  publishPort,
  publishPorts,
  removeFirewall,
  removeIsolation,
  removeMasquerade,
  unpublishPort,
  watchFirewall,
  type FirewallWatcher,
  type PublishOptions,
  type Reapplied,
} from '../src/firewall/index.js';
import { addressView } from '../src/firewall/addresses.js';
import { FAMILY, postRuleExprs, TABLE } from '../src/firewall/layout.js';
import { resetStates, stateOf } from '../src/firewall/state.js';
import { change } from '../src/firewall/sync.js';
import { attachToBridge, createBridge, createVethPair } from '../src/link-kinds/index.js';
import { setLinkUp } from '../src/link.js';
import type { Namespace } from '../src/namespace.js';
import { buildExprs, getGeneration, listRules, listTables, sameExprs, watchNftables } from '../src/nft/index.js';
import { addRoute } from '../src/route.js';
import { NsScope, openFdsOf } from './helpers.js';
import { nft, nftJson } from './nft-oracle.js';

const scope = new NsScope();
let outside: Namespace;
let host: Namespace;
let c1: Namespace;
let c2: Namespace;
let c3: Namespace;
const servers: net.Server[] = [];

async function container(name: string, bridge: string, cidr: string, gateway: string, v6?: [string, string]): Promise<Namespace> {
  const ns = await scope.create(name);
  await setLinkUp('lo', { ns });
  const hostEnd = `v${ns.name!.slice(-8)}`;
  await createVethPair({ name: hostEnd, peer: { name: 'eth0', ns }, ns: host, up: true });
  await attachToBridge(hostEnd, bridge, { ns: host, up: true });
  await addAddress('eth0', cidr, { ns });
  await addRoute({ dst: 'default', gateway, ns });
  if (v6) {
    await addAddress('eth0', v6[0], { ns, nodad: true });
    await addRoute({ dst: 'default', gateway: v6[1], ns });
  }
  return ns;
}

/** A TCP server answering every connection with `<name> <peer address>`. */
async function serve(ns: Namespace, name: string, port: number, host?: string): Promise<void> {
  const srv = ns.createServer((s) => s.end(`${name} ${s.remoteAddress}`));
  await srv.listenAsync({ port, host });
  servers.push(srv);
}

/** Connects from ns and returns what the server said; rejects on refusal or after `timeout` ms. */
async function ask(ns: Namespace, hostAddr: string, port: number, timeout = 1500): Promise<string> {
  const s = await ns.connect({ host: hostAddr, port, timeout });
  let data = '';
  s.on('data', (d) => (data += d));
  const timer = setTimeout(() => s.destroy(new Error('no answer')), timeout);
  try {
    await once(s, 'end');
  } finally {
    clearTimeout(timer);
    s.destroy();
  }
  return data;
}

/** The error code of a connection that must fail (refused or timed out). */
const failure = (ns: Namespace, a: string, port: number) =>
  ask(ns, a, port, 700).then(
    (said) => `answered: ${said}`,
    (e) => e.code ?? e.message,
  );

/** One UDP round trip from ns to addr:port; the answer, or 'timeout'. */
async function udpAsk(ns: Namespace, addr: string, port: number, timeout = 1500): Promise<string> {
  const s = await ns.createDgram({ type: addr.includes(':') ? 'udp6' : 'udp4' });
  try {
    const reply = once(s, 'message').then(([m]) => String(m));
    s.send('ping', port, addr);
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), timeout)));
    const out = await Promise.race([reply, t]);
    clearTimeout(timer);
    return out;
  } finally {
    s.close();
  }
}

const ruleset = () => nftJson(host, 'list', 'ruleset');

beforeAll(async () => {
  outside = await scope.create('fwo');
  host = await scope.create('fwh');
  await setLinkUp('lo', { ns: outside });
  await setLinkUp('lo', { ns: host });
  await createVethPair({ name: 'up0', peer: { name: 'eth0', ns: outside }, ns: host, up: true });
  await addAddress('up0', '203.0.113.1/24', { ns: host });
  await addAddress('eth0', '203.0.113.2/24', { ns: outside });
  await addAddress('up0', '2001:db8:1::1/64', { ns: host, nodad: true });
  await addAddress('eth0', '2001:db8:1::2/64', { ns: outside, nodad: true });
  await createBridge({ name: 'br0', ns: host, up: true });
  await createBridge({ name: 'br1', ns: host, up: true });
  await addAddress('br0', '172.18.0.1/16', { ns: host });
  await addAddress('br0', 'fd00:18::1/64', { ns: host, nodad: true });
  await addAddress('br1', '172.19.0.1/16', { ns: host });
  c1 = await container('fwc1', 'br0', '172.18.0.10/16', '172.18.0.1', ['fd00:18::10/64', 'fd00:18::1']);
  c2 = await container('fwc2', 'br0', '172.18.0.20/16', '172.18.0.1');
  c3 = await container('fwc3', 'br1', '172.19.0.10/16', '172.19.0.1');

  await serve(outside, 'outside', 7000);
  await serve(outside, 'outside6', 7006, '::');
  await serve(c1, 'c1', 5000);
  await serve(c1, 'c1v6', 5006, '::');
  await serve(c3, 'c3', 5000);
  const udp = await c1.createDgram({ port: 5353 });
  udp.on('message', (m, r) => udp.send(`c1 udp ${m} from ${r.address}`, r.port, r.address));
  servers.push({ close: () => udp.close() } as unknown as net.Server);

  await enableForwarding({ ns: host, ipv6: true });
  await addMasquerade({ source: '172.18.0.0/16', exceptOutInterface: 'br0', tag: 'nw:net0', ns: host });
  await addMasquerade({ source: '172.19.0.0/16', exceptOutInterface: 'br1', tag: 'nw:net1', ns: host });
  await addMasquerade({ source: 'fd00:18::/64', exceptOutInterface: 'br0', tag: 'nw:net0', ns: host });
});

afterAll(async () => {
  for (const s of servers) s.close();
  await scope.cleanup();
});

describe('masquerade', () => {
  it('a container reaches outside and is seen as the host (IPv4 and IPv6)', async () => {
    expect(await ask(c1, '203.0.113.2', 7000)).toBe('outside 203.0.113.1');
    expect(await ask(c3, '203.0.113.2', 7000)).toBe('outside 203.0.113.1');
    expect(await ask(c1, '2001:db8:1::2', 7006)).toBe('outside6 2001:db8:1::1');
  });

  it('sets the sysctl it needs', async () => {
    expect(await host.getSysctl('net.ipv4.ip_forward')).toBe('1');
    expect(await host.getSysctl('net.ipv6.conf.all.forwarding')).toBe('1');
  });

  it('lists what the kernel holds, tags included; the rules read back are the ones asked for', async () => {
    expect(await listMasquerades({ ns: host })).toEqual([
      { source: '172.18.0.0/16', exceptOutInterface: 'br0', tag: 'nw:net0' },
      { source: '172.19.0.0/16', exceptOutInterface: 'br1', tag: 'nw:net1' },
      { source: 'fd00:18::/64', exceptOutInterface: 'br0', tag: 'nw:net0' },
    ]);
    const post = await listRules({ ns: host, family: FAMILY, table: TABLE, chain: 'post' });
    const want = [
      { kind: 'masq', family: 4, source: '172.18.0.0/16', exceptOutInterface: 'br0' },
      { kind: 'hairpin', family: 4, source: '172.18.0.0/16', iface: 'br0' },
      { kind: 'local', family: 4, iface: 'br0' },
      { kind: 'masq', family: 4, source: '172.19.0.0/16', exceptOutInterface: 'br1' },
      { kind: 'hairpin', family: 4, source: '172.19.0.0/16', iface: 'br1' },
      { kind: 'local', family: 4, iface: 'br1' },
      { kind: 'masq', family: 6, source: 'fd00:18::/64', exceptOutInterface: 'br0' },
      { kind: 'hairpin', family: 6, source: 'fd00:18::/64', iface: 'br0' },
    ] as const;
    expect(post).toHaveLength(want.length);
    const tags = ['nw:net0', 'nw:net0', 'nw:net0', 'nw:net1', 'nw:net1', 'nw:net1', 'nw:net0', 'nw:net0'];
    want.forEach((w, i) => {
      expect(sameExprs(buildExprs(FAMILY, postRuleExprs(w)), post[i].exprs), `rule ${i}`).toBe(true);
      expect(post[i].comment).toBe(tags[i]);
    });
  });

  it('nft parses what netweave wrote', () => {
    const list = ruleset();
    const rules = list.filter((o) => o.rule?.chain === 'post').map((o) => o.rule.expr);
    expect(rules[0]).toEqual([
      { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: '172.18.0.0', len: 16 } } } },
      { match: { op: '!=', left: { meta: { key: 'oifname' } }, right: 'br0' } },
      { masquerade: null },
    ]);
    expect(rules[1][0]).toEqual({ match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } });
    const map = list.find((o) => o.map?.name === 'pub4')?.map;
    expect(map).toMatchObject({ family: 'inet', table: 'netweave', type: ['inet_proto', 'inet_service'], map: 'ipv4_addr . inet_service' });
    const pre = list.filter((o) => o.rule?.chain === 'pre').map((o) => o.rule.expr);
    expect(pre).toHaveLength(4);
    expect(pre[1].at(-1)).toEqual({ dnat: { family: 'ip', addr: { map: { key: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] }, data: '@pub4' } } } });
  });

  it('is idempotent, and a new tag replaces the old one', async () => {
    const before = (await listRules({ ns: host, family: FAMILY, table: TABLE, chain: 'post' })).length;
    await addMasquerade({ source: '172.19.0.5/16', exceptOutInterface: 'br1', tag: 'nw:net1', ns: host });
    expect(await listRules({ ns: host, family: FAMILY, table: TABLE, chain: 'post' })).toHaveLength(before);
    await addMasquerade({ source: '172.19.0.0/16', exceptOutInterface: 'br1', tag: 'nw:renamed', ns: host });
    expect((await listMasquerades({ ns: host })).find((m) => m.source === '172.19.0.0/16')?.tag).toBe('nw:renamed');
    expect(await listRules({ ns: host, family: FAMILY, table: TABLE, chain: 'post' })).toHaveLength(before);
    expect(await ask(c3, '203.0.113.2', 7000)).toBe('outside 203.0.113.1');
  });

  it('removal takes its rules, keeps a bridge loopback rule still in use, and stops the translation', async () => {
    const ns = await scope.create('fwm');
    await createBridge({ name: 'brx', ns, up: true });
    await addMasquerade({ source: '10.1.0.0/24', exceptOutInterface: 'brx', ns });
    await addMasquerade({ source: '10.2.0.0/24', exceptOutInterface: 'brx', ns });
    await addMasquerade({ source: '10.3.0.0/24', ns });
    const kinds = async () => nftJson(ns, 'list', 'chain', 'inet', 'netweave', 'post').filter((o) => o.rule).length;
    expect(await kinds()).toBe(3 + 2 + 1);
    expect(await removeMasquerade({ source: '10.1.0.0/24', exceptOutInterface: 'brx', ns })).toBe(true);
    // The loopback rule of brx stays for 10.2.0.0/24.
    expect(await kinds()).toBe(2 + 1 + 1);
    expect(await removeMasquerade({ source: '10.1.0.0/24', exceptOutInterface: 'brx', ns })).toBe(false);
    expect(await removeMasquerade({ source: '10.2.0.0/24', exceptOutInterface: 'brx', ns })).toBe(true);
    expect(await removeMasquerade({ source: '10.3.0.0/24', ns })).toBe(true);
    expect(await kinds()).toBe(0);
    expect(await listMasquerades({ ns })).toEqual([]);
  });

  it('checks its arguments before anything changes', async () => {
    const before = ruleset();
    await expect(addMasquerade({ source: '172.18.0.0/33', ns: host })).rejects.toThrow(RangeError);
    await expect(addMasquerade({ source: 'nope', ns: host })).rejects.toThrow(TypeError);
    await expect(addMasquerade({ source: '10.0.0.0/8', exceptOutInterface: 'a-name-too-long-for-linux', ns: host })).rejects.toThrow(RangeError);
    await expect(addMasquerade({ source: '10.0.0.0/8', exceptOutInterface: 'br*', ns: host })).rejects.toThrow(TypeError);
    await expect(addMasquerade({ source: '10.0.0.0/8', tag: 'x'.repeat(129), ns: host })).rejects.toThrow(RangeError);
    await expect(addMasquerade({ source: '10.0.0.0/8', sauce: 1, ns: host } as any)).rejects.toThrow(/unknown option "sauce"/);
    expect(ruleset()).toEqual(before);
  });
});

describe('publishing', () => {
  let published: Awaited<ReturnType<typeof publishPort>>;

  it('outside reaches a container through the host (the client address is kept)', async () => {
    published = await publishPort({ hostPort: 8080, protocol: 'tcp', to: '172.18.0.10:5000', tag: 'nw:net0:ep1', ns: host });
    expect(published).toEqual({ hostPort: 8080, protocol: 'tcp', to: { address: '172.18.0.10', port: 5000 }, tag: 'nw:net0:ep1' });
    expect(await ask(outside, '203.0.113.1', 8080)).toBe('c1 203.0.113.2');
  });

  it('the host reaches it through 127.0.0.1 and through its own addresses', async () => {
    expect(await host.getSysctl('net.ipv4.conf.all.route_localnet')).toBe('1');
    expect(await ask(host, '127.0.0.1', 8080)).toBe('c1 172.18.0.1');
    expect(await ask(host, '203.0.113.1', 8080)).toBe('c1 203.0.113.1');
    // From an address of br1's network: masqueraded by that network's rule (it leaves through br0).
    expect(await ask(host, '172.19.0.1', 8080)).toBe('c1 172.18.0.1');
  });

  it('another container on the same bridge reaches it through the host (hairpin), and one on another bridge too', async () => {
    expect(await ask(c2, '203.0.113.1', 8080)).toBe('c1 172.18.0.1');
    // From the other network: masqueraded as it leaves its own (as Docker does).
    expect(await ask(c3, '203.0.113.1', 8080)).toBe('c1 172.18.0.1');
  });

  it('UDP', async () => {
    const p = await publishPort({ hostPort: 5353, protocol: 'udp', to: '172.18.0.10:5353', ns: host });
    expect(p).toEqual({ hostPort: 5353, protocol: 'udp', to: { address: '172.18.0.10', port: 5353 } });
    expect(await udpAsk(outside, '203.0.113.1', 5353)).toBe('c1 udp ping from 203.0.113.2');
    expect(await udpAsk(c2, '203.0.113.1', 5353)).toBe('c1 udp ping from 172.18.0.1');
    // TCP 5353 is not published.
    expect(await failure(outside, '203.0.113.1', 5353)).toBe('ECONNREFUSED');
  });

  it('IPv6', async () => {
    await publishPort({ hostPort: 8443, protocol: 'tcp', to: '[fd00:18::10]:5006', ns: host });
    expect(await ask(outside, '2001:db8:1::1', 8443)).toBe('c1v6 2001:db8:1::2');
    // The IPv4 side of the port is not published.
    expect(await failure(outside, '203.0.113.1', 8443)).toBe('ECONNREFUSED');
  });

  it('picks a free port from the range when none is given', async () => {
    const a = await publishPort({ protocol: 'tcp', to: '172.18.0.10:5000', ns: host });
    expect(a.hostPort).toBeGreaterThanOrEqual(49153);
    expect(a.hostPort).toBeLessThanOrEqual(60999);
    expect(await ask(outside, '203.0.113.1', a.hostPort)).toBe('c1 203.0.113.2');
    // A range of three ports with one bound by a socket and one published: the third is picked.
    await serve(host, 'host', 30001);
    await publishPort({ hostPort: 30002, protocol: 'tcp', to: '172.18.0.10:5000', ns: host });
    const b = await publishPort({ protocol: 'tcp', to: '172.18.0.10:5000', portRange: [30001, 30003], ns: host });
    expect(b.hostPort).toBe(30003);
    await expect(publishPort({ protocol: 'tcp', to: '172.18.0.10:5000', portRange: [30001, 30003], ns: host })).rejects.toMatchObject({
      code: 'EADDRINUSE',
      message: expect.stringContaining('no free tcp port in 30001–30003'),
    });
    for (const p of [a.hostPort, 30002, 30003]) expect(await unpublishPort({ hostPort: p, protocol: 'tcp', ns: host })).toBe(true);
  });

  it('with hostIp only that address is forwarded', async () => {
    await publishPort({ hostIp: '203.0.113.1', hostPort: 8081, protocol: 'tcp', to: '172.18.0.10:5000', ns: host });
    await publishPort({ hostIp: '127.0.0.1', hostPort: 8082, protocol: 'tcp', to: '172.18.0.10:5000', ns: host });
    expect(await ask(outside, '203.0.113.1', 8081)).toBe('c1 203.0.113.2');
    expect(await failure(host, '127.0.0.1', 8081)).toBe('ECONNREFUSED');
    expect(await ask(host, '127.0.0.1', 8082)).toBe('c1 172.18.0.1');
    expect(await failure(outside, '203.0.113.1', 8082)).toBe('ECONNREFUSED');
    // Two addresses may share a port; the any-address port may not.
    await publishPort({ hostIp: '172.18.0.1', hostPort: 8081, protocol: 'tcp', to: '172.18.0.20:5000', ns: host });
    expect(await unpublishPort({ hostIp: '172.18.0.1', hostPort: 8081, protocol: 'tcp', ns: host })).toBe(true);
  });

  it('lists the ports from the kernel, tags included', async () => {
    expect(await listPublishedPorts({ ns: host })).toEqual([
      { hostPort: 5353, protocol: 'udp', to: { address: '172.18.0.10', port: 5353 } },
      { hostPort: 8080, protocol: 'tcp', to: { address: '172.18.0.10', port: 5000 }, tag: 'nw:net0:ep1' },
      { hostIp: '127.0.0.1', hostPort: 8082, protocol: 'tcp', to: { address: '172.18.0.10', port: 5000 } },
      { hostIp: '203.0.113.1', hostPort: 8081, protocol: 'tcp', to: { address: '172.18.0.10', port: 5000 } },
      { hostPort: 8443, protocol: 'tcp', to: { address: 'fd00:18::10', port: 5006 } },
    ].sort((a, b) => (a.to.address.includes(':') ? 1 : 0) - (b.to.address.includes(':') ? 1 : 0) || a.protocol.localeCompare(b.protocol) || a.hostPort - b.hostPort));
    const elems = nftJson(host, 'list', 'map', 'inet', 'netweave', 'pub4')[0].map.elem;
    expect(elems).toContainEqual([{ elem: { val: { concat: ['tcp', 8080] }, comment: 'nw:net0:ep1' } }, { concat: ['172.18.0.10', 5000] }]);
  });

  it('refuses bad input before anything changes', async () => {
    const before = ruleset();
    const bound = host.createServer(() => {});
    await bound.listenAsync({ port: 9100 });
    const udpBound = await host.createDgram({ port: 9101 });
    const cases: [string, () => Promise<unknown>, Record<string, unknown> | (new (...a: any[]) => Error)][] = [
      ['port 0', () => publishPort({ hostPort: 0, protocol: 'tcp', to: '172.18.0.10:80', ns: host }), RangeError],
      ['port 65536', () => publishPort({ hostPort: 65536, protocol: 'tcp', to: '172.18.0.10:80', ns: host }), RangeError],
      ['target port 0', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:0', ns: host }), RangeError],
      ['bad address', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '172.18.0.300:80', ns: host }), TypeError],
      ['no port', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '172.18.0.10', ns: host }), TypeError],
      ['v4 in brackets', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '[172.18.0.10]:80', ns: host }), TypeError],
      ['bad hostIp', () => publishPort({ hostIp: 'localhost', hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80', ns: host }), TypeError],
      ['mixed families', () => publishPort({ hostIp: '::1', hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80', ns: host }), TypeError],
      ['sctp', () => publishPort({ hostPort: 9000, protocol: 'sctp' as any, to: '172.18.0.10:80', ns: host }), TypeError],
      ['bad range', () => publishPort({ protocol: 'tcp', to: '172.18.0.10:80', portRange: [2000, 1000], ns: host }), RangeError],
      ['long tag', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80', tag: 'é'.repeat(65), ns: host }), RangeError],
      ['published', () => publishPort({ hostPort: 8080, protocol: 'tcp', to: '172.18.0.20:80', ns: host }), { code: 'EADDRINUSE', message: expect.stringContaining('already published (to 172.18.0.10:5000)') }],
      ['published on one address', () => publishPort({ hostPort: 8081, protocol: 'tcp', to: '172.18.0.20:80', ns: host }), { code: 'EADDRINUSE' }],
      ['published on any address', () => publishPort({ hostIp: '203.0.113.1', hostPort: 8080, protocol: 'tcp', to: '172.18.0.20:80', ns: host }), { code: 'EADDRINUSE' }],
      ['twice in one call', () => publishPorts([{ hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80' }, { hostPort: 9000, protocol: 'tcp', to: '172.18.0.20:80' }], { ns: host }), { code: 'EADDRINUSE' }],
      ['bound by a TCP socket', () => publishPort({ hostPort: 9100, protocol: 'tcp', to: '172.18.0.10:80', ns: host }), { code: 'EADDRINUSE', message: expect.stringContaining('a socket in the namespace is bound') }],
      ['bound by a UDP socket', () => publishPort({ hostPort: 9101, protocol: 'udp', to: '172.18.0.10:80', ns: host }), { code: 'EADDRINUSE' }],
      ['not a local address', () => publishPort({ hostIp: '203.0.113.99', hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80', ns: host }), { code: 'EADDRNOTAVAIL' }],
      ['outside every network', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '10.99.0.1:80', ns: host }), { code: 'ENETUNREACH' }],
      ['loopback only', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '127.0.0.5:80', ns: host }), { code: 'ENETUNREACH' }],
      ['one bad in a list', () => publishPorts([{ hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80' }, { hostPort: 9001, protocol: 'tcp', to: '10.99.0.1:80' }], { ns: host }), { code: 'ENETUNREACH' }],
      ['unknown option', () => publishPort({ hostPort: 9000, protocol: 'tcp', to: '172.18.0.10:80', hostport: 1, ns: host } as any), TypeError],
    ];
    try {
      for (const [name, call, want] of cases) {
        const err = await call().then(
          () => new Error(`${name}: no error`),
          (e) => e,
        );
        if (typeof want === 'function') expect(err, name).toBeInstanceOf(want);
        else {
          expect(err, name).toBeInstanceOf(FirewallError);
          expect(err, name).toMatchObject({ ...want, operation: name.includes('list') || name === 'twice in one call' ? 'publishPorts' : 'publishPort' });
        }
      }
    } finally {
      bound.close();
      udpBound.close();
    }
    expect(ruleset()).toEqual(before);
  });

  it('a kernel refusal is a NetlinkError named after the public call, with the kernel\'s words', async () => {
    const before = ruleset();
    const err = await change(host, 'publishPort', () => ({
      result: undefined,
      change: () => {},
      incremental: (tx) => void tx.addElements({ family: FAMILY, table: TABLE, name: 'no-such-map', key: 'inet_service' }, [{ key: 1 }]),
    })).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'ENOENT', operation: 'publishPort' });
    expect(err.item).toContain('no-such-map');
    expect(ruleset()).toEqual(before);
    // The rejected change left the cached state alone: the next call works.
    await publishPort({ hostPort: 9200, protocol: 'tcp', to: '172.18.0.10:5000', ns: host });
    expect(await unpublishPort({ hostPort: 9200, protocol: 'tcp', ns: host })).toBe(true);
  });

  it('names the entry of a list that is wrong, and changes nothing', async () => {
    const before = ruleset();
    const list = (bad: Record<string, unknown>) => [{ hostPort: 9400, protocol: 'tcp', to: '172.18.0.10:80' }, { hostPort: 9401, protocol: 'tcp', to: '172.18.0.10:81' }, bad] as unknown as PublishOptions[];
    await expect(publishPorts(list({ hostPort: 9402, protocol: 'tcp', to: '172.18.0.300:80' }), { ns: host })).rejects.toThrow(/ports\[2\]\.to/);
    await expect(publishPorts(list({ hostPort: 0, protocol: 'tcp', to: '172.18.0.10:80' }), { ns: host })).rejects.toThrow(/ports\[2\]\.hostPort/);
    await expect(publishPorts(list({ hostPort: 9402, protocol: 'tcp', to: '172.18.0.10:80', bogus: 1 }), { ns: host })).rejects.toThrow(/ports\[2\]: unknown option "bogus"/);
    expect(ruleset()).toEqual(before);
  });

  it('a list of many ports is probed with one socket dump: the same refusals', async () => {
    const before = ruleset();
    const tcp4 = host.createServer(() => {});
    await tcp4.listenAsync({ port: 9300 });
    const dual = host.createServer(() => {});
    await dual.listenAsync({ port: 9301, host: '::' });
    const udp = await host.createDgram({ port: 9302 });
    const lo = host.createServer(() => {});
    await lo.listenAsync({ port: 9303, host: '127.0.0.1' });
    const many = (extra: PublishOptions) => [...Array.from({ length: 20 }, (_, i) => ({ hostPort: 9400 + i, protocol: 'tcp' as const, to: '172.18.0.10:5000' })), extra];
    try {
      for (const [extra, code] of [
        [{ hostPort: 9300, protocol: 'tcp', to: '172.18.0.10:5000' }, 'EADDRINUSE'],
        [{ hostPort: 9301, protocol: 'tcp', to: '172.18.0.10:5000' }, 'EADDRINUSE'],
        [{ hostPort: 9302, protocol: 'udp', to: '172.18.0.10:5000' }, 'EADDRINUSE'],
        [{ hostPort: 9303, protocol: 'tcp', to: '172.18.0.10:5000' }, 'EADDRINUSE'],
        [{ hostIp: '127.0.0.1', hostPort: 9303, protocol: 'tcp', to: '172.18.0.10:5000' }, 'EADDRINUSE'],
        [{ hostIp: '203.0.113.99', hostPort: 9304, protocol: 'tcp', to: '172.18.0.10:5000' }, 'EADDRNOTAVAIL'],
      ] as [PublishOptions, string][]) {
        await expect(publishPorts(many(extra), { ns: host }), JSON.stringify(extra)).rejects.toMatchObject({ code, operation: 'publishPorts' });
        expect(ruleset()).toEqual(before);
      }
      // Free for another protocol or address: published.
      const ok = await publishPorts(many({ hostIp: '203.0.113.1', hostPort: 9303, protocol: 'tcp', to: '172.18.0.10:5000' }), { ns: host });
      expect(ok).toHaveLength(21);
      expect(await ask(outside, '203.0.113.1', 9419)).toBe('c1 203.0.113.2');
      expect(await ask(outside, '203.0.113.1', 9303)).toBe('c1 203.0.113.2');
      for (const p of ok) expect(await unpublishPort({ hostIp: p.hostIp, hostPort: p.hostPort, protocol: p.protocol, ns: host })).toBe(true);
    } finally {
      for (const s of [tcp4, dual, lo]) s.close();
      udp.close();
    }
    expect(ruleset()).toEqual(before);
  });

  it('publishes many ports in one transaction', async () => {
    const ns = await scope.create('fwn');
    await createBridge({ name: 'brn', ns, up: true });
    await addAddress('brn', '172.30.0.1/16', { ns });
    const gens: number[] = [];
    const list = Array.from({ length: 2000 }, (_, i) => ({ hostPort: 20000 + i, protocol: (i % 2 ? 'udp' : 'tcp') as 'tcp' | 'udp', to: `172.30.${(i >> 8) + 1}.${i & 255}:80`, tag: `t${i}` }));
    const w = watchFirewall({ ns });
    await w.ready;
    const watcher = await watchNftables({ ns, onEvent: (e) => e.type === 'generation' && gens.push(e.id) });
    const out = await publishPorts(list, { ns });
    expect(out).toHaveLength(2000);
    const got = await listPublishedPorts({ ns });
    expect(got).toHaveLength(2000);
    expect(got.find((p) => p.hostPort === 20999)).toEqual({ hostPort: 20999, protocol: 'udp', to: { address: '172.30.4.231', port: 80 }, tag: 't999' });
    await unpublishPort({ hostPort: 20000, protocol: 'tcp', ns });
    // Commits without echo count the generation on (one per commit): the cache is at the kernel's.
    expect(stateOf(ns).generation).toBe(await getGeneration({ ns }));
    // Wait for the second transaction's event: the first was one generation.
    while (gens.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(gens).toHaveLength(2);
    watcher.close();
    w.close();
  });

  it('after unpublish the connection is refused', async () => {
    expect(await unpublishPort({ hostPort: 8080, protocol: 'tcp', ns: host })).toBe(true);
    expect(await unpublishPort({ hostPort: 8080, protocol: 'tcp', ns: host })).toBe(false);
    expect(await failure(outside, '203.0.113.1', 8080)).toBe('ECONNREFUSED');
    expect(await failure(c2, '203.0.113.1', 8080)).toBe('ECONNREFUSED');
    expect(await failure(host, '127.0.0.1', 8080)).toBe('ECONNREFUSED');
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '172.18.0.10:5000', tag: 'nw:net0:ep1', ns: host });
    expect(await ask(outside, '203.0.113.1', 8080)).toBe('c1 203.0.113.2');
  });
});

describe('isolation', () => {
  it('isolated networks cannot reach each other, both ways, until the isolation is removed', async () => {
    // Between two networks traffic is masqueraded as it leaves its own (as with Docker).
    expect(await ask(c1, '172.19.0.10', 5000)).toBe('c3 172.19.0.1');
    expect(await ask(c3, '172.18.0.10', 5000)).toBe('c1 172.18.0.1');
    await isolateNetworks('br0', 'br1', { ns: host });
    await isolateNetworks('br1', 'br0', { ns: host });
    expect(await listIsolations({ ns: host })).toEqual([{ a: 'br0', b: 'br1' }]);
    expect(await failure(c1, '172.19.0.10', 5000)).toBe('ETIMEDOUT');
    expect(await failure(c3, '172.18.0.10', 5000)).toBe('ETIMEDOUT');
    // The rest still flows.
    expect(await ask(c1, '203.0.113.2', 7000)).toBe('outside 203.0.113.1');
    expect(await ask(c2, '172.18.0.10', 5000)).toBe('c1 172.18.0.20');
    expect(await removeIsolation('br1', 'br0', { ns: host })).toBe(true);
    expect(await removeIsolation('br1', 'br0', { ns: host })).toBe(false);
    expect(await listIsolations({ ns: host })).toEqual([]);
    expect(await ask(c1, '172.19.0.10', 5000)).toBe('c3 172.19.0.1');
    expect(await ask(c3, '172.18.0.10', 5000)).toBe('c1 172.18.0.1');
  });

  it('checks its arguments', async () => {
    await expect(isolateNetworks('br0', 'br0', { ns: host })).rejects.toThrow(TypeError);
    await expect(isolateNetworks('br0', '', { ns: host })).rejects.toThrow(TypeError);
    await expect(removeIsolation('br0', 'x'.repeat(16), { ns: host })).rejects.toThrow(RangeError);
  });
});

describe('firewall reload', () => {
  let watcher: FirewallWatcher;
  const reapplied: Reapplied[] = [];
  const adopted: unknown[] = [];

  const next = <T>(event: string) => once(watcher, event) as Promise<T[]>;

  beforeAll(async () => {
    await isolateNetworks('br0', 'br1', { ns: host });
    watcher = watchFirewall({ ns: host });
    watcher.on('reapplied', (r) => reapplied.push(r));
    watcher.on('adopted', (a) => adopted.push(a));
    await watcher.ready;
  });
  afterAll(() => watcher.close());

  it('`nft flush ruleset` → restored in one transaction; traffic flows again', async () => {
    const ports = await listPublishedPorts({ ns: host });
    const masqs = await listMasquerades({ ns: host });
    const gotIt = next<Reapplied>('reapplied');
    nft(host, 'flush', 'ruleset');
    const [info] = await gotIt;
    expect(info).toMatchObject({ reason: 'deleted', ports: ports.length, masquerades: 3, isolations: 2 });
    expect(await listPublishedPorts({ ns: host })).toEqual(ports);
    expect(await listMasquerades({ ns: host })).toEqual(masqs);
    expect(await ask(outside, '203.0.113.1', 8080)).toBe('c1 203.0.113.2');
    expect(await ask(c2, '203.0.113.1', 8080)).toBe('c1 172.18.0.1');
    expect(await ask(c1, '203.0.113.2', 7000)).toBe('outside 203.0.113.1');
    expect(await failure(c1, '172.19.0.10', 5000)).toBe('ETIMEDOUT');
  });

  it('`nft delete table inet netweave` → restored; other tables untouched', async () => {
    nft(host, 'add', 'table', 'ip', 'other');
    nft(host, 'add', 'chain', 'ip', 'other', 'c', '{ type filter hook input priority 0; }');
    nft(host, 'add', 'rule', 'ip', 'other', 'c', 'tcp dport 1234 counter');
    const other = () => nftJson(host, 'list', 'table', 'ip', 'other');
    const before = other();
    const gotIt = next<Reapplied>('reapplied');
    nft(host, 'delete', 'table', 'inet', 'netweave');
    expect((await gotIt)[0].reason).toBe('deleted');
    expect(other()).toEqual(before);
    expect(await ask(outside, '203.0.113.1', 8080)).toBe('c1 203.0.113.2');
  });

  it('`nft flush table` (rules gone, maps kept) → restored as damaged', async () => {
    const gotIt = next<Reapplied>('reapplied');
    nft(host, 'flush', 'table', 'inet', 'netweave');
    expect((await gotIt)[0].reason).toBe('damaged');
    expect(await ask(outside, '203.0.113.1', 8080)).toBe('c1 203.0.113.2');
    expect(await ask(host, '127.0.0.1', 8080)).toBe('c1 172.18.0.1');
  });

  it('does not react to its own changes, and adopts entries another writer changed in an intact table', async () => {
    const count = reapplied.length;
    await publishPort({ hostPort: 8090, protocol: 'tcp', to: '172.18.0.10:5000', ns: host });
    await unpublishPort({ hostPort: 8090, protocol: 'tcp', ns: host });
    const gotIt = next<unknown>('adopted');
    nft(host, 'add', 'element', 'inet', 'netweave', 'pub4', '{ tcp . 8091 : 172.18.0.10 . 5000 }');
    await gotIt;
    expect(reapplied).toHaveLength(count);
    expect((await listPublishedPorts({ ns: host })).some((p) => p.hostPort === 8091)).toBe(true);
    // The adopted element is part of the state: it is restored after the next flush.
    const again = next<Reapplied>('reapplied');
    nft(host, 'flush', 'ruleset');
    await again;
    expect(reapplied).toHaveLength(count + 1);
    expect(await ask(outside, '203.0.113.1', 8091)).toBe('c1 203.0.113.2');
    expect(await unpublishPort({ hostPort: 8091, protocol: 'tcp', ns: host })).toBe(true);
  });

  it('a watcher of a fresh module state learns the table from the kernel and restores it', async () => {
    watcher.close();
    resetStates();
    watcher = watchFirewall({ ns: host });
    watcher.on('reapplied', (r) => reapplied.push(r));
    await watcher.ready;
    const gotIt = next<Reapplied>('reapplied');
    nft(host, 'flush', 'ruleset');
    await gotIt;
    expect(await ask(outside, '203.0.113.1', 8080)).toBe('c1 203.0.113.2');
  });

  it('removeFirewall deletes only netweave\'s table and is not restored', async () => {
    nft(host, 'add', 'table', 'ip', 'other');
    const before = nftJson(host, 'list', 'table', 'ip', 'other');
    await removeFirewall({ ns: host });
    expect((await listTables({ ns: host })).map((t) => `${t.family} ${t.name}`)).toEqual(['ip other']);
    expect(nftJson(host, 'list', 'table', 'ip', 'other')).toEqual(before);
    // A later foreign commit touching nothing of netweave's: still no table.
    const gotIt = next<unknown>('adopted');
    nft(host, 'add', 'table', 'inet', 'netweave');
    await gotIt;
    nft(host, 'delete', 'table', 'inet', 'netweave');
    expect(await listPublishedPorts({ ns: host })).toEqual([]);
    expect(await failure(outside, '203.0.113.1', 8080)).toBe('ECONNREFUSED');
  });
});

describe('a second process', () => {
  it('lists and removes what this one created', async () => {
    const ns = await scope.create('fwp');
    await createBridge({ name: 'brp', ns, up: true });
    await addAddress('brp', '172.31.0.1/16', { ns });
    await addMasquerade({ source: '172.31.0.0/16', exceptOutInterface: 'brp', tag: 'nw:p', ns });
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '172.31.0.10:80', tag: 'nw:p:e1', ns });
    await publishPort({ hostIp: '172.31.0.1', hostPort: 8081, protocol: 'udp', to: '172.31.0.11:53', tag: 'nw:p:e2', ns });
    await isolateNetworks('brp', 'brq', { ns });
    const dir = mkdtempSync(join(tmpdir(), 'nwfw-'));
    const script = join(dir, 'second.mts');
    const src = new URL('../src/', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { Namespace } from '${src}namespace.ts';
import * as fw from '${src}firewall/index.ts';
const ns = Namespace.open(${JSON.stringify(ns.name)});
const seen = { ports: await fw.listPublishedPorts({ ns }), masquerades: await fw.listMasquerades({ ns }), isolations: await fw.listIsolations({ ns }) };
const removed = [
  await fw.unpublishPort({ hostPort: 8080, protocol: 'tcp', ns }),
  await fw.removeMasquerade({ source: '172.31.0.0/16', exceptOutInterface: 'brp', ns }),
  await fw.removeIsolation('brq', 'brp', { ns }),
];
console.log(JSON.stringify({ seen, removed }));
process.exit(0);
`,
    );
    const out = execFileSync('npx', ['tsx', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
    const { seen, removed } = JSON.parse(out.trim().split('\n').pop()!);
    expect(seen).toEqual({
      ports: [
        { hostPort: 8080, protocol: 'tcp', to: { address: '172.31.0.10', port: 80 }, tag: 'nw:p:e1' },
        { hostIp: '172.31.0.1', hostPort: 8081, protocol: 'udp', to: { address: '172.31.0.11', port: 53 }, tag: 'nw:p:e2' },
      ],
      masquerades: [{ source: '172.31.0.0/16', exceptOutInterface: 'brp', tag: 'nw:p' }],
      isolations: [{ a: 'brp', b: 'brq' }],
    });
    expect(removed).toEqual([true, true, true]);
    // This process's cached state is stale: its next change is refused by the
    // kernel (another generation), re-read and re-planned.
    expect(await listPublishedPorts({ ns })).toEqual([seen.ports[1]]);
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '172.31.0.12:80', ns });
    expect(await unpublishPort({ hostIp: '172.31.0.1', hostPort: 8081, protocol: 'udp', ns })).toBe(true);
    expect(await listPublishedPorts({ ns })).toEqual([{ hostPort: 8080, protocol: 'tcp', to: { address: '172.31.0.12', port: 80 } }]);
    expect(nftJson(ns, 'list', 'chain', 'inet', 'netweave', 'post').filter((o) => o.rule)).toEqual([]);
  });
});

describe('in a namespace of its own', () => {
  it('the firewall state of one namespace is not another\'s', async () => {
    const a = await scope.create('fwa');
    await createBridge({ name: 'bra', ns: a, up: true });
    await addAddress('bra', '10.50.0.1/24', { ns: a });
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '10.50.0.2:80', ns: a });
    expect(await listPublishedPorts({ ns: a })).toHaveLength(1);
    expect((await listPublishedPorts({ ns: c1 })).length).toBe(0);
    expect(await listTables({ ns: c1 })).toEqual([]);
    await removeFirewall({ ns: a });
    expect(await listTables({ ns: a })).toEqual([]);
  });
});

describe('publishPort in one pass (the table known and intact)', () => {
  async function ready() {
    const ns = await scope.create('fwq');
    await createBridge({ name: 'brq', ns, up: true });
    await addAddress('brq', '10.58.0.1/24', { ns });
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '10.58.0.2:80', ns }); // loads the state, sets route_localnet
    return ns;
  }
  const mapElements = (ns: Namespace) => JSON.stringify(nftJson(ns, 'list', 'map', 'inet', 'netweave', 'pub4'));

  it('is planned again when another writer committed meanwhile, and its state ends at the kernel\'s generation', async () => {
    const ns = await ready();
    const st = stateOf(ns);
    const known = st.generation;
    nft(ns, 'add', 'element', 'inet', 'netweave', 'pub4', '{ udp . 5353 : 10.58.0.3 . 53 }');
    expect(await getGeneration({ ns })).not.toBe(known);
    await publishPort({ hostPort: 8081, protocol: 'tcp', to: '10.58.0.2:81', ns });
    expect((await listPublishedPorts({ ns })).map((p) => `${p.protocol}/${p.hostPort}`)).toEqual(['tcp/8080', 'tcp/8081', 'udp/5353']);
    expect(st.generation).toBe(await getGeneration({ ns }));
    // And the next one goes through on that state.
    await publishPort({ hostPort: 8082, protocol: 'tcp', to: '10.58.0.2:82', ns });
    expect(st.generation).toBe(await getGeneration({ ns }));
    expect(mapElements(ns)).toContain('8082');
  });

  it('refuses a port another writer published meanwhile, leaving that writer\'s element as it was', async () => {
    const ns = await ready();
    nft(ns, 'add', 'element', 'inet', 'netweave', 'pub4', '{ tcp . 8090 : 10.58.0.9 . 90 }');
    const before = mapElements(ns);
    await expect(publishPort({ hostPort: 8090, protocol: 'tcp', to: '10.58.0.2:80', ns })).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining('already published') });
    expect(mapElements(ns)).toBe(before);
  });

  it('refuses a bound port before anything is sent, as the general path does', async () => {
    const ns = await ready();
    const generation = await getGeneration({ ns });
    const server = ns.createServer(() => {});
    await server.listenAsync({ port: 8095 });
    try {
      await expect(publishPort({ hostPort: 8095, protocol: 'tcp', to: '10.58.0.2:80', ns })).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining('bound') });
      expect(await getGeneration({ ns })).toBe(generation);
    } finally {
      server.close();
    }
  });
});

describe('the addresses publishing checks against', () => {
  // Read once per namespace handle, then kept current from the kernel's address events.
  it('accepts a network whose address another tool added a moment ago (a miss is re-read before it is refused)', async () => {
    const a = await scope.create('fwv');
    await createBridge({ name: 'brv', ns: a, up: true });
    await addAddress('brv', '10.51.0.1/24', { ns: a });
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '10.51.0.2:80', ns: a });
    execFileSync('ip', ['-n', a.name!, 'addr', 'add', '10.52.0.1/24', 'dev', 'brv']);
    await publishPort({ hostPort: 8081, protocol: 'tcp', to: '10.52.0.2:80', ns: a });
    expect((await listPublishedPorts({ ns: a })).map((p) => p.to.address)).toEqual(['10.51.0.2', '10.52.0.2']);
  });

  it('stops accepting a network once its address is removed (the removal event reaches the view)', async () => {
    const a = await scope.create('fwv');
    await createBridge({ name: 'brv', ns: a, up: true });
    await addAddress('brv', '10.53.0.1/24', { ns: a });
    await addAddress('brv', '10.54.0.1/24', { ns: a });
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '10.53.0.2:80', ns: a });
    execFileSync('ip', ['-n', a.name!, 'addr', 'del', '10.54.0.1/24', 'dev', 'brv']);
    const view = addressView(a);
    for (const t0 = Date.now(); view.inNetwork('10.54.0.2') && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 5));
    await expect(publishPort({ hostPort: 8081, protocol: 'tcp', to: '10.54.0.2:80', ns: a })).rejects.toMatchObject({ code: 'ENETUNREACH' });
    expect(view.inNetwork('10.53.0.2')).toBe(true);
  });

  it('answers from a fresh read after a reload, not from what it had worked out before', async () => {
    const a = await scope.create('fwv');
    await createBridge({ name: 'brv', ns: a, up: true });
    await addAddress('brv', '10.56.0.1/24', { ns: a });
    const view = addressView(a);
    await view.read(a);
    expect(view.inNetwork('10.57.0.2')).toBe(false);
    // No events from here on: only the reload can tell the view about the new address.
    (view as unknown as { sub?: { close(): void } }).sub?.close();
    (view as unknown as { sub?: unknown }).sub = undefined;
    execFileSync('ip', ['-n', a.name!, 'addr', 'add', '10.57.0.1/24', 'dev', 'brv']);
    await view.reload(a);
    expect(view.inNetwork('10.57.0.2')).toBe(true);
    expect(view.isLocal('10.57.0.1')).toBe(true);
  });

  it('probes with sockets made ahead in the namespace, refuses a bound port through one, and closes them with the handle', async () => {
    const sockets = () => openFdsOf('socket:');
    const before = sockets();
    const a = await scope.create('fwp');
    await createBridge({ name: 'brp', ns: a, up: true });
    await addAddress('brp', '10.54.0.1/24', { ns: a });
    // The first probe enters the namespace and makes spares there; the next ones each use one up.
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '10.54.0.2:80', ns: a });
    const afterFirst = sockets();
    await publishPort({ hostPort: 8081, protocol: 'tcp', to: '10.54.0.2:80', ns: a });
    expect(sockets()).toBe(afterFirst - 1);
    // A spare is a socket of that namespace: a port bound there is refused through it.
    const server = a.createServer(() => {});
    await server.listenAsync({ port: 8082 });
    try {
      await expect(publishPort({ hostPort: 8082, protocol: 'tcp', to: '10.54.0.2:80', ns: a })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(sockets()).toBe(afterFirst - 2 + 1); // two spares used, the server's socket open
    } finally {
      server.close();
    }
    await a.delete();
    await new Promise((r) => setImmediate(r));
    expect(sockets()).toBe(before);
    // Three probes in one chain, none with a spare: each makes some, and the handle keeps as many as one would.
    const b = await scope.create('fwp');
    await createBridge({ name: 'brp', ns: b, up: true });
    await addAddress('brp', '10.54.0.1/24', { ns: b });
    await publishPorts([8080, 8081, 8082].map((hostPort) => ({ hostPort, protocol: 'tcp' as const, to: '10.54.0.2:80' })), { ns: b });
    expect(sockets()).toBe(afterFirst);
    await b.delete();
  });

  it('lets a deleted namespace go: the view\'s socket inside it closes with the handle', async () => {
    const a = await scope.create('fwv');
    const watcher = await scope.create('fwv');
    await createVethPair({ name: 'inner', peer: { name: 'outer', ns: watcher }, ns: a });
    await createBridge({ name: 'brv', ns: a, up: true });
    await addAddress('brv', '10.55.0.1/24', { ns: a });
    await publishPort({ hostPort: 8080, protocol: 'tcp', to: '10.55.0.2:80', ns: a });
    await a.delete();
    // The kernel frees the namespace once nothing holds it, and the veth's other end goes with it.
    const outerLeft = () => execFileSync('ip', ['-n', watcher.name!, '-o', 'link', 'show'], { encoding: 'utf8' }).includes('outer');
    for (const t0 = Date.now(); outerLeft() && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 20));
    expect(outerLeft()).toBe(false);
  });
});
