// Routes (linux/rtnetlink.h): struct rtmsg, the RTA_* attribute table,
// struct rtnexthop lists (RTA_MULTIPATH), RTAX_* metrics and struct
// rta_cacheinfo, plus the kernel's numbers for types, protocols, scopes and
// tables with the names iproute2 gives them.
import { NetlinkParseError } from '../errors.js';
import { align4, type Writer } from './netlink.js';
import { schema, type Decoded } from './schema.js';

// enum rtattr_type_t
export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_MULTIPATH = 9;
export const RTA_FLOW = 11;
export const RTA_CACHEINFO = 12;
export const RTA_TABLE = 15;
export const RTA_MARK = 16;
export const RTA_MFC_STATS = 17;
export const RTA_VIA = 18;
export const RTA_NEWDST = 19;
export const RTA_PREF = 20;
export const RTA_ENCAP_TYPE = 21;
export const RTA_ENCAP = 22;
export const RTA_EXPIRES = 23;
export const RTA_PAD = 24;
export const RTA_UID = 25;
export const RTA_TTL_PROPAGATE = 26;
export const RTA_IP_PROTO = 27;
export const RTA_SPORT = 28;
export const RTA_DPORT = 29;
export const RTA_NH_ID = 30;

// RTAX_* (attributes inside RTA_METRICS, all u32 except RTAX_CC_ALGO)
export const RTAX_LOCK = 1;
export const RTAX_MTU = 2;
export const RTAX_WINDOW = 3;
export const RTAX_RTT = 4;
export const RTAX_RTTVAR = 5;
export const RTAX_SSTHRESH = 6;
export const RTAX_CWND = 7;
export const RTAX_ADVMSS = 8;
export const RTAX_REORDERING = 9;
export const RTAX_HOPLIMIT = 10;
export const RTAX_INITCWND = 11;
export const RTAX_FEATURES = 12;
export const RTAX_RTO_MIN = 13;
export const RTAX_INITRWND = 14;
export const RTAX_QUICKACK = 15;
export const RTAX_CC_ALGO = 16;
export const RTAX_FASTOPEN_NO_COOKIE = 17;

// rtm_type
export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTN_BROADCAST = 3;
export const RTN_ANYCAST = 4;
export const RTN_MULTICAST = 5;
export const RTN_BLACKHOLE = 6;
export const RTN_UNREACHABLE = 7;
export const RTN_PROHIBIT = 8;
export const RTN_THROW = 9;
export const RTN_NAT = 10;
export const RTN_XRESOLVE = 11;

// rtm_protocol
export const RTPROT_UNSPEC = 0;
export const RTPROT_REDIRECT = 1;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;

// enum rt_scope_t
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

// enum rt_class_t
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_COMPAT = 252;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

// rtm_flags
export const RTM_F_NOTIFY = 0x100;
export const RTM_F_CLONED = 0x200;
export const RTM_F_EQUALIZE = 0x400;
export const RTM_F_PREFIX = 0x800;
export const RTM_F_LOOKUP_TABLE = 0x1000;
export const RTM_F_FIB_MATCH = 0x2000;
export const RTM_F_OFFLOAD = 0x4000;
export const RTM_F_TRAP = 0x8000;
export const RTM_F_OFFLOAD_FAILED = 0x20000000;

// rtnh_flags (also valid in rtm_flags for a single-nexthop route)
export const RTNH_F_DEAD = 1;
export const RTNH_F_PERVASIVE = 2;
export const RTNH_F_ONLINK = 4;
export const RTNH_F_OFFLOAD = 8;
export const RTNH_F_LINKDOWN = 16;
export const RTNH_F_UNRESOLVED = 32;
export const RTNH_F_TRAP = 64;

/** iproute2's names (lib/rt_names.c). */
export const RTN_NAMES = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
] as const;

export const RTPROT_NAMES: Readonly<Record<number, string>> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  17: 'mrouted',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};

export const RT_SCOPE_NAMES: Readonly<Record<number, string>> = {
  0: 'global',
  200: 'site',
  253: 'link',
  254: 'host',
  255: 'nowhere',
};

export const RT_TABLE_NAMES: Readonly<Record<number, string>> = { 253: 'default', 254: 'main', 255: 'local' };

export const RTNH_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [RTNH_F_DEAD, 'dead'],
  [RTNH_F_PERVASIVE, 'pervasive'],
  [RTNH_F_ONLINK, 'onlink'],
  [RTNH_F_OFFLOAD, 'offload'],
  [RTNH_F_LINKDOWN, 'linkdown'],
  [RTNH_F_UNRESOLVED, 'unresolved'],
  [RTNH_F_TRAP, 'trap'],
];

