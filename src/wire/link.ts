// rtnetlink links (RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK): struct ifinfomsg,
// the IFLA_* attribute table, IFLA_LINKINFO with per-kind tables looked up in
// the link-kind registry, and IFLA_STATS64. Knows no sockets and no API.
import { NetlinkParseError } from '../errors.js';
import { linkKind, type LinkInfoByKind, type PortInfoByKind } from './link-kinds/registry.js';
import { cString, forEachAttr, type RawAttr, type Writer } from './netlink.js';
import { schema, Schema, type Encodable } from './schema.js';

// struct ifinfomsg {
//   unsigned char ifi_family; unsigned char __ifi_pad; unsigned short ifi_type;
//   int ifi_index; unsigned ifi_flags; unsigned ifi_change;
// };
export const IFINFOMSG_LEN = 16;

export interface IfInfoMsg {
  family: number;
  /** ARPHRD_* */
  type: number;
  index: number;
  flags: number;
  change: number;
}

export function writeIfinfomsg(w: Writer, m: Partial<IfInfoMsg> = {}): void {
  const at = w.struct(IFINFOMSG_LEN);
  const b = w.buf;
  b[at] = m.family ?? 0;
  b.writeUInt16LE(m.type ?? 0, at + 2);
  b.writeInt32LE(m.index ?? 0, at + 4);
  b.writeUInt32LE((m.flags ?? 0) >>> 0, at + 8);
  b.writeUInt32LE((m.change ?? 0) >>> 0, at + 12);
}

export function readIfinfomsg(b: Buffer, at = 0): IfInfoMsg {
  if (b.length - at < IFINFOMSG_LEN) throw new NetlinkParseError(`ifinfomsg needs ${IFINFOMSG_LEN} bytes, got ${b.length - at}`);
  return {
    family: b[at],
    type: b.readUInt16LE(at + 2),
    index: b.readInt32LE(at + 4),
    flags: b.readUInt32LE(at + 8),
    change: b.readUInt32LE(at + 12),
  };
}

// enum { IFLA_UNSPEC, IFLA_ADDRESS, ... } (linux/if_link.h)
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_QDISC = 6;
export const IFLA_STATS = 7;
export const IFLA_MASTER = 10;
export const IFLA_PROTINFO = 12;
export const IFLA_TXQLEN = 13;
export const IFLA_MAP = 14;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKMODE = 17;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_PID = 19;
export const IFLA_IFALIAS = 20;
export const IFLA_NUM_VF = 21;
export const IFLA_VFINFO_LIST = 22;
export const IFLA_STATS64 = 23;
export const IFLA_AF_SPEC = 26;
export const IFLA_GROUP = 27;
export const IFLA_NET_NS_FD = 28;
export const IFLA_EXT_MASK = 29;
export const IFLA_PROMISCUITY = 30;
export const IFLA_NUM_TX_QUEUES = 31;
export const IFLA_NUM_RX_QUEUES = 32;
export const IFLA_CARRIER = 33;
export const IFLA_PHYS_PORT_ID = 34;
export const IFLA_CARRIER_CHANGES = 35;
export const IFLA_PHYS_SWITCH_ID = 36;
export const IFLA_LINK_NETNSID = 37;
export const IFLA_PHYS_PORT_NAME = 38;
export const IFLA_PROTO_DOWN = 39;
export const IFLA_GSO_MAX_SEGS = 40;
export const IFLA_GSO_MAX_SIZE = 41;
export const IFLA_PAD = 42;
export const IFLA_XDP = 43;
export const IFLA_EVENT = 44;
export const IFLA_NEW_NETNSID = 45;
export const IFLA_TARGET_NETNSID = 46;
export const IFLA_CARRIER_UP_COUNT = 47;
export const IFLA_CARRIER_DOWN_COUNT = 48;
export const IFLA_NEW_IFINDEX = 49;
export const IFLA_MIN_MTU = 50;
export const IFLA_MAX_MTU = 51;
export const IFLA_PROP_LIST = 52;
export const IFLA_ALT_IFNAME = 53;
export const IFLA_PERM_ADDRESS = 54;
export const IFLA_PROTO_DOWN_REASON = 55;
export const IFLA_PARENT_DEV_NAME = 56;
export const IFLA_PARENT_DEV_BUS_NAME = 57;
export const IFLA_GRO_MAX_SIZE = 58;
export const IFLA_TSO_MAX_SIZE = 59;
export const IFLA_TSO_MAX_SEGS = 60;
export const IFLA_ALLMULTI = 61;
// Newer than these uapi headers; seen from kernel 6.18.
export const IFLA_DEVLINK_PORT = 62;
export const IFLA_GSO_IPV4_MAX_SIZE = 63;
export const IFLA_GRO_IPV4_MAX_SIZE = 64;
export const IFLA_DPLL_PIN = 65;
export const IFLA_MAX_PACING_OFFLOAD_HORIZON = 66;
export const IFLA_NETNS_IMMUTABLE = 67;
export const IFLA_HEADROOM = 68;
export const IFLA_TAILROOM = 69;

