// Kernel-free tests of the route codec (struct rtmsg, RTA_*, rtnexthop lists,
// RTAX_* metrics, rta_cacheinfo) over bytes captured on this kernel (6.18):
// RTM_NEWROUTE dump replies, and the requests iproute2 6.1 sends (strace)
// for the same commands netweave encodes.
import { describe, expect, it } from 'vitest';
import { NetlinkParseError } from '../../src/errors.js';
import { checkRoute, decodeRoute, writeRouteRequest, type RouteSpec } from '../../src/route.js';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, Writer } from '../../src/wire/netlink.js';
import {
  decodeMultipath,
  decodeRouteMessage,
  decodeRtaCacheinfo,
  encodeMultipath,
  encodeRtmsg,
  RTA_METRICS,
  RTA_MULTIPATH,
  routeAttrs,
  RTMSG_SIZE,
} from '../../src/wire/route.js';
import { RTM_DELROUTE, RTM_NEWROUTE } from '../../src/wire/rtnetlink.js';
import { hex, message, reencode } from './fixtures.js';

// `ip route add 10.1.0.0/16 via 10.0.0.2 dev v0 table 1000 metric 5`, as dumped.
const TABLE_1000 = hex(
  '02 10 00 00 fc 03 00 01 00000000' + // rtmsg: AF_INET, dst_len 16, src_len 0, tos 0, table 252 (COMPAT), proto boot, scope global, RTN_UNICAST, flags 0
    '0800 0f00 e8030000' + // RTA_TABLE 1000
    '0800 0100 0a010000' + // RTA_DST 10.1.0.0
    '0800 0600 05000000' + // RTA_PRIORITY 5
    '0800 0500 0a000002' + // RTA_GATEWAY 10.0.0.2
    '0800 0400 03000000', // RTA_OIF 3
);

// `ip route add 10.2.0.0/16 nexthop via 10.0.0.2 weight 1 nexthop via 10.0.0.3 weight 2`, as dumped.
const MULTIPATH = hex(
  '02 10 00 00 fe 03 00 01 00000000' + // table main, proto boot, scope global, unicast
    '0800 0f00 fe000000' + // RTA_TABLE 254
    '0800 0100 0a020000' + // RTA_DST 10.2.0.0
    '2400 0900' + // RTA_MULTIPATH, 36 bytes
    '1000 00 00 03000000' + //   rtnexthop: len 16, flags 0, hops 0 (weight 1), ifindex 3
    '0800 0500 0a000002' + //     RTA_GATEWAY 10.0.0.2
    '1000 00 01 03000000' + //   rtnexthop: len 16, flags 0, hops 1 (weight 2), ifindex 3
    '0800 0500 0a000003', //     RTA_GATEWAY 10.0.0.3
);

// `ip route add fd01::/64 via fd00::2 dev v0 mtu 1400`, as dumped.
const V6_MTU = hex(
  '0a 40 00 00 fe 03 00 01 00000000' + // AF_INET6, /64, table main, proto boot, scope 0, unicast
    '0800 0f00 fe000000' + // RTA_TABLE 254
    '1400 0100 fd010000000000000000000000000000' + // RTA_DST fd01::
    '0c00 0800 0800 0200 78050000' + // RTA_METRICS { RTAX_MTU 1400 } (no NLA_F_NESTED)
    '0800 0600 00040000' + // RTA_PRIORITY 1024
    '1400 0500 fd000000000000000000000000000002' + // RTA_GATEWAY fd00::2
    '0800 0400 03000000' + // RTA_OIF 3
    '2400 0c00 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000' + // RTA_CACHEINFO
    '0500 1400 00000000', // RTA_PREF 0 (medium) + 3 pad bytes
);

// The kernel's route for v0's address, from the local table.
const LOCAL = hex(
  '02 20 00 00 ff 02 fe 02 00000000' + // /32, table 255 (local), proto kernel, scope host, RTN_LOCAL
    '0800 0f00 ff000000' + // RTA_TABLE 255
    '0800 0100 0a000001' + // RTA_DST 10.0.0.1
    '0800 0700 0a000001' + // RTA_PREFSRC 10.0.0.1
    '0800 0400 03000000', // RTA_OIF 3
);

