// Link wire format against byte fixtures: the kernel's own RTM_NEWLINK
// replies (captured on 6.18 from links made by `ip`) and the requests this
// library sends (each accepted by the kernel in test/link.test.ts). Every
// fixture is checked both ways where the format allows: decode == expected
// and encode == bytes.
import { describe, expect, it } from 'vitest';
import { NetlinkParseError } from '../../src/errors.js';
import {
  decodeLink,
  decodeStats64,
  IFF_UP,
  IFLA_AF_SPEC,
  IFLA_XDP,
  linkAttr,
  linkAttrs,
  readIfinfomsg,
  writeIfinfomsg,
  writeLinkBody,
  writeLinkDump,
  writeLinkMessage,
} from '../../src/wire/link.js';
import { linkKind, registeredLinkKinds } from '../../src/wire/link-kinds/index.js';
import { vxlanData } from '../../src/wire/link-kinds/vxlan.js';
import { macvlanData } from '../../src/wire/link-kinds/macvlan.js';
import { Writer, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_ECHO, NLM_F_EXCL, NLM_F_REQUEST, parseMessages } from '../../src/wire/netlink.js';
import { RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from '../../src/wire/rtnetlink.js';

/** Hex lines (spaces ignored) to bytes. */
const hex = (...lines: string[]): Buffer => Buffer.from(lines.join('').replace(/\s+/g, ''), 'hex');
/** n zero bytes as hex. */
const z = (n: number): string => ' 00'.repeat(n);

function build(f: (w: Writer) => void): Buffer {
  const w = new Writer(16);
  f(w);
  return Buffer.from(w.finish());
}

const CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO;

describe('struct ifinfomsg', () => {
  it('encodes and decodes every field', () => {
    const bytes = hex('00 00 01 00 2a 00 00 00 01 00 00 00 01 00 00 00'); // family 0, pad, type 1, index 42, flags IFF_UP, change IFF_UP
    expect(build((w) => writeIfinfomsg(w, { type: 1, index: 42, flags: IFF_UP, change: IFF_UP }))).toEqual(bytes);
    expect(readIfinfomsg(bytes)).toEqual({ family: 0, type: 1, index: 42, flags: 1, change: 1 });
    expect(() => readIfinfomsg(bytes.subarray(0, 15))).toThrow(NetlinkParseError);
  });
});

describe('requests', () => {
  it('createVethPair: the peer\'s ifinfomsg, name, mtu and namespace fd inside VETH_INFO_PEER', () => {
    const bytes = hex(
      '78 00 00 00 10 00 0d 06 00 00 00 00 00 00 00 00', // nlmsghdr: len 120, RTM_NEWLINK, REQUEST|ACK|ECHO|EXCL|CREATE, seq/pid 0 (the engine numbers)
      '00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00', // ifinfomsg: index 0, flags IFF_UP, change IFF_UP
      '0a 00 03 00 76 65 74 68 30 00 00 00', // IFLA_IFNAME "veth0"
      '08 00 04 00 78 05 00 00', // IFLA_MTU 1400
      '44 00 12 80', // IFLA_LINKINFO | NLA_F_NESTED, 68 bytes
      '  09 00 01 00 76 65 74 68 00 00 00 00', // IFLA_INFO_KIND "veth"
      '  34 00 02 80', // IFLA_INFO_DATA | NLA_F_NESTED, 52 bytes
      '    30 00 01 80', // VETH_INFO_PEER | NLA_F_NESTED, 48 bytes
      '      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // the peer's ifinfomsg: all 0 (IFF_UP here would fail the create with ENOTCONN)
      '      09 00 03 00 65 74 68 30 00 00 00 00', // IFLA_IFNAME "eth0"
      '      08 00 04 00 78 05 00 00', // IFLA_MTU 1400
      '      08 00 1c 00 07 00 00 00', // IFLA_NET_NS_FD 7
    );
    const req = {
      ifi: { index: 0, flags: IFF_UP, change: IFF_UP },
      attrs: { ifname: 'veth0', mtu: 1400 },
      kind: 'veth',
      info: { peer: { attrs: { ifname: 'eth0', mtu: 1400, netNsFd: 7 } } },
    };
    expect(build((w) => writeLinkMessage(w, RTM_NEWLINK, CREATE, req))).toEqual(bytes);
    const [m] = parseMessages(bytes);
    expect(m).toMatchObject({ type: RTM_NEWLINK, flags: CREATE });
    const l = decodeLink(m.payload);
    expect(l).toMatchObject({ index: 0, name: 'veth0', mtu: 1400, kind: 'veth', flags: expect.objectContaining({ up: true }) });
    expect(l.info).toEqual({
      peer: { ifi: { family: 0, type: 0, index: 0, flags: 0, change: 0 }, attrs: { ifname: 'eth0', mtu: 1400, netNsFd: 7 } },
    });
  });

  it('setLink by name: the kernel looks the link up by IFLA_IFNAME when ifi_index is 0', () => {
    const bytes = hex(
      '3c 00 00 00 10 00 05 00 00 00 00 00 00 00 00 00', // nlmsghdr: len 60, RTM_NEWLINK, REQUEST|ACK (no CREATE: an existing link)
      '00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00', // ifinfomsg: index 0, flags IFF_UP, change IFF_UP
      '09 00 03 00 65 74 68 30 00 00 00 00', // IFLA_IFNAME "eth0" (selects the link)
      '08 00 04 00 dc 05 00 00', // IFLA_MTU 1500
      '08 00 14 00 77 65 62 00', // IFLA_IFALIAS "web"
    );
    const req = { ifi: { index: 0, flags: IFF_UP, change: IFF_UP }, attrs: { ifname: 'eth0', mtu: 1500, ifalias: 'web' } };
    expect(build((w) => writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, req))).toEqual(bytes);
    expect(decodeLink(parseMessages(bytes)[0].payload)).toMatchObject({ name: 'eth0', mtu: 1500, alias: 'web', rawFlags: IFF_UP });
  });

  it('listLinks: a strict-checked dump with IFLA_EXT_MASK, IFLA_MASTER and a kind filter', () => {
    const bytes = hex(
      '40 00 00 00 12 00 01 03 00 00 00 00 00 00 00 00', // nlmsghdr: len 64, RTM_GETLINK, REQUEST|DUMP
      '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ifinfomsg: all 0 (strict checking refuses anything else)
      '08 00 1d 00 01 00 00 00', // IFLA_EXT_MASK RTEXT_FILTER_VF
      '08 00 0a 00 03 00 00 00', // IFLA_MASTER 3
      '10 00 12 80', // IFLA_LINKINFO | NLA_F_NESTED
      '  09 00 01 00 76 65 74 68 00 00 00 00', // IFLA_INFO_KIND "veth"
    );
    expect(build((w) => writeLinkDump(w, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, { extMask: 1, master: 3, kind: 'veth' }))).toEqual(bytes);
  });

  it('deleteLinkGroup: RTM_DELLINK with ifi_index 0 and IFLA_GROUP', () => {
    const bytes = hex(
      '28 00 00 00 11 00 05 00 00 00 00 00 00 00 00 00', // nlmsghdr: len 40, RTM_DELLINK, REQUEST|ACK
      '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ifinfomsg: index 0
      '08 00 1b 00 05 00 00 00', // IFLA_GROUP 5
    );
    expect(build((w) => writeLinkMessage(w, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, { attrs: { group: 5 } }))).toEqual(bytes);
  });

  it('createVxlan: IFLA_VXLAN_* with the port big-endian and TTL_INHERIT as an NLA_FLAG', () => {
    const bytes = hex(
      '70 00 00 00 10 00 0d 06 00 00 00 00 00 00 00 00', // nlmsghdr: len 112, RTM_NEWLINK, create flags
      '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ifinfomsg
      '08 00 03 00 76 78 30 00', // IFLA_IFNAME "vx0"
      '48 00 12 80', // IFLA_LINKINFO | NLA_F_NESTED
      '  0a 00 01 00 76 78 6c 61 6e 00 00 00', // IFLA_INFO_KIND "vxlan"
      '  38 00 02 80', // IFLA_INFO_DATA | NLA_F_NESTED
      '    08 00 01 00 2a 00 00 00', // IFLA_VXLAN_ID 42
      '    08 00 02 00 0a 00 00 02', // IFLA_VXLAN_GROUP 10.0.0.2 (the unicast remote)
      '    08 00 04 00 0a 00 00 01', // IFLA_VXLAN_LOCAL 10.0.0.1
      '    05 00 07 00 00 00 00 00', // IFLA_VXLAN_LEARNING 0
      '    08 00 0a 00 03 e8 07 d0', // IFLA_VXLAN_PORT_RANGE { low 1000, high 2000 } big-endian
      '    06 00 0f 00 12 b5 00 00', // IFLA_VXLAN_PORT 4789, __be16
      '    04 00 1c 00', // IFLA_VXLAN_TTL_INHERIT, flag (no payload)
    );
    const info = { id: 42, group: '10.0.0.2', local: '10.0.0.1', port: 4789, portRange: Buffer.from([0x03, 0xe8, 0x07, 0xd0]), learning: 0, ttlInherit: Buffer.alloc(0) };
    expect(build((w) => writeLinkMessage(w, RTM_NEWLINK, CREATE, { attrs: { ifname: 'vx0' }, kind: 'vxlan', info }))).toEqual(bytes);
    expect(decodeLink(parseMessages(bytes)[0].payload).info).toEqual({
      vni: 42,
      remote: '10.0.0.2',
      local: '10.0.0.1',
      port: 4789,
      srcPortRange: { low: 1000, high: 2000 },
      learning: false,
      ttlInherit: true,
    });
  });

  it('createMacvlan: IFLA_LINK (the parent), IFLA_NET_NS_FD (born in the target) and the mode', () => {
    const bytes = hex(
      '58 00 00 00 10 00 0d 06 00 00 00 00 00 00 00 00', // nlmsghdr: len 88, RTM_NEWLINK, create flags
      '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ifinfomsg
      '09 00 03 00 65 74 68 30 00 00 00 00', // IFLA_IFNAME "eth0"
      '08 00 05 00 02 00 00 00', // IFLA_LINK 2 (the parent's index, in the sending socket's namespace)
      '08 00 1c 00 09 00 00 00', // IFLA_NET_NS_FD 9
      '1c 00 12 80', // IFLA_LINKINFO | NLA_F_NESTED
      '  0c 00 01 00 6d 61 63 76 6c 61 6e 00', // IFLA_INFO_KIND "macvlan"
      '  0c 00 02 80', // IFLA_INFO_DATA | NLA_F_NESTED
      '    08 00 01 00 04 00 00 00', // IFLA_MACVLAN_MODE 4 (MACVLAN_MODE_BRIDGE)
    );
    expect(build((w) => writeLinkMessage(w, RTM_NEWLINK, CREATE, { attrs: { ifname: 'eth0', link: 2, netNsFd: 9 }, kind: 'macvlan', info: { mode: 4 } }))).toEqual(bytes);
    expect(decodeLink(parseMessages(bytes)[0].payload)).toMatchObject({ name: 'eth0', link: 2, kind: 'macvlan', info: { mode: 'bridge' } });
  });

  it('createBridge: IFLA_BR_STP_STATE and IFLA_BR_FORWARD_DELAY (clock_t)', () => {
    const bytes = hex(
      '4c 00 00 00 10 00 0d 06 00 00 00 00 00 00 00 00', // nlmsghdr: len 76, RTM_NEWLINK, create flags
      '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ifinfomsg
      '08 00 03 00 62 72 30 00', // IFLA_IFNAME "br0"
      '24 00 12 80', // IFLA_LINKINFO | NLA_F_NESTED
      '  0b 00 01 00 62 72 69 64 67 65 00 00', // IFLA_INFO_KIND "bridge"
      '  14 00 02 80', // IFLA_INFO_DATA | NLA_F_NESTED
      '    08 00 01 00 90 01 00 00', // IFLA_BR_FORWARD_DELAY 400 (4 s)
      '    08 00 05 00 01 00 00 00', // IFLA_BR_STP_STATE 1
    );
    expect(build((w) => writeLinkMessage(w, RTM_NEWLINK, CREATE, { attrs: { ifname: 'br0' }, kind: 'bridge', info: { stpState: 1, forwardDelay: 400 } }))).toEqual(bytes);
    expect(decodeLink(parseMessages(bytes)[0].payload).info).toMatchObject({ stpState: 1, forwardDelay: 400 });
  });

  it('refuses options a table does not know, and values out of range', () => {
    expect(() => build((w) => writeLinkBody(w, { attrs: { colour: 'red' } as any }))).toThrow(/link: unknown option "colour"/);
    expect(() => build((w) => writeLinkBody(w, { kind: 'vxlan', info: { vni: 1 } }))).toThrow(/vxlan: unknown option "vni"/);
    expect(() => build((w) => writeLinkBody(w, { kind: 'bridge', info: { priority: 70000 } }))).toThrow(RangeError);
    expect(() => build((w) => writeLinkBody(w, { kind: 'veth', info: { peer: {}, extra: 1 } }))).toThrow(/veth: unknown option "extra"/);
    expect(() => build((w) => writeLinkBody(w, { kind: 'dummy', info: { x: 1 } }))).toThrow(/takes no options/);
    expect(() => build((w) => writeLinkBody(w, { attrs: { address: '02:00:00:00:00' } }))).toThrow(/MAC address/);
  });
});