// enum { IFLA_INFO_UNSPEC, IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_XSTATS, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA }
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_INFO_XSTATS = 3;
export const IFLA_INFO_SLAVE_KIND = 4;
export const IFLA_INFO_SLAVE_DATA = 5;

// IFLA_EXT_MASK bits (linux/rtnetlink.h)
export const RTEXT_FILTER_VF = 1 << 0;
/** Skips the per-VF statistics only: IFLA_STATS64 is sent regardless (seen on 6.18). */
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

// enum net_device_flags (linux/if.h)
export const IFF_UP = 1 << 0;
export const IFF_BROADCAST = 1 << 1;
export const IFF_DEBUG = 1 << 2;
export const IFF_LOOPBACK = 1 << 3;
export const IFF_POINTOPOINT = 1 << 4;
export const IFF_NOTRAILERS = 1 << 5;
export const IFF_RUNNING = 1 << 6;
export const IFF_NOARP = 1 << 7;
export const IFF_PROMISC = 1 << 8;
export const IFF_ALLMULTI = 1 << 9;
export const IFF_MASTER = 1 << 10;
export const IFF_SLAVE = 1 << 11;
export const IFF_MULTICAST = 1 << 12;
export const IFF_PORTSEL = 1 << 13;
export const IFF_AUTOMEDIA = 1 << 14;
export const IFF_DYNAMIC = 1 << 15;
export const IFF_LOWER_UP = 1 << 16;
export const IFF_DORMANT = 1 << 17;
export const IFF_ECHO = 1 << 18;

export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
export const ARPHRD_NONE = 0xfffe;