describe('rtmsg and RTA_* (kernel replies)', () => {
  it('decodes a route in a table above 255 (RTA_TABLE)', () => {
    expect(decodeRouteMessage(TABLE_1000)).toEqual({
      header: { family: 2, dstLen: 16, srcLen: 0, tos: 0, table: 252, protocol: 3, scope: 0, type: 1, flags: 0 },
      attrs: { table: 1000, dst: '10.1.0.0', priority: 5, gateway: '10.0.0.2', oif: 3 },
    });
    expect(decodeRoute(TABLE_1000)).toEqual({
      family: 'inet',
      dst: '10.1.0.0/16',
      tos: 0,
      table: 1000,
      protocol: 'boot',
      scope: 'global',
      type: 'unicast',
      flags: [],
      rawFlags: 0,
      gateway: '10.0.0.2',
      dev: 3,
      metric: 5,
    });
  });

  it('decodes a multipath route (rtnexthop list, weights)', () => {
    const r = decodeRoute(MULTIPATH);
    expect(r.dst).toBe('10.2.0.0/16');
    expect(r.gateway).toBeUndefined();
    expect(r.nexthops).toEqual([
      { gateway: '10.0.0.2', dev: 3, weight: 1, flags: [] },
      { gateway: '10.0.0.3', dev: 3, weight: 2, flags: [] },
    ]);
    const mp = decodeRouteMessage(MULTIPATH).attrs.multipath!;
    expect(decodeMultipath(mp)).toEqual([
      { flags: 0, hops: 0, ifindex: 3, attrs: { gateway: '10.0.0.2' } },
      { flags: 0, hops: 1, ifindex: 3, attrs: { gateway: '10.0.0.3' } },
    ]);
    const w = new Writer();
    encodeMultipath(w, [
      { flags: 0, hops: 0, ifindex: 3, gateway: hex('0a000002') },
      { flags: 0, hops: 1, ifindex: 3, gateway: hex('0a000003') },
    ]);
    // RTA_MULTIPATH header + payload, exactly as the kernel sent it (type 9, no NLA_F_NESTED).
    expect(w.finish()).toEqual(MULTIPATH.subarray(RTMSG_SIZE + 16));
    expect(w.finish().readUInt16LE(2)).toBe(RTA_MULTIPATH);
  });

  it('decodes IPv6 metrics, preference and cacheinfo', () => {
    const r = decodeRoute(V6_MTU);
    expect(r).toMatchObject({ family: 'inet6', dst: 'fd01::/64', gateway: 'fd00::2', dev: 3, metric: 1024, metrics: { mtu: 1400 }, pref: 0 });
    expect(r.cacheinfo).toEqual({ clntref: 0, lastuse: 0, expires: 0, error: 0, used: 0, id: 0, ts: 0, tsage: 0 });
    expect(r.expires).toBeUndefined();
    expect(decodeRoute(LOCAL)).toMatchObject({ dst: '10.0.0.1/32', table: 255, protocol: 'kernel', scope: 'host', type: 'local', src: '10.0.0.1', dev: 3 });
  });

  it('encodes the header and every attribute back to the kernel bytes', () => {
    for (const reply of [TABLE_1000, MULTIPATH, V6_MTU, LOCAL]) {
      const { header } = decodeRouteMessage(reply);
      const w = new Writer(16);
      encodeRtmsg(w, header);
      expect(w.finish()).toEqual(reply.subarray(0, RTMSG_SIZE));
      expect(reencode(routeAttrs, reply, RTMSG_SIZE, [RTA_METRICS])).toEqual(reply.subarray(RTMSG_SIZE));
    }
  });

  it('decodes rta_cacheinfo with a negative expiry field', () => {
    const ci = decodeRtaCacheinfo(hex('01000000 02000000 f4ffffff 00000000 05000000 00000000 00000000 00000000'));
    expect(ci).toEqual({ clntref: 1, lastuse: 2, expires: -12, error: 0, used: 5, id: 0, ts: 0, tsage: 0 });
  });

  it('rejects lying rtnexthop lengths and truncated headers; keeps unknown attributes', () => {
    const bad = Buffer.from(MULTIPATH);
    bad.writeUInt16LE(200, RTMSG_SIZE + 16 + 4); // first rtnexthop claims 200 bytes
    expect(() => decodeRoute(bad)).toThrow(NetlinkParseError);
    expect(() => decodeRoute(TABLE_1000.subarray(0, 10))).toThrow(NetlinkParseError);
    const extra = Buffer.concat([LOCAL, hex('0800 4000 aabbccdd')]); // type 64: unknown
    expect(decodeRoute(extra).unknown).toEqual([{ type: 64, nested: false, value: hex('aabbccdd') }]);
  });
});