// `ip link add br0 address 02:00:00:00:00:0b type bridge`
// `ip link add v0 address 02:00:00:00:00:01 mtu 1400 group 7 type veth peer name p0 address 02:00:00:00:00:02`
// `ip link set v0 master br0 alias tag`
// then RTM_GETLINK for v0: the kernel's reply payload (1840 bytes), attribute by attribute.
const AF_SPEC = [
  '8c 00 02 00 88 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00',
  '01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 10 27 00 00 e8 03 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 01 00 00 00 a0 02 0a 00 08 00 01 00 00 00 00 00 14 00 05 00 ff ff 00 00',
  '3b 73 02 00 d8 83 00 00 e8 03 00 00 f4 00 02 00 00 00 00 00 40 00 00 00 78 05 00 00 01 00 00 00',
  '01 00 00 00 01 00 00 00 01 00 00 00 ff ff ff ff a0 0f 00 00 e8 03 00 00 00 00 00 00 80 3a 09 00',
  '80 51 01 00 03 00 00 00 58 02 00 00 10 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00',
  '60 ea 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00',
  '00 00 00 00 00 00 00 00 10 27 00 00 e8 03 00 00 01 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00',
  '00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 80 ee 36 00',
  '00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 04 00 00 00 00 00 00 ff ff 00 00 ff ff ff ff 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '34 01 03 00 26 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 3c 00 06 00 07 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 00 07 00 00 00 00 00 00 00 00 00 00 00 00 00',
  '00 00 00 00 05 00 08 00 00 00 00 00',
].join(' ');