/** The IFLA_* attributes of a link message. Nested and struct-valued ones stay binary here and are decoded below. */
export const linkAttrs = schema('link', {
  address: [IFLA_ADDRESS, 'mac'],
  broadcast: [IFLA_BROADCAST, 'mac'],
  ifname: [IFLA_IFNAME, 'string'],
  mtu: [IFLA_MTU, 'u32'],
  link: [IFLA_LINK, 'u32'],
  qdisc: [IFLA_QDISC, 'string'],
  stats: [IFLA_STATS, 'binary'],
  master: [IFLA_MASTER, 'u32'],
  protinfo: [IFLA_PROTINFO, 'binary'],
  txqlen: [IFLA_TXQLEN, 'u32'],
  map: [IFLA_MAP, 'binary'],
  operstate: [IFLA_OPERSTATE, 'u8'],
  linkmode: [IFLA_LINKMODE, 'u8'],
  linkinfo: [IFLA_LINKINFO, 'binary'],
  netNsPid: [IFLA_NET_NS_PID, 'u32'],
  ifalias: [IFLA_IFALIAS, 'string'],
  numVf: [IFLA_NUM_VF, 'u32'],
  vfinfoList: [IFLA_VFINFO_LIST, 'binary'],
  stats64: [IFLA_STATS64, 'binary'],
  afSpec: [IFLA_AF_SPEC, 'binary'],
  group: [IFLA_GROUP, 'u32'],
  netNsFd: [IFLA_NET_NS_FD, 'u32'],
  extMask: [IFLA_EXT_MASK, 'u32'],
  promiscuity: [IFLA_PROMISCUITY, 'u32'],
  numTxQueues: [IFLA_NUM_TX_QUEUES, 'u32'],
  numRxQueues: [IFLA_NUM_RX_QUEUES, 'u32'],
  carrier: [IFLA_CARRIER, 'u8'],
  physPortId: [IFLA_PHYS_PORT_ID, 'binary'],
  carrierChanges: [IFLA_CARRIER_CHANGES, 'u32'],
  physSwitchId: [IFLA_PHYS_SWITCH_ID, 'binary'],
  linkNetnsId: [IFLA_LINK_NETNSID, 's32'],
  physPortName: [IFLA_PHYS_PORT_NAME, 'string'],
  protoDown: [IFLA_PROTO_DOWN, 'u8'],
  gsoMaxSegs: [IFLA_GSO_MAX_SEGS, 'u32'],
  gsoMaxSize: [IFLA_GSO_MAX_SIZE, 'u32'],
  pad: [IFLA_PAD, 'binary'],
  xdp: [IFLA_XDP, 'binary'],
  event: [IFLA_EVENT, 'u32'],
  newNetnsId: [IFLA_NEW_NETNSID, 's32'],
  targetNetnsId: [IFLA_TARGET_NETNSID, 's32'],
  carrierUpCount: [IFLA_CARRIER_UP_COUNT, 'u32'],
  carrierDownCount: [IFLA_CARRIER_DOWN_COUNT, 'u32'],
  newIfindex: [IFLA_NEW_IFINDEX, 's32'],
  minMtu: [IFLA_MIN_MTU, 'u32'],
  maxMtu: [IFLA_MAX_MTU, 'u32'],
  propList: [IFLA_PROP_LIST, 'binary'],
  altIfname: [IFLA_ALT_IFNAME, 'string'],
  permAddress: [IFLA_PERM_ADDRESS, 'mac'],
  protoDownReason: [IFLA_PROTO_DOWN_REASON, 'binary'],
  parentDevName: [IFLA_PARENT_DEV_NAME, 'string'],
  parentDevBusName: [IFLA_PARENT_DEV_BUS_NAME, 'string'],
  groMaxSize: [IFLA_GRO_MAX_SIZE, 'u32'],
  tsoMaxSize: [IFLA_TSO_MAX_SIZE, 'u32'],
  tsoMaxSegs: [IFLA_TSO_MAX_SEGS, 'u32'],
  allmulti: [IFLA_ALLMULTI, 'u32'],
  devlinkPort: [IFLA_DEVLINK_PORT, 'binary'],
  gsoIpv4MaxSize: [IFLA_GSO_IPV4_MAX_SIZE, 'u32'],
  groIpv4MaxSize: [IFLA_GRO_IPV4_MAX_SIZE, 'u32'],
  dpllPin: [IFLA_DPLL_PIN, 'binary'],
  maxPacingOffloadHorizon: [IFLA_MAX_PACING_OFFLOAD_HORIZON, 'binary'],
  netnsImmutable: [IFLA_NETNS_IMMUTABLE, 'u8'],
  headroom: [IFLA_HEADROOM, 'u16'],
  tailroom: [IFLA_TAILROOM, 'u16'],
} as const);

export type LinkAttrs = Encodable<typeof linkAttrs.defs>;

const encodeLinkAttrs = (w: Writer, value: LinkAttrs): void => linkAttrs.encode(w, value);

export const linkInfoAttrs = schema('linkinfo', {
  kind: [IFLA_INFO_KIND, 'string'],
  data: [IFLA_INFO_DATA, 'binary'],
  xstats: [IFLA_INFO_XSTATS, 'binary'],
  portKind: [IFLA_INFO_SLAVE_KIND, 'string'],
  portData: [IFLA_INFO_SLAVE_DATA, 'binary'],
} as const);

/** ifi_flags as booleans (IFF_*). */
export interface LinkFlags {
  up: boolean;
  broadcast: boolean;
  debug: boolean;
  loopback: boolean;
  pointToPoint: boolean;
  noTrailers: boolean;
  /** RFC 2863 OPER_UP. */
  running: boolean;
  noArp: boolean;
  promisc: boolean;
  allMulti: boolean;
  master: boolean;
  slave: boolean;
  multicast: boolean;
  portSel: boolean;
  autoMedia: boolean;
  dynamic: boolean;
  /** The driver signals carrier (L1 up). */
  lowerUp: boolean;
  dormant: boolean;
  echo: boolean;
}