/** As iproute2 sends it: with NLM_F_ACK (the library's pipeline leaves it out). */
function encode(spec: RouteSpec, type = RTM_NEWROUTE, flags = NLM_F_CREATE | NLM_F_EXCL, dev?: number, hopDevs: (number | undefined)[] = []): Buffer {
  const w = new Writer();
  writeRouteRequest(w, type, NLM_F_ACK | flags, checkRoute(spec, type === RTM_DELROUTE, 't'), dev, hopDevs);
  return w.finish();
}

describe('route requests (same bytes as iproute2)', () => {
  it('`ip route add 10.1.0.0/16 via 10.0.0.2 dev v0 table 1000 metric 5`', () => {
    expect(encode({ dst: '10.1.0.0/16', gateway: '10.0.0.2', dev: 3, table: 1000, metric: 5 }, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 3)).toEqual(
      message(
        RTM_NEWROUTE,
        0x605,
        '02 10 00 00 00 03 00 01 00000000' + // table 0 in the header (id in RTA_TABLE), proto boot, scope global, unicast
          '0800 0100 0a010000' + // RTA_DST
          '0800 0500 0a000002' + // RTA_GATEWAY
          '0800 0f00 e8030000' + // RTA_TABLE 1000
          '0800 0600 05000000' + // RTA_PRIORITY 5
          '0800 0400 03000000', // RTA_OIF 3
      ),
    );
  });

  it('`ip route add 10.2.0.0/16 nexthop via 10.0.0.2 weight 1 nexthop via 10.0.0.3 weight 2`', () => {
    const spec = { dst: '10.2.0.0/16', nexthops: [{ gateway: '10.0.0.2' }, { gateway: '10.0.0.3', weight: 2 }] };
    expect(encode(spec, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, undefined, [undefined, undefined])).toEqual(
      message(
        RTM_NEWROUTE,
        0x605,
        '02 10 00 00 fe 03 00 01 00000000' + // table main
          '0800 0100 0a020000' + // RTA_DST
          '2400 0900' + // RTA_MULTIPATH
          '1000 00 00 00000000 0800 0500 0a000002' + // weight 1, no dev
          '1000 00 01 00000000 0800 0500 0a000003', // weight 2
      ),
    );
  });

  it('`ip route add fd01::/64 via fd00::2 dev v0 mtu 1400`', () => {
    expect(encode({ dst: 'fd01::/64', gateway: 'fd00::2', dev: 3, metrics: { mtu: 1400 } }, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 3)).toEqual(
      message(
        RTM_NEWROUTE,
        0x605,
        '0a 40 00 00 fe 03 00 01 00000000' +
          '1400 0100 fd010000000000000000000000000000' + // RTA_DST
          '1400 0500 fd000000000000000000000000000002' + // RTA_GATEWAY
          '0800 0400 03000000' + // RTA_OIF
          '0c00 0800 0800 0200 78050000', // RTA_METRICS { RTAX_MTU 1400 }
      ),
    );
  });

  it('`ip route add default via 10.0.0.2`', () => {
    expect(encode({ dst: 'default', gateway: '10.0.0.2' })).toEqual(
      message(RTM_NEWROUTE, 0x605, '02 00 00 00 fe 03 00 01 00000000 0800 0500 0a000002'),
    );
  });

  it('`ip route del 10.1.0.0/16 table 1000`: unset keys are wildcards', () => {
    expect(encode({ dst: '10.1.0.0/16', table: 1000 }, RTM_DELROUTE, 0)).toEqual(
      message(
        RTM_DELROUTE,
        0x5,
        '02 10 00 00 00 00 ff 00 00000000' + // table in RTA_TABLE, proto 0 (any), scope nowhere (any), type 0 (any)
          '0800 0100 0a010000' + // RTA_DST
          '0800 0f00 e8030000', // RTA_TABLE
      ),
    );
  });

  it('default scopes follow iproute2: link without a gateway, host for local, universe with one', () => {
    expect(checkRoute({ dst: '10.3.0.0/16' }, false, 't').scope).toBe(253);
    expect(checkRoute({ dst: '10.3.0.1', type: 'local' }, false, 't').scope).toBe(254);
    expect(checkRoute({ dst: '10.3.0.0/16', type: 'blackhole' }, false, 't').scope).toBe(0);
    expect(checkRoute({ dst: '10.3.0.0/16', gateway: '10.0.0.2' }, false, 't').scope).toBe(0);
    expect(checkRoute({ dst: 'default', family: 'inet6' }, false, 't').family).toBe(10);
    expect(checkRoute({ dst: 'default', gateway: 'fd00::1' }, false, 't').family).toBe(10);
  });

  it('an IPv6 gateway on an IPv4 route travels as RTA_VIA', () => {
    const b = encode({ dst: '10.4.0.0/16', gateway: 'fe80::1', dev: 3 }, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 3);
    // RTA_VIA (18): len 22 = 4 + struct rtvia { u16 AF_INET6; 16 address bytes } + 2 pad
    expect(b.subarray(16 + 12 + 8).toString('hex')).toBe('16001200' + '0a00' + 'fe800000000000000000000000000001' + '0000' + '0800040003000000');
  });

  it('rejects bad routes before any syscall, naming the argument', () => {
    expect(() => checkRoute({ dst: '10.1.2.3/16' }, false, 'addRoute')).toThrow(/host bits set; the network is 10\.1\.0\.0\/16/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', gateway: 'x' }, false, 'addRoute')).toThrow(/gateway/);
    expect(() => checkRoute({ dst: 'fd00::/64', gateway: '10.0.0.1' }, false, 'addRoute')).toThrow(/gateway/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', table: 0 }, false, 'addRoute')).toThrow(/table/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', protocol: 'ospfv9' as never }, false, 'addRoute')).toThrow(/protocol/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', type: 'teleport' as never }, false, 'addRoute')).toThrow(/type/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', metrics: { mtuu: 1 } as never }, false, 'addRoute')).toThrow(/mtuu/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', nexthops: [] }, false, 'addRoute')).toThrow(/nexthops/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', nexthops: [{ weight: 2 }] }, false, 'addRoute')).toThrow(/nexthops\[0\]/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', nexthops: [{ gateway: '10.0.0.1', weight: 300 }] }, false, 'addRoute')).toThrow(/weight/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', gatway: '10.0.0.1' } as never, false, 'addRoute')).toThrow(/unknown option "gatway"/);
    expect(() => checkRoute({ dst: '10.1.0.0/16', cacheinfo: {} } as never, false, 'addRoute')).toThrow(/unknown option/);
    // deleteRoute takes a listed Route: its report-only fields are accepted (and ignored).
    expect(() => checkRoute({ dst: '10.1.0.0/16', flags: [], rawFlags: 0, cacheinfo: {} } as never, true, 'deleteRoute')).not.toThrow();
  });
});