const V0 = hex(
  '00 00 01 00 04 00 00 00 02 10 00 00 00 00 00 00', // ifinfomsg: family 0, type 1 (ARPHRD_ETHER), index 4, flags 0x1002 (BROADCAST|MULTICAST), change 0
  '07 00 03 00 76 30 00 00', // IFLA_IFNAME "v0"
  '08 00 0d 00 e8 03 00 00', // IFLA_TXQLEN 1000
  '05 00 10 00 02 00 00 00', // IFLA_OPERSTATE 2 (IF_OPER_DOWN)
  '05 00 11 00 00 00 00 00', // IFLA_LINKMODE 0
  '05 00 43 00 00 00 00 00', // IFLA_NETNS_IMMUTABLE 0 (type 67, newer than the uapi headers)
  '08 00 04 00 78 05 00 00', // IFLA_MTU 1400
  '08 00 32 00 44 00 00 00', // IFLA_MIN_MTU 68
  '08 00 33 00 ff ff 00 00', // IFLA_MAX_MTU 65535
  '08 00 1b 00 07 00 00 00', // IFLA_GROUP 7
  '08 00 1e 00 01 00 00 00', // IFLA_PROMISCUITY 1 (bridge port)
  '08 00 3d 00 01 00 00 00', // IFLA_ALLMULTI 1
  '08 00 1f 00 02 00 00 00', // IFLA_NUM_TX_QUEUES 2
  '08 00 28 00 ff ff 00 00', // IFLA_GSO_MAX_SEGS 65535
  '08 00 29 00 00 00 01 00', // IFLA_GSO_MAX_SIZE 65536
  '08 00 3a 00 00 00 01 00', // IFLA_GRO_MAX_SIZE 65536
  '08 00 3f 00 00 00 01 00', // IFLA_GSO_IPV4_MAX_SIZE 65536 (type 63)
  '08 00 40 00 00 00 01 00', // IFLA_GRO_IPV4_MAX_SIZE 65536 (type 64)
  '08 00 3b 00 f8 ff 07 00', // IFLA_TSO_MAX_SIZE 524280
  '08 00 3c 00 ff ff 00 00', // IFLA_TSO_MAX_SEGS 65535
  '08 00 42 00 00 00 00 00', // IFLA_MAX_PACING_OFFLOAD_HORIZON 0 (type 66, kept raw)
  '08 00 20 00 02 00 00 00', // IFLA_NUM_RX_QUEUES 2
  '08 00 0a 00 02 00 00 00', // IFLA_MASTER 2 (br0)
  '05 00 21 00 00 00 00 00', // IFLA_CARRIER 0
  '08 00 14 00 74 61 67 00', // IFLA_IFALIAS "tag"
  '08 00 23 00 01 00 00 00', // IFLA_CARRIER_CHANGES 1
  '08 00 2f 00 00 00 00 00', // IFLA_CARRIER_UP_COUNT 0
  '08 00 30 00 01 00 00 00', // IFLA_CARRIER_DOWN_COUNT 1
  '06 00 44 00 00 00 00 00', // IFLA_HEADROOM 0 (u16, type 68)
  '06 00 45 00 00 00 00 00', // IFLA_TAILROOM 0 (u16, type 69)
  '05 00 27 00 00 00 00 00', // IFLA_PROTO_DOWN 0
  '0a 00 01 00 02 00 00 00 00 01 00 00', // IFLA_ADDRESS 02:00:00:00:00:01
  '0a 00 02 00 ff ff ff ff ff ff 00 00', // IFLA_BROADCAST ff:ff:ff:ff:ff:ff
  'cc 00 17 00' + z(200), // IFLA_STATS64: struct rtnl_link_stats64, 25 x u64, all 0
  '64 00 07 00' + z(96), // IFLA_STATS: the 32-bit copy, dropped
  '0c 00 2b 00 05 00 02 00 00 00 00 00', // IFLA_XDP (nested: IFLA_XDP_ATTACHED 0), kept raw
  '6c 01 12 00', // IFLA_LINKINFO, 364 bytes (the kernel does not set NLA_F_NESTED)
    '09 00 01 00 76 65 74 68 00 00 00 00', // IFLA_INFO_KIND "veth" (veth sends no IFLA_INFO_DATA)
    '0b 00 04 00 62 72 69 64 67 65 00 00', // IFLA_INFO_SLAVE_KIND "bridge"
    '50 01 05 00', // IFLA_INFO_SLAVE_DATA, 336 bytes of IFLA_BRPORT_*:
      '05 00 01 00 00 00 00 00', // STATE 0 (BR_STATE_DISABLED: the port is down)
      '06 00 02 00 20 00 00 00', // PRIORITY 32 (u16)
      '08 00 03 00 02 00 00 00', // COST 2
      '05 00 04 00 00 00 00 00', // MODE 0 (hairpin off)
      '05 00 05 00 00 00 00 00', // GUARD 0
      '05 00 06 00 00 00 00 00', // PROTECT 0
      '05 00 07 00 00 00 00 00', // FAST_LEAVE 0
      '05 00 1c 00 00 00 00 00', // MCAST_TO_UCAST 0
      '05 00 08 00 01 00 00 00', // LEARNING 1
      '05 00 09 00 01 00 00 00', // UNICAST_FLOOD 1
      '05 00 1b 00 01 00 00 00', // MCAST_FLOOD 1
      '05 00 1e 00 01 00 00 00', // BCAST_FLOOD 1
      '05 00 0a 00 00 00 00 00', // PROXYARP 0
      '05 00 0c 00 00 00 00 00', // PROXYARP_WIFI 0
      '0c 00 0d 00 80 00 02 00 00 00 00 0b', // ROOT_ID: struct ifla_bridge_id { prio 80 00, addr 02:00:00:00:00:0b }
      '0c 00 0e 00 80 00 02 00 00 00 00 0b', // BRIDGE_ID 8000.02:00:00:00:00:0b
      '06 00 0f 00 01 80 00 00', // DESIGNATED_PORT 0x8001
      '06 00 10 00 00 00 00 00', // DESIGNATED_COST 0
      '06 00 11 00 01 80 00 00', // ID 0x8001
      '06 00 12 00 01 00 00 00', // NO 1
      '05 00 13 00 00 00 00 00', // TOPOLOGY_CHANGE_ACK 0
      '05 00 14 00 00 00 00 00', // CONFIG_PENDING 0
      '05 00 1d 00 00 00 00 00', // VLAN_TUNNEL 0
      '06 00 1f 00 00 00 00 00', // GROUP_FWD_MASK 0 (u16)
      '05 00 20 00 00 00 00 00', // NEIGH_SUPPRESS 0
      '05 00 23 00 00 00 00 00', // MRP_RING_OPEN 0
      '05 00 24 00 00 00 00 00', // MRP_IN_OPEN 0
      '05 00 21 00 00 00 00 00', // ISOLATED 0
      '05 00 27 00 00 00 00 00', // LOCKED 0
      '05 00 28 00 00 00 00 00', // MAB 0 (type 40)
      '05 00 2b 00 00 00 00 00', // NEIGH_VLAN_SUPPRESS 0 (type 43)
      '0c 00 15 00 00 00 00 00 00 00 00 00', // MESSAGE_AGE_TIMER 0 (u64)
      '0c 00 16 00 00 00 00 00 00 00 00 00', // FORWARD_DELAY_TIMER 0 (u64)
      '0c 00 17 00 00 00 00 00 00 00 00 00', // HOLD_TIMER 0 (u64)
      '05 00 19 00 01 00 00 00', // MULTICAST_ROUTER 1
      '08 00 25 00 00 02 00 00', // MCAST_EHT_HOSTS_LIMIT 512
      '08 00 26 00 00 00 00 00', // MCAST_EHT_HOSTS_CNT 0
      '08 00 29 00 00 00 00 00', // MCAST_N_GROUPS 0 (type 41)
      '08 00 2a 00 00 00 00 00', // MCAST_MAX_GROUPS 0 (type 42)
  '08 00 05 00 03 00 00 00', // IFLA_LINK 3 (the peer p0)
  '09 00 06 00 6e 6f 6f 70 00 00 00 00', // IFLA_QDISC "noop"
  '30 03 1a 00' + AF_SPEC, // IFLA_AF_SPEC (inet + inet6 per-device settings), kept raw
  '24 00 0e 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // IFLA_MAP: struct rtnl_link_ifmap, kept raw
  '04 00 3e 80', // type 62 | NLA_F_NESTED, empty: kept raw
  '04 00 41 80', // type 65 | NLA_F_NESTED, empty: kept raw
);

