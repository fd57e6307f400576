// The network layer's kernel-free parts: tag encoding (what goes into
// IFLA_IFALIAS), interface-group math, names and MACs derived from ids, the
// driver registry and option reading, argument checks that run before any
// syscall.
import { describe, expect, it } from 'vitest';
import {
  decodeTag,
  encodeTag,
  firewallTags,
  groupOf,
  GROUP_BASE,
  GROUP_SLOTS,
  linkNames,
  macFromIp,
  preferredSlot,
  randomId,
  randomMac,
  slotOfGroup,
  TAG_MAX_BYTES,
  type EndpointTag,
  type NetworkTag,
} from '../../src/network/tags.js';
import { networkDriver, networkDriverNames, OptionReader, registerNetworkDriver } from '../../src/network/drivers/index.js';
import { NetworkError } from '../../src/network/errors.js';
import { createNetwork } from '../../src/network/index.js';

const net: NetworkTag = {
  kind: 'n',
  id: '0123456789abcdef',
  name: 'app.net-1',
  driver: 'bridge',
  subnet: '172.18.0.0/16',
  gateway: '172.18.0.1',
  ipRange: '172.18.5.0/24',
  internal: true,
  isDefault: false,
  options: { mtu: '1400', bridge: 'br app', 'odd=key': 'a b,c%d' },
};

const ep: EndpointTag = {
  kind: 'e',
  id: 'fedcba9876543210',
  network: '0123456789abcdef',
  ip: '172.18.0.2',
  name: 'web',
  aliases: ['www', 'api'],
  ifname: 'eth0',
  nsName: 'my ns/ä',
  mac: '02:00:00:00:00:01',
};