export const RTM_FLAG_NAMES: readonly (readonly [number, string])[] = [
  ...RTNH_FLAG_NAMES,
  [RTM_F_NOTIFY, 'notify'],
  [RTM_F_CLONED, 'cloned'],
  [RTM_F_EQUALIZE, 'equalize'],
  [RTM_F_PREFIX, 'prefix'],
  [RTM_F_LOOKUP_TABLE, 'lookup-table'],
  [RTM_F_FIB_MATCH, 'fib-match'],
  [RTM_F_OFFLOAD, 'rt_offload'],
  [RTM_F_TRAP, 'rt_trap'],
  [RTM_F_OFFLOAD_FAILED, 'rt_offload_failed'],
];

/** RTAX_* inside RTA_METRICS. */
export const rtaxAttrs = schema('route metrics', {
  lock: [RTAX_LOCK, 'u32'],
  mtu: [RTAX_MTU, 'u32'],
  window: [RTAX_WINDOW, 'u32'],
  rtt: [RTAX_RTT, 'u32'],
  rttvar: [RTAX_RTTVAR, 'u32'],
  ssthresh: [RTAX_SSTHRESH, 'u32'],
  cwnd: [RTAX_CWND, 'u32'],
  advmss: [RTAX_ADVMSS, 'u32'],
  reordering: [RTAX_REORDERING, 'u32'],
  hoplimit: [RTAX_HOPLIMIT, 'u32'],
  initcwnd: [RTAX_INITCWND, 'u32'],
  features: [RTAX_FEATURES, 'u32'],
  rtoMin: [RTAX_RTO_MIN, 'u32'],
  initrwnd: [RTAX_INITRWND, 'u32'],
  quickack: [RTAX_QUICKACK, 'u32'],
  ccAlgo: [RTAX_CC_ALGO, 'string'],
  fastopenNoCookie: [RTAX_FASTOPEN_NO_COOKIE, 'u32'],
} as const);

/** RTA_* attributes. RTA_MULTIPATH, RTA_CACHEINFO and RTA_VIA are structs: see their codecs below. */
export const routeAttrs = schema('route', {
  dst: [RTA_DST, 'ip'],
  src: [RTA_SRC, 'ip'],
  iif: [RTA_IIF, 'u32'],
  oif: [RTA_OIF, 'u32'],
  gateway: [RTA_GATEWAY, 'ip'],
  priority: [RTA_PRIORITY, 'u32'],
  prefsrc: [RTA_PREFSRC, 'ip'],
  metrics: [RTA_METRICS, 'nested', rtaxAttrs],
  multipath: [RTA_MULTIPATH, 'binary'],
  flow: [RTA_FLOW, 'u32'],
  cacheinfo: [RTA_CACHEINFO, 'binary'],
  table: [RTA_TABLE, 'u32'],
  mark: [RTA_MARK, 'u32'],
  mfcStats: [RTA_MFC_STATS, 'binary'],
  via: [RTA_VIA, 'binary'],
  newdst: [RTA_NEWDST, 'binary'],
  pref: [RTA_PREF, 'u8'],
  encapType: [RTA_ENCAP_TYPE, 'u16'],
  encap: [RTA_ENCAP, 'binary'],
  expires: [RTA_EXPIRES, 'u32'],
  pad: [RTA_PAD, 'binary'],
  uid: [RTA_UID, 'u32'],
  ttlPropagate: [RTA_TTL_PROPAGATE, 'u8'],
  ipProto: [RTA_IP_PROTO, 'u8'],
  sport: [RTA_SPORT, 'be16'],
  dport: [RTA_DPORT, 'be16'],
  nhId: [RTA_NH_ID, 'u32'],
} as const);

export type RouteAttrs = Decoded<typeof routeAttrs.defs>;
export type RouteMetrics = Decoded<typeof rtaxAttrs.defs>;

/*
 * struct rtmsg {
 *   unsigned char rtm_family;
 *   unsigned char rtm_dst_len;
 *   unsigned char rtm_src_len;
 *   unsigned char rtm_tos;
 *   unsigned char rtm_table;     table id, or RT_TABLE_UNSPEC/COMPAT when RTA_TABLE holds it
 *   unsigned char rtm_protocol;
 *   unsigned char rtm_scope;
 *   unsigned char rtm_type;
 *   unsigned      rtm_flags;
 * };
 */
export const RTMSG_SIZE = 12;

export interface Rtmsg {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
}

export function encodeRtmsg(w: Writer, h: Rtmsg): void {
  const at = w.struct(RTMSG_SIZE);
  const b = w.buf;
  b[at] = h.family;
  b[at + 1] = h.dstLen;
  b[at + 2] = h.srcLen;
  b[at + 3] = h.tos;
  b[at + 4] = h.table;
  b[at + 5] = h.protocol;
  b[at + 6] = h.scope;
  b[at + 7] = h.type;
  b.writeUInt32LE(h.flags >>> 0, at + 8);
}