describe('the kernel\'s RTM_NEWLINK for a veth that is a bridge port', () => {
  it('decodes every field, the bridge port state, and keeps what it does not lift raw', () => {
    expect(V0.length).toBe(1840);
    const l = decodeLink(V0);
    const { stats, unknown, flags, portInfo, ...rest } = l;
    expect(rest).toEqual({
      index: 4,
      name: 'v0',
      rawFlags: 0x1002,
      type: 1,
      operstate: 'down',
      group: 7,
      txqlen: 1000,
      linkmode: 0,
      netnsImmutable: false,
      mtu: 1400,
      minMtu: 68,
      maxMtu: 65535,
      promiscuity: 1,
      allmulti: 1,
      numTxQueues: 2,
      numRxQueues: 2,
      gsoMaxSegs: 65535,
      gsoMaxSize: 65536,
      groMaxSize: 65536,
      gsoIpv4MaxSize: 65536,
      groIpv4MaxSize: 65536,
      tsoMaxSize: 524280,
      tsoMaxSegs: 65535,
      master: 2,
      carrier: false,
      alias: 'tag',
      carrierChanges: 1,
      carrierUpCount: 0,
      carrierDownCount: 1,
      headroom: 0,
      tailroom: 0,
      protoDown: false,
      mac: '02:00:00:00:00:01',
      broadcast: 'ff:ff:ff:ff:ff:ff',
      kind: 'veth',
      info: {},
      portKind: 'bridge',
      link: 3,
      qdisc: 'noop',
    });
    expect(flags).toMatchObject({ up: false, broadcast: true, multicast: true, running: false, lowerUp: false });
    expect(Object.values(stats!).every((v) => v === 0)).toBe(true);
    expect(Object.keys(stats!)).toHaveLength(25);
    expect(portInfo).toMatchObject({
      state: 'disabled',
      priority: 32,
      cost: 2,
      hairpin: false,
      learning: true,
      unicastFlood: true,
      mcastFlood: true,
      bcastFlood: true,
      isolated: false,
      no: 1,
      id: 0x8001,
    });
    expect(portInfo).toHaveProperty('other.designatedPort', 0x8001);
    expect(portInfo).toHaveProperty('other.mcastEhtHostsLimit', 512);
    expect(portInfo).toHaveProperty('other.holdTimer', 0); // u64 clock_t as a number
    expect(portInfo).toHaveProperty('other.mab', 0);
    // Every type here is in the IFLA table; those not lifted stay readable from the raw payload.
    expect(unknown).toBeUndefined();
    expect(l.raw).toBe(V0);
    expect(linkAttr(l, IFLA_AF_SPEC)).toEqual(hex(AF_SPEC));
    expect(linkAttr(l, IFLA_XDP)).toEqual(hex('05 00 02 00 00 00 00 00'));
    expect(linkAttr(l, 200)).toBeUndefined();
    expect(Object.keys(l)).not.toContain('raw');
    expect(JSON.parse(JSON.stringify(l))).toMatchObject({ name: 'v0', stats: { rxPackets: 0 } });
  });

  it('the ifinfomsg and each IFLA attribute the table lifts re-encode to the kernel\'s bytes', () => {
    expect(build((w) => writeIfinfomsg(w, readIfinfomsg(V0)))).toEqual(V0.subarray(0, 16));
    const back: Record<string, unknown> = { ifname: 'v0', txqlen: 1000, operstate: 2, mtu: 1400, group: 7, master: 2, ifalias: 'tag', address: '02:00:00:00:00:01', link: 3, qdisc: 'noop' };
    for (const [key, value] of Object.entries(back)) {
      const one = build((w) => linkAttrs.encode(w, { [key]: value }));
      expect(V0.includes(one), key).toBe(true);
    }
  });
});