describe('tags', () => {
  it('round-trips a network tag, escaping what needs it', () => {
    const text = encodeTag(net);
    expect(text.startsWith('nw1n i=0123456789abcdef ')).toBe(true);
    expect(text).not.toMatch(/ [^ =]+ /); // every field is key=value, no stray spaces
    expect(decodeTag(text)).toEqual(net);
  });

  it('round-trips endpoint tags, complete and pending, and an auxiliary tag', () => {
    expect(decodeTag(encodeTag(ep))).toEqual(ep);
    const pending = { ...ep, kind: 'p' as const, aliases: [], pid: 4242 };
    delete (pending as Partial<EndpointTag>).nsName;
    expect(decodeTag(encodeTag(pending))).toEqual(pending);
    expect(decodeTag(encodeTag({ kind: 'x', network: net.id, role: 'vxlan' }))).toEqual({ kind: 'x', network: net.id, role: 'vxlan' });
  });

  it('the complete and the pending tag differ only in the marker', () => {
    const e = encodeTag(ep);
    const p = encodeTag({ ...ep, kind: 'p' });
    expect(p).toBe(`nw1p${e.slice(4)}`);
  });

  it('reads anything else as no tag, never throwing', () => {
    for (const alias of [undefined, '', 'nw1', 'nw1n', 'nw1q i=0123456789abcdef', 'nw1e i=xyz N=0123456789abcdef n=a if=eth0', 'docker0 bridge', 'nw1n i=0123456789abcdef n=x', 'nw1nx i=1', 'nw1n novalue', 'nw1e i=fedcba9876543210 N=0123456789abcdef n=a']) {
      expect(decodeTag(alias)).toBeUndefined();
    }
  });

  it('refuses a tag that does not fit IFLA_IFALIAS with NetworkError EINVAL', () => {
    const long = { ...ep, aliases: Array.from({ length: 30 }, (_, i) => `alias-number-${i}`) };
    let err: unknown;
    try {
      encodeTag(long, 'connect');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('EINVAL');
    expect((err as Error).message).toMatch(/connect: EINVAL .* more than the 255 of an interface alias/);
    // Right up to the limit fits; one byte more does not.
    const base = { ...ep, aliases: [] as string[] };
    delete (base as Partial<EndpointTag>).nsName;
    delete (base as Partial<EndpointTag>).mac;
    const room = TAG_MAX_BYTES - Buffer.byteLength(encodeTag(base)) - ' A='.length;
    expect(Buffer.byteLength(encodeTag({ ...base, aliases: ['x'.repeat(room)] }))).toBe(TAG_MAX_BYTES);
    expect(() => encodeTag({ ...base, aliases: ['x'.repeat(room + 1)] })).toThrow(NetworkError);
  });

  it('firewall tags name the network and the endpoint', () => {
    expect(firewallTags.network(net.id)).toBe('nw:0123456789abcdef');
    expect(firewallTags.parse(firewallTags.port(net.id, ep.id))).toEqual({ network: net.id, endpoint: ep.id });
    expect(firewallTags.parse(firewallTags.network(net.id))).toEqual({ network: net.id });
    expect(firewallTags.parse('docker:foo')).toBeUndefined();
    expect(firewallTags.parse(undefined)).toBeUndefined();
  });
});

describe('groups, names, MACs', () => {
  it('gives each network slot four groups in netweave range and reads them back', () => {
    expect(groupOf(0, 'endpoints')).toBe(GROUP_BASE);
    expect(groupOf(5, 'infra')).toBe(GROUP_BASE + 21);
    for (const role of ['endpoints', 'infra', 'scratch', 'reap'] as const) {
      expect(slotOfGroup(groupOf(1234, role))).toEqual({ slot: 1234, role });
    }
    expect(slotOfGroup(GROUP_BASE - 1)).toBeUndefined();
    expect(slotOfGroup(groupOf(GROUP_SLOTS - 1, 'reap') + 1)).toBeUndefined();
    expect(slotOfGroup(0)).toBeUndefined();
    expect(preferredSlot('ffff000000000000')).toBeLessThan(GROUP_SLOTS);
  });

  it('derives interface names of at most 15 bytes', () => {
    const id = randomId();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(randomId()).not.toBe(id);
    for (const f of Object.values(linkNames)) expect(Buffer.byteLength(f(id))).toBeLessThanOrEqual(15);
    expect(linkNames.bridge(id)).toBe(`nw-${id.slice(0, 12)}`);
  });

  it('derives Docker-style MACs from addresses and makes locally administered random ones', () => {
    expect(macFromIp('172.17.0.2')).toBe('02:42:ac:11:00:02');
    expect(() => macFromIp('fd00::1')).toThrow(TypeError);
    expect(() => macFromIp('172.17.0.256')).toThrow(TypeError);
    expect(() => macFromIp('172.17.0')).toThrow(TypeError);
    expect(macFromIp('10.255.0.9')).toBe('02:42:0a:ff:00:09');
    const m = randomMac();
    expect(parseInt(m.slice(0, 2), 16) & 3).toBe(2);
  });
});

describe('drivers', () => {
  it('has the built-in drivers registered', () => {
    expect(networkDriverNames().sort()).toEqual(['bridge', 'host', 'ipvlan', 'macvlan', 'none', 'overlay']);
    expect(networkDriver('bridge')!.features.isolated).toBe(true);
    expect(networkDriver('none')!.features.predefined).toBe(true);
  });

  it('refuses a second driver of the same name', () => {
    expect(() => registerNetworkDriver(networkDriver('bridge')!)).toThrow(/already registered/);
  });

  it('reads bridge options under netweave and Docker names and refuses unknown ones', () => {
    const bridge = networkDriver('bridge')!;
    const facts = { name: 'x', isDefault: false, id: '0123456789abcdef' };
    expect(bridge.options({ 'com.docker.network.bridge.name': 'br0', 'com.docker.network.driver.mtu': '1400', masquerade: 'false' }, facts).stored).toEqual({
      bridge: 'br0',
      mtu: '1400',
      masq: '0',
    });
    expect(bridge.options({}, { ...facts, isDefault: true }).stored).toEqual({ bridge: 'nw0' });
    expect(() => bridge.options({ icc: false }, facts)).toThrow(/options.icc is not an option of the bridge driver/);
    expect(() => bridge.options({ mtu: 20 }, facts)).toThrow(RangeError);
    expect(() => bridge.options({ bridgeName: 'br0', 'com.docker.network.bridge.name': 'br1' }, facts)).toThrow(/same option/);
    expect(() => bridge.options({ bridgeName: 'a/b' }, facts)).toThrow(TypeError);
  });

  it('overlay needs a VNI, keeps peers out of the tag and defaults the MTU to 1450', () => {
    const overlay = networkDriver('overlay')!;
    const facts = { name: 'ov', isDefault: false, id: '0123456789abcdef' };
    const o = overlay.options({ vni: 42, peers: ['192.0.2.2', '192.0.2.3'], local: '192.0.2.1' }, facts);
    expect(o.stored).toEqual({ vni: '42', local: '192.0.2.1', mtu: '1450' });
    expect(o.extra).toEqual({ peers: ['192.0.2.2', '192.0.2.3'] });
    expect(() => overlay.options({}, facts)).toThrow(/vni is required/);
    expect(() => overlay.options({ vni: 1, peers: ['nope'] }, facts)).toThrow(/options.peers\[0\]/);
    expect(() => overlay.options({ vni: 1 << 24 }, facts)).toThrow(RangeError);
  });

  it('macvlan and ipvlan need a parent and check their modes', () => {
    const facts = { name: 'lan', isDefault: false, id: '0123456789abcdef' };
    expect(networkDriver('macvlan')!.options({ parent: 'eth0' }, facts).stored).toEqual({ parent: 'eth0', mode: 'bridge' });
    expect(networkDriver('ipvlan')!.options({ parent: 'eth0', ipvlan_mode: 'l3' }, facts).stored).toEqual({ parent: 'eth0', mode: 'l3', flag: 'bridge' });
    expect(() => networkDriver('macvlan')!.options({}, facts)).toThrow(/parent is required/);
    expect(() => networkDriver('macvlan')!.options({ parent: 'eth0', mode: 'l2' }, facts)).toThrow(/mode must be one of/);
  });

  it('OptionReader accepts Docker string forms', () => {
    const r = new OptionReader({ a: 'true', n: '12', l: 'x,y' }, 'test');
    expect(r.bool(['a'])).toBe(true);
    expect(r.int(['n'], 0, 100)).toBe(12);
    expect(r.list(['l'])).toEqual(['x', 'y']);
    expect(r.done()).toEqual({ stored: {}, extra: {} });
    expect(() => new OptionReader({ a: 'yes' }, 't').bool(['a'])).toThrow(/boolean/);
  });
});

describe('createNetwork argument checks (before any syscall)', () => {
  // These throw before the kernel is touched, so they run without root.
  const bad: [string, Record<string, unknown>, RegExp | string][] = [
    ['no name', {}, /name must be a string/],
    ['a name with spaces', { name: 'a b' }, /name "a b" must be/],
    ['an unknown option', { name: 'x', colour: 'red' }, /unknown option "colour"/],
    ['a non-boolean internal', { name: 'x', internal: 'yes' }, /internal must be a boolean/],
    ['a subnet with host bits', { name: 'x', subnet: '10.1.2.3/16' }, /host bits set/],
    ['an IPv6 subnet', { name: 'x', subnet: 'fd00::/64' }, /IPv4 subnets only/],
    ['a gateway outside the subnet', { name: 'x', subnet: '10.1.0.0/16', gateway: '10.2.0.1' }, /gateway 10.2.0.1 is outside subnet 10.1.0.0\/16/],
    ['a gateway without a subnet', { name: 'x', gateway: '10.2.0.1' }, /give subnet too/],
    ['an ip range outside the subnet', { name: 'x', subnet: '10.1.0.0/16', ipRange: '10.9.0.0/24' }, /ipRange 10.9.0.0\/24 is not inside subnet/],
    ['an overlay without subnet', { name: 'x', driver: 'overlay', options: { vni: 5 } }, /subnet is required/],
  ];
  for (const [what, opts, msg] of bad) {
    it(`refuses ${what}`, async () => {
      const err = await createNetwork(opts as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
      expect(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']).toContain((err as { code?: string }).code);
    });
  }

  it('refuses an unknown driver and the predefined names with NetworkError codes', async () => {
    const unknown = await createNetwork({ name: 'x', driver: 'weave' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(NetworkError);
    expect((unknown as NetworkError).code).toBe('EOPNOTSUPP');
    expect((unknown as Error).message).toMatch(/unknown network driver "weave" \(known: bridge/);
    const host = await createNetwork({ name: 'host' }).catch((e: unknown) => e);
    expect((host as NetworkError).code).toBe('EEXIST');
    const second = await createNetwork({ name: 'h2', driver: 'host' }).catch((e: unknown) => e);
    expect((second as NetworkError).code).toBe('EOPNOTSUPP');
  });
});