export function decodeFlags(f: number): LinkFlags {
  return {
    up: (f & IFF_UP) !== 0,
    broadcast: (f & IFF_BROADCAST) !== 0,
    debug: (f & IFF_DEBUG) !== 0,
    loopback: (f & IFF_LOOPBACK) !== 0,
    pointToPoint: (f & IFF_POINTOPOINT) !== 0,
    noTrailers: (f & IFF_NOTRAILERS) !== 0,
    running: (f & IFF_RUNNING) !== 0,
    noArp: (f & IFF_NOARP) !== 0,
    promisc: (f & IFF_PROMISC) !== 0,
    allMulti: (f & IFF_ALLMULTI) !== 0,
    master: (f & IFF_MASTER) !== 0,
    slave: (f & IFF_SLAVE) !== 0,
    multicast: (f & IFF_MULTICAST) !== 0,
    portSel: (f & IFF_PORTSEL) !== 0,
    autoMedia: (f & IFF_AUTOMEDIA) !== 0,
    dynamic: (f & IFF_DYNAMIC) !== 0,
    lowerUp: (f & IFF_LOWER_UP) !== 0,
    dormant: (f & IFF_DORMANT) !== 0,
    echo: (f & IFF_ECHO) !== 0,
  };
}

/** IF_OPER_* (RFC 2863), lower-case: what `ip link` prints as UNKNOWN/DOWN/UP/... */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type Operstate = (typeof OPERSTATES)[number];

// struct rtnl_link_stats64 { __u64 rx_packets; __u64 tx_packets; ... __u64 rx_otherhost_dropped; }
const STATS64_FIELDS = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxErrors',
  'txErrors',
  'rxDropped',
  'txDropped',
  'multicast',
  'collisions',
  'rxLengthErrors',
  'rxOverErrors',
  'rxCrcErrors',
  'rxFrameErrors',
  'rxFifoErrors',
  'rxMissedErrors',
  'txAbortedErrors',
  'txCarrierErrors',
  'txFifoErrors',
  'txHeartbeatErrors',
  'txWindowErrors',
  'rxCompressed',
  'txCompressed',
  'rxNohandler',
  'rxOtherhostDropped',
] as const;

/**
 * IFLA_STATS64 counters as numbers: exact up to 2^53 (9 PB of traffic);
 * beyond that they lose low bits rather than becoming bigints, so a Link
 * stays JSON-serialisable. Fields a kernel does not send (older kernels
 * lack rxOtherhostDropped) are 0.
 */
export type LinkStats = Record<(typeof STATS64_FIELDS)[number], number>;

/** struct rtnl_link_stats64 at b[at, at+len); fields past len are 0. */
export function decodeStats64(b: Buffer, at = 0, len = b.length - at): LinkStats {
  const n = len >>> 3;
  const u = (i: number): number => (i < n ? b.readUInt32LE(at + i * 8) + b.readUInt32LE(at + i * 8 + 4) * 0x100000000 : 0);
  return {
    rxPackets: u(0),
    txPackets: u(1),
    rxBytes: u(2),
    txBytes: u(3),
    rxErrors: u(4),
    txErrors: u(5),
    rxDropped: u(6),
    txDropped: u(7),
    multicast: u(8),
    collisions: u(9),
    rxLengthErrors: u(10),
    rxOverErrors: u(11),
    rxCrcErrors: u(12),
    rxFrameErrors: u(13),
    rxFifoErrors: u(14),
    rxMissedErrors: u(15),
    txAbortedErrors: u(16),
    txCarrierErrors: u(17),
    txFifoErrors: u(18),
    txHeartbeatErrors: u(19),
    txWindowErrors: u(20),
    rxCompressed: u(21),
    txCompressed: u(22),
    rxNohandler: u(23),
    rxOtherhostDropped: u(24),
  };
}