// From the kernel's replies for `ip link add vx0 address 02:00:00:00:00:03 type vxlan id 42
// remote 10.0.0.2 local 10.0.0.1 dstport 4789 nolearning srcport 1000 2000` and
// `ip link add mv0 link p0 type macvlan mode vepa`: the ifinfomsg, IFLA_IFNAME and IFLA_LINKINFO of each.
const VXLAN_INFO_DATA = [
  '08 00 01 00 2a 00 00 00', // IFLA_VXLAN_ID 42
  '08 00 02 00 0a 00 00 02', // IFLA_VXLAN_GROUP 10.0.0.2
  '08 00 04 00 0a 00 00 01', // IFLA_VXLAN_LOCAL 10.0.0.1
  '05 00 05 00 00 00 00 00', // IFLA_VXLAN_TTL 0
  '05 00 1c 00 00 00 00 00', // IFLA_VXLAN_TTL_INHERIT as a u8 0 (an NLA_FLAG in requests)
  '05 00 06 00 00 00 00 00', // IFLA_VXLAN_TOS 0
  '05 00 1d 00 00 00 00 00', // IFLA_VXLAN_DF 0 (unset)
  '08 00 1a 00 00 00 00 00', // IFLA_VXLAN_LABEL 0, __be32
  '08 00 20 00 00 00 00 00', // IFLA_VXLAN_LABEL_POLICY 0 (fixed), type 32
  '05 00 07 00 00 00 00 00', // IFLA_VXLAN_LEARNING 0
  '05 00 0b 00 00 00 00 00', // IFLA_VXLAN_PROXY 0
  '05 00 0c 00 00 00 00 00', // IFLA_VXLAN_RSC 0
  '05 00 0d 00 00 00 00 00', // IFLA_VXLAN_L2MISS 0
  '05 00 0e 00 00 00 00 00', // IFLA_VXLAN_L3MISS 0
  '05 00 19 00 00 00 00 00', // IFLA_VXLAN_COLLECT_METADATA 0
  '08 00 08 00 2c 01 00 00', // IFLA_VXLAN_AGEING 300
  '08 00 09 00 00 00 00 00', // IFLA_VXLAN_LIMIT 0
  '06 00 0f 00 12 b5 00 00', // IFLA_VXLAN_PORT 4789 (__be16)
  '05 00 12 00 01 00 00 00', // IFLA_VXLAN_UDP_CSUM 1
  '05 00 13 00 00 00 00 00', // IFLA_VXLAN_UDP_ZERO_CSUM6_TX 0
  '05 00 14 00 00 00 00 00', // IFLA_VXLAN_UDP_ZERO_CSUM6_RX 0
  '05 00 15 00 00 00 00 00', // IFLA_VXLAN_REMCSUM_TX 0
  '05 00 16 00 00 00 00 00', // IFLA_VXLAN_REMCSUM_RX 0
  '05 00 1f 00 01 00 00 00', // IFLA_VXLAN_LOCALBYPASS 1, type 31
  '08 00 0a 00 03 e8 07 d0', // IFLA_VXLAN_PORT_RANGE { 1000, 2000 }
  '0c 00 21 00 f7 ff ff ff 00 00 00 ff', // IFLA_VXLAN_RESERVED_BITS (struct vxlanhdr), type 33
];
const VX0 = hex(
  '00 00 01 00 05 00 00 00 02 10 00 00 00 00 00 00', // ifinfomsg: type ARPHRD_ETHER, index 5, BROADCAST|MULTICAST
  '08 00 03 00 76 78 30 00', // IFLA_IFNAME "vx0"
  'e8 00 12 00', // IFLA_LINKINFO, 232 bytes
  '  0a 00 01 00 76 78 6c 61 6e 00 00 00', // IFLA_INFO_KIND "vxlan"
  '  d8 00 02 00', // IFLA_INFO_DATA, 216 bytes
  ...VXLAN_INFO_DATA,
);