export function decodeRtmsg(b: Buffer): Rtmsg {
  if (b.length < RTMSG_SIZE) throw new NetlinkParseError(`rtmsg needs ${RTMSG_SIZE} bytes, got ${b.length}`);
  return {
    family: b[0],
    dstLen: b[1],
    srcLen: b[2],
    tos: b[3],
    table: b[4],
    protocol: b[5],
    scope: b[6],
    type: b[7],
    flags: b.readUInt32LE(8),
  };
}

/*
 * struct rtnexthop {
 *   unsigned short rtnh_len;       this struct plus its attributes
 *   unsigned char  rtnh_flags;
 *   unsigned char  rtnh_hops;      weight - 1
 *   int            rtnh_ifindex;
 * };  followed by RTA_* attributes (RTA_GATEWAY, RTA_VIA, RTA_ENCAP, ...)
 */
export const RTNEXTHOP_SIZE = 8;

export interface Rtnexthop {
  flags: number;
  hops: number;
  ifindex: number;
  attrs: RouteAttrs;
}

/** A next hop to encode: RTA_GATEWAY bytes, or RTA_VIA (struct rtvia bytes) for a gateway of the other family. */
export type RtnexthopInput = Omit<Rtnexthop, 'attrs'> & { gateway?: Uint8Array; via?: Uint8Array };

/** Writes RTA_MULTIPATH (without NLA_F_NESTED, as iproute2 does: the payload is an array of structs). */
export function encodeMultipath(w: Writer, hops: readonly RtnexthopInput[]): void {
  const at = w.nest(RTA_MULTIPATH);
  w.buf.writeUInt16LE(RTA_MULTIPATH, at + 2);
  for (const h of hops) {
    const start = w.struct(RTNEXTHOP_SIZE);
    w.buf[start + 2] = h.flags;
    w.buf[start + 3] = h.hops;
    w.buf.writeInt32LE(h.ifindex, start + 4);
    if (h.gateway) w.bytes(RTA_GATEWAY, h.gateway);
    if (h.via) w.bytes(RTA_VIA, h.via);
    w.buf.writeUInt16LE(w.off - start, start);
  }
  w.endNest(at);
}

export function decodeMultipath(b: Buffer): Rtnexthop[] {
  const out: Rtnexthop[] = [];
  let off = 0;
  while (b.length - off >= RTNEXTHOP_SIZE) {
    const len = b.readUInt16LE(off);
    if (len < RTNEXTHOP_SIZE || len > b.length - off) {
      throw new NetlinkParseError(`rtnexthop at offset ${off} claims ${len} bytes, ${b.length - off} available`);
    }
    out.push({
      flags: b[off + 2],
      hops: b[off + 3],
      ifindex: b.readInt32LE(off + 4),
      attrs: routeAttrs.decode(b, off + RTNEXTHOP_SIZE, off + len),
    });
    off += align4(len);
  }
  return out;
}

/*
 * struct rta_cacheinfo {
 *   __u32 rta_clntref;
 *   __u32 rta_lastuse;
 *   __s32 rta_expires;   clock ticks (USER_HZ); 0 = does not expire
 *   __u32 rta_error;
 *   __u32 rta_used;
 *   __u32 rta_id;
 *   __u32 rta_ts;
 *   __u32 rta_tsage;
 * };
 */
export const RTA_CACHEINFO_SIZE = 32;

export interface RtaCacheinfo {
  clntref: number;
  lastuse: number;
  expires: number;
  error: number;
  used: number;
  id: number;
  ts: number;
  tsage: number;
}

export function decodeRtaCacheinfo(b: Buffer): RtaCacheinfo {
  if (b.length < RTA_CACHEINFO_SIZE) throw new NetlinkParseError(`rta_cacheinfo needs ${RTA_CACHEINFO_SIZE} bytes, got ${b.length}`);
  return {
    clntref: b.readUInt32LE(0),
    lastuse: b.readUInt32LE(4),
    expires: b.readInt32LE(8),
    error: b.readUInt32LE(12),
    used: b.readUInt32LE(16),
    id: b.readUInt32LE(20),
    ts: b.readUInt32LE(24),
    tsage: b.readUInt32LE(28),
  };
}

/*
 * struct rtvia {
 *   __kernel_sa_family_t rtvia_family;   u16
 *   __u8                 rtvia_addr[];
 * };
 */
export function decodeRtvia(b: Buffer): { family: number; addr: Buffer } {
  if (b.length < 2) throw new NetlinkParseError(`rtvia needs at least 2 bytes, got ${b.length}`);
  return { family: b.readUInt16LE(0), addr: b.subarray(2) };
}

export function encodeRtvia(family: number, addr: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(2 + addr.length);
  b.writeUInt16LE(family, 0);
  b.set(addr, 2);
  return b;
}

/** Splits an RTM_*ROUTE payload into its header and attributes. */
export function decodeRouteMessage(payload: Buffer): { header: Rtmsg; attrs: RouteAttrs } {
  return { header: decodeRtmsg(payload), attrs: routeAttrs.decode(payload, RTMSG_SIZE) };
}