type KnownKind = keyof LinkInfoByKind;
type KnownPortKind = keyof PortInfoByKind;

/** IFLA_INFO_DATA of a kind without a table: its attributes, raw. */
export interface RawInfo {
  unknown?: RawAttr[];
}

export type AnyLinkInfo = LinkInfoByKind[KnownKind] | RawInfo;
export type AnyPortInfo = PortInfoByKind[KnownPortKind] | RawInfo;

/** What the kernel says about one link (RTM_NEWLINK), decoded. */
export interface LinkMessage<K extends string = string> {
  index: number;
  name: string;
  /** IFLA_LINKINFO kind ("veth", "bridge", ...); absent for links without rtnl ops (lo, physical NICs). */
  kind?: K;
  /** IFLA_INFO_DATA decoded through the kind's table (see link-kinds/). */
  info?: K extends KnownKind ? LinkInfoByKind[K] : AnyLinkInfo;
  /** IFLA_INFO_SLAVE_KIND: the master's kind when this link is a port (e.g. "bridge"). */
  portKind?: string;
  /** IFLA_INFO_SLAVE_DATA, e.g. the bridge port's STP state. */
  portInfo?: AnyPortInfo;
  flags: LinkFlags;
  /** ifi_flags as the kernel sent them. */
  rawFlags: number;
  /** ARPHRD_* (1 = Ethernet, 772 = loopback). */
  type: number;
  operstate: Operstate | number;
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  /** IFLA_ADDRESS as colon-separated hex (any length: 6 bytes for Ethernet). */
  mac?: string;
  broadcast?: string;
  permAddress?: string;
  /** Index of the master (bridge) this link is enslaved to. */
  master?: number;
  group: number;
  /** IFLA_IFALIAS. */
  alias?: string;
  /** IFLA_LINK: the veth peer's or the macvlan/vlan parent's index, in the namespace linkNetnsId names if set. */
  link?: number;
  /** IFLA_LINK_NETNSID: the peer/parent lives in another namespace, known here by this id. */
  linkNetnsId?: number;
  txqlen?: number;
  qdisc?: string;
  promiscuity?: number;
  allmulti?: number;
  numTxQueues?: number;
  numRxQueues?: number;
  carrier?: boolean;
  carrierChanges?: number;
  carrierUpCount?: number;
  carrierDownCount?: number;
  protoDown?: boolean;
  linkmode?: number;
  gsoMaxSize?: number;
  gsoMaxSegs?: number;
  groMaxSize?: number;
  tsoMaxSize?: number;
  tsoMaxSegs?: number;
  gsoIpv4MaxSize?: number;
  groIpv4MaxSize?: number;
  /** IFLA_NETNS_IMMUTABLE: the link cannot change namespace (lo). */
  netnsImmutable?: boolean;
  headroom?: number;
  tailroom?: number;
  parentDevName?: string;
  parentDevBusName?: string;
  physPortName?: string;
  /** IFLA_PROP_LIST alternative names. */
  altNames?: string[];
  /** IFLA_STATS64 (numbers; absent when asked to skip statistics). */
  stats?: LinkStats;
  /** Attribute types the IFLA table does not know (a newer kernel's), raw. */
  unknown?: RawAttr[];
  /** The message payload as received (not enumerable): linkAttr() reads any attribute from it. */
  readonly raw?: Buffer;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function macAt(b: Buffer, at: number, len: number): string {
  let s = len ? HEX[b[at]] : '';
  for (let i = 1; i < len; i++) s += `:${HEX[b[at + i]]}`;
  return s;
}

function stringAt(b: Buffer, at: number, len: number): string {
  let end = at;
  const stop = at + len;
  while (end < stop && b[end] !== 0) end++;
  return b.toString('utf8', at, end);
}

function short(type: number, len: number, need: number): NetlinkParseError {
  return new NetlinkParseError(`link attribute type ${type} has ${len} bytes, needs ${need}`);
}

/**
 * Decodes an RTM_NEWLINK payload (ifinfomsg + attributes) in one pass over
 * the buffer: a switch per attribute type, no slice per attribute (listing
 * thousands of links is mostly this loop). Attributes not lifted into a
 * field stay in the payload, kept as `raw` (linkAttr() reads them); types
 * the table does not know are also listed in `unknown`. A length that lies
 * is a NetlinkParseError. With `ns`, the link also carries the namespace it
 * was read in (non-enumerable `ns`, as a Link).
 */
export function decodeLink(payload: Buffer, ns?: object): LinkMessage {
  const ifi = readIfinfomsg(payload);
  const link: LinkMessage = {
    index: ifi.index,
    name: '',
    flags: decodeFlags(ifi.flags),
    rawFlags: ifi.flags,
    type: ifi.type,
    operstate: 'unknown',
    group: 0,
  };
  const b = payload;
  const end = b.length;
  let off = IFINFOMSG_LEN;
  while (end - off >= 4) {
    const alen = b.readUInt16LE(off);
    const type = b.readUInt16LE(off + 2) & 0x3fff;
    if (alen < 4 || alen > end - off) {
      throw new NetlinkParseError(`link attribute type ${type} at offset ${off} claims ${alen} bytes, ${end - off} available`);
    }
    const at = off + 4;
    const len = alen - 4;
    off += (alen + 3) & ~3;
    const need = FIXED[type];
    if (need !== undefined && len < need) throw short(type, len, need);
    switch (type) {
      case IFLA_IFNAME: link.name = stringAt(b, at, len); break;
      case IFLA_MTU: link.mtu = b.readUInt32LE(at); break;
      case IFLA_MIN_MTU: link.minMtu = b.readUInt32LE(at); break;
      case IFLA_MAX_MTU: link.maxMtu = b.readUInt32LE(at); break;
      case IFLA_ADDRESS: link.mac = macAt(b, at, len); break;
      case IFLA_BROADCAST: link.broadcast = macAt(b, at, len); break;
      case IFLA_PERM_ADDRESS: link.permAddress = macAt(b, at, len); break;
      case IFLA_MASTER: link.master = b.readUInt32LE(at); break;
      case IFLA_GROUP: link.group = b.readUInt32LE(at); break;
      case IFLA_IFALIAS: link.alias = stringAt(b, at, len); break;
      case IFLA_LINK: link.link = b.readUInt32LE(at); break;
      case IFLA_LINK_NETNSID: link.linkNetnsId = b.readInt32LE(at); break;
      case IFLA_TXQLEN: link.txqlen = b.readUInt32LE(at); break;
      case IFLA_QDISC: link.qdisc = stringAt(b, at, len); break;
      case IFLA_OPERSTATE: link.operstate = OPERSTATES[b[at]] ?? b[at]; break;
      case IFLA_LINKMODE: link.linkmode = b[at]; break;
      case IFLA_PROMISCUITY: link.promiscuity = b.readUInt32LE(at); break;
      case IFLA_ALLMULTI: link.allmulti = b.readUInt32LE(at); break;
      case IFLA_NUM_TX_QUEUES: link.numTxQueues = b.readUInt32LE(at); break;
      case IFLA_NUM_RX_QUEUES: link.numRxQueues = b.readUInt32LE(at); break;
      case IFLA_CARRIER: link.carrier = b[at] !== 0; break;
      case IFLA_CARRIER_CHANGES: link.carrierChanges = b.readUInt32LE(at); break;
      case IFLA_CARRIER_UP_COUNT: link.carrierUpCount = b.readUInt32LE(at); break;
      case IFLA_CARRIER_DOWN_COUNT: link.carrierDownCount = b.readUInt32LE(at); break;
      case IFLA_PROTO_DOWN: link.protoDown = b[at] !== 0; break;
      case IFLA_GSO_MAX_SIZE: link.gsoMaxSize = b.readUInt32LE(at); break;
      case IFLA_GSO_MAX_SEGS: link.gsoMaxSegs = b.readUInt32LE(at); break;
      case IFLA_GRO_MAX_SIZE: link.groMaxSize = b.readUInt32LE(at); break;
      case IFLA_TSO_MAX_SIZE: link.tsoMaxSize = b.readUInt32LE(at); break;
      case IFLA_TSO_MAX_SEGS: link.tsoMaxSegs = b.readUInt32LE(at); break;
      case IFLA_GSO_IPV4_MAX_SIZE: link.gsoIpv4MaxSize = b.readUInt32LE(at); break;
      case IFLA_GRO_IPV4_MAX_SIZE: link.groIpv4MaxSize = b.readUInt32LE(at); break;
      case IFLA_NETNS_IMMUTABLE: link.netnsImmutable = b[at] !== 0; break;
      case IFLA_HEADROOM: link.headroom = b.readUInt16LE(at); break;
      case IFLA_TAILROOM: link.tailroom = b.readUInt16LE(at); break;
      case IFLA_PARENT_DEV_NAME: link.parentDevName = stringAt(b, at, len); break;
      case IFLA_PARENT_DEV_BUS_NAME: link.parentDevBusName = stringAt(b, at, len); break;
      case IFLA_PHYS_PORT_NAME: link.physPortName = stringAt(b, at, len); break;
      case IFLA_PROP_LIST: link.altNames = decodePropList(b.subarray(at, at + len)); break;
      case IFLA_STATS64: link.stats = decodeStats64(b, at, len); break;
      case IFLA_LINKINFO: decodeLinkInfo(b.subarray(at, at + len), link); break;
      default:
        // Types the table knows but does not lift (af_spec, xdp, map,
        // vfinfo_list, IFLA_STATS, ...) stay in `raw`; types it does not know
        // are collected, so a newer kernel's additions are visible.
        if (!KNOWN[type]) (link.unknown ??= []).push({ type, nested: false, value: b.subarray(at, at + len) });
    }
  }
  // Non-enumerable extras in one call: each defineProperty costs µs on this kind of VM.
  if (ns === undefined) Object.defineProperty(link, 'raw', { value: payload, enumerable: false });
  else Object.defineProperties(link, { raw: { value: payload, enumerable: false }, ns: { value: ns, enumerable: false } });
  return link;
}

const KNOWN: boolean[] = [];
for (const [type] of Object.values(linkAttrs.defs)) KNOWN[type] = true;

/**
 * One attribute of a decoded link, read from its raw payload: for what the
 * decoder does not lift (IFLA_AF_SPEC, IFLA_XDP, IFLA_VFINFO_LIST, ...).
 * Undefined when the kernel did not send it.
 */
export function linkAttr(link: LinkMessage, type: number): Buffer | undefined {
  const b = link.raw;
  if (!b) return undefined;
  let found: Buffer | undefined;
  forEachAttr(b, IFINFOMSG_LEN, b.length, (t, value) => {
    if (t === type && !found) found = value;
  });
  return found;
}

/** Minimum payload per fixed-size IFLA type, from the table (u8 1, u16 2, u32/s32 4). */
const FIXED: (number | undefined)[] = [];
for (const [type, kind] of Object.values(linkAttrs.defs)) {
  const size = kind === 'u8' ? 1 : kind === 'u16' ? 2 : kind === 'u32' || kind === 's32' ? 4 : undefined;
  if (size !== undefined) FIXED[type] = size;
}

/** IFLA_PROP_LIST: a nest of IFLA_ALT_IFNAME strings. */
export function decodePropList(b: Buffer): string[] {
  const names: string[] = [];
  forEachAttr(b, 0, b.length, (type, value) => {
    if (type === IFLA_ALT_IFNAME) names.push(cString(value));
  });
  return names;
}

function decodeLinkInfo(b: Buffer, link: LinkMessage): void {
  const li = linkInfoAttrs.decode(b);
  if (li.kind !== undefined) {
    link.kind = li.kind;
    const def = linkKind(li.kind);
    if (li.data !== undefined) {
      if (def?.data) {
        const raw = def.data.decode(li.data);
        link.info = (def.decode ? def.decode(raw) : raw) as AnyLinkInfo;
      } else {
        link.info = rawInfo(li.data);
      }
    } else if (def) {
      // Kinds such as veth send no IFLA_INFO_DATA; their typed info is empty.
      link.info = (def.decode && def.data ? def.decode({}) : {}) as AnyLinkInfo;
    }
  }
  if (li.portKind !== undefined) {
    link.portKind = li.portKind;
    const def = linkKind(li.portKind);
    if (li.portData !== undefined) {
      if (def?.portData) {
        const raw = def.portData.decode(li.portData);
        link.portInfo = (def.decodePort ? def.decodePort(raw) : raw) as AnyPortInfo;
      } else {
        link.portInfo = rawInfo(li.portData);
      }
    }
  }
}

function rawInfo(b: Buffer): RawInfo {
  const unknown: RawAttr[] = [];
  forEachAttr(b, 0, b.length, (type, value, nested) => unknown.push({ type, nested, value }));
  return unknown.length ? { unknown } : {};
}

/** What one link request carries besides the header: the ifinfomsg, IFLA_* attributes and the kind's IFLA_LINKINFO. */
export interface LinkRequest {
  ifi?: Partial<IfInfoMsg>;
  attrs?: LinkAttrs;
  /** IFLA_INFO_KIND (with IFLA_INFO_DATA from `info`, through the kind's table). */
  kind?: string;
  info?: object;
  /** IFLA_INFO_SLAVE_KIND with IFLA_INFO_SLAVE_DATA (e.g. bridge port settings). */
  portKind?: string;
  portInfo?: object;
}

/** Writes the body of a link message (after the nlmsghdr): ifinfomsg, attributes, linkinfo. */
export function writeLinkBody(w: Writer, req: LinkRequest): void {
  writeIfinfomsg(w, req.ifi);
  if (req.attrs) encodeLinkAttrs(w, req.attrs);
  if (req.kind === undefined && req.portKind === undefined) return;
  const li = w.nest(IFLA_LINKINFO);
  if (req.kind !== undefined) {
    w.string(IFLA_INFO_KIND, req.kind);
    if (req.info !== undefined && Object.keys(req.info).length > 0) {
      const def = linkKind(req.kind);
      if (!def || (!def.data && !def.encode)) throw new TypeError(`link kind ${JSON.stringify(req.kind)} has no attribute table: it takes no options`);
      const at = w.nest(IFLA_INFO_DATA);
      if (def.encode) def.encode(w, req.info);
      else encoderFor(def.data!)(w, req.info);
      w.endNest(at);
    }
  }
  if (req.portKind !== undefined) {
    w.string(IFLA_INFO_SLAVE_KIND, req.portKind);
    if (req.portInfo !== undefined && Object.keys(req.portInfo).length > 0) {
      const def = linkKind(req.portKind);
      if (!def?.portData) throw new TypeError(`link kind ${JSON.stringify(req.portKind)} has no port attribute table`);
      const at = w.nest(IFLA_INFO_SLAVE_DATA);
      encoderFor(def.portData)(w, req.portInfo);
      w.endNest(at);
    }
  }
  w.endNest(li);
}

function encoderFor(table: Schema<any>): (w: Writer, value: object) => void {
  return (w, value) => table.encode(w, value);
}

/** The filters a strict-checked link dump accepts (rtnl_valid_dump_ifinfo_req). */
export interface LinkDumpFilter {
  extMask?: number;
  /** IFLA_MASTER: only ports of this master. */
  master?: number;
  /** IFLA_LINKINFO / IFLA_INFO_KIND: only links of this kind. */
  kind?: string;
}

/** RTM_GETLINK dump request: zeroed ifinfomsg (strict checking rejects anything else) + filters. */
export function writeLinkDump(w: Writer, type: number, flags: number, f: LinkDumpFilter = {}): void {
  const start = w.begin(type, flags);
  writeIfinfomsg(w);
  if (f.extMask !== undefined) w.u32(IFLA_EXT_MASK, f.extMask);
  if (f.master !== undefined) w.u32(IFLA_MASTER, f.master);
  if (f.kind !== undefined) {
    const at = w.nest(IFLA_LINKINFO);
    w.string(IFLA_INFO_KIND, f.kind);
    w.endNest(at);
  }
  w.end(start);
}

/** Writes one complete link message (header + body). */
export function writeLinkMessage(w: Writer, type: number, flags: number, req: LinkRequest): void {
  const start = w.begin(type, flags);
  writeLinkBody(w, req);
  w.end(start);
}