const MACVLAN_INFO_DATA = [
  '08 00 01 00 02 00 00 00', // IFLA_MACVLAN_MODE 2 (MACVLAN_MODE_VEPA)
  '06 00 02 00 00 00 00 00', // IFLA_MACVLAN_FLAGS 0 (u16)
  '08 00 06 00 00 00 00 00', // IFLA_MACVLAN_MACADDR_COUNT 0
  '08 00 07 00 e8 03 00 00', // IFLA_MACVLAN_BC_QUEUE_LEN 1000
  '08 00 08 00 e8 03 00 00', // IFLA_MACVLAN_BC_QUEUE_LEN_USED 1000
];
const MV0 = hex(
  '00 00 01 00 06 00 00 00 02 10 00 00 00 00 00 00', // ifinfomsg: index 6
  '08 00 03 00 6d 76 30 00', // IFLA_IFNAME "mv0"
  '3c 00 12 00', // IFLA_LINKINFO, 60 bytes
  '  0c 00 01 00 6d 61 63 76 6c 61 6e 00', // IFLA_INFO_KIND "macvlan"
  '  2c 00 02 00', // IFLA_INFO_DATA, 44 bytes
  ...MACVLAN_INFO_DATA,
);

describe('the kernel\'s IFLA_INFO_DATA through the kind tables', () => {
  it('vxlan: vni, remote vs group, port, ranges, booleans; u8 TTL_INHERIT 0 is false', () => {
    const l = decodeLink(VX0);
    expect(l).toMatchObject({ index: 5, name: 'vx0', kind: 'vxlan' });
    expect(l.info).toEqual({
      vni: 42,
      remote: '10.0.0.2',
      local: '10.0.0.1',
      port: 4789,
      srcPortRange: { low: 1000, high: 2000 },
      ttl: 0,
      ttlInherit: false,
      tos: 0,
      df: 'unset',
      label: 0,
      labelPolicy: 'fixed',
      ageing: 300,
      limit: 0,
      learning: false,
      proxy: false,
      rsc: false,
      l2miss: false,
      l3miss: false,
      collectMetadata: false,
      udpCsum: true,
      udpZeroCsum6Tx: false,
      udpZeroCsum6Rx: false,
      remcsumTx: false,
      remcsumRx: false,
      localbypass: true,
      unknown: [{ type: 33, nested: false, value: hex('f7 ff ff ff 00 00 00 ff') }],
    });
  });

  it('vxlan: each attribute the table decodes re-encodes to the kernel\'s bytes', () => {
    for (const line of VXLAN_INFO_DATA) {
      const bytes = hex(line);
      const decoded = vxlanData.decode(bytes);
      const keys = Object.keys(decoded).filter((k) => k !== 'unknown');
      expect(keys).toHaveLength(1);
      expect(build((w) => vxlanData.encode(w, decoded as any)), line).toEqual(bytes);
    }
  });

  it('macvlan: mode by name; each attribute re-encodes', () => {
    expect(decodeLink(MV0)).toMatchObject({ name: 'mv0', kind: 'macvlan', info: { mode: 'vepa', flags: 0, macaddrCount: 0, bcQueueLen: 1000, bcQueueLenUsed: 1000 } });
    for (const line of MACVLAN_INFO_DATA) {
      const bytes = hex(line);
      expect(build((w) => macvlanData.encode(w, macvlanData.decode(bytes) as any)), line).toEqual(bytes);
    }
  });

  it('every registered kind is reachable by name', () => {
    expect(registeredLinkKinds()).toEqual(['bridge', 'dummy', 'ipvlan', 'ipvtap', 'macvlan', 'macvtap', 'tun', 'veth', 'vlan', 'vxlan']);
    expect(linkKind('macvtap')?.data).toBe(macvlanData);
  });
});

describe('what a decoder must survive', () => {
  const ifi = '00 00 01 00 07 00 00 00 00 00 00 00 00 00 00 00';

  it('keeps unknown attribute types and the data of unknown kinds raw', () => {
    const l = decodeLink(
      hex(
        ifi,
        '08 00 03 00 6e 77 30 00', // IFLA_IFNAME "nw0"
        '08 00 f0 00 01 02 03 04', // type 240: not in any table
        '1c 00 12 00', // IFLA_LINKINFO
        '  0c 00 01 00 66 75 74 75 72 65 31 00', // IFLA_INFO_KIND "future1"
        '  0c 00 02 00', // IFLA_INFO_DATA
        '    08 00 01 00 2a 00 00 00', // its type 1
      ),
    );
    expect(l.name).toBe('nw0');
    expect(l.unknown).toEqual([{ type: 240, nested: false, value: hex('01 02 03 04') }]);
    expect(l).toMatchObject({ kind: 'future1', info: { unknown: [{ type: 1, nested: false, value: hex('2a 00 00 00') }] } });
  });

  it('a length that runs past the message is a NetlinkParseError, never an overread', () => {
    expect(() => decodeLink(hex(ifi, '40 00 03 00 6e 77 30 00'))).toThrow(NetlinkParseError);
    expect(() => decodeLink(hex(ifi, '02 00 03 00'))).toThrow(NetlinkParseError);
    expect(() => decodeLink(hex(ifi, '10 00 12 00', '20 00 01 00 78 78 78 78 78 78 78 78'))).toThrow(NetlinkParseError);
    expect(() => decodeLink(hex('00 00 01 00'))).toThrow(NetlinkParseError);
  });

  it('a fixed-size attribute shorter than its type is a NetlinkParseError', () => {
    expect(() => decodeLink(hex(ifi, '06 00 04 00 dc 05 00 00'))).toThrow(/type 4 has 2 bytes, needs 4/); // IFLA_MTU with 2 bytes
    expect(() => decodeLink(hex(ifi, '04 00 10 00'))).toThrow(NetlinkParseError); // IFLA_OPERSTATE with none
  });

  it('trailing bytes shorter than an attribute header are ignored, as the kernel pads', () => {
    expect(decodeLink(hex(ifi, '08 00 03 00 6e 77 30 00', '00 00')).name).toBe('nw0');
  });

  it('IFLA_STATS64 counters are exact numbers past 2^32; a short struct leaves the rest 0', () => {
    const b = Buffer.alloc(200);
    b.writeBigUInt64LE(0x1_0000_0001n, 0); // rx_packets
    b.writeBigUInt64LE(2n ** 52n + 3n, 24); // tx_bytes
    const s = decodeStats64(b);
    expect(s.rxPackets).toBe(0x1_0000_0001);
    expect(s.txBytes).toBe(2 ** 52 + 3);
    expect(s.rxOtherhostDropped).toBe(0);
    expect(decodeStats64(b.subarray(0, 8))).toMatchObject({ rxPackets: 0x1_0000_0001, txPackets: 0 });
  });
});
