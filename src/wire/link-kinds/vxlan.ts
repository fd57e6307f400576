// vxlan: IFLA_VXLAN_* (linux/if_link.h). IFLA_VXLAN_GROUP/GROUP6 hold the
// remote (unicast) or the multicast group — the same attribute; `ip` and this
// decoder tell them apart by the address.
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { IFLA_VXLAN_UNSPEC, IFLA_VXLAN_ID, ... }
export const IFLA_VXLAN_ID = 1;
export const IFLA_VXLAN_GROUP = 2;
export const IFLA_VXLAN_LINK = 3;
export const IFLA_VXLAN_LOCAL = 4;
export const IFLA_VXLAN_TTL = 5;
export const IFLA_VXLAN_TOS = 6;
export const IFLA_VXLAN_LEARNING = 7;
export const IFLA_VXLAN_AGEING = 8;
export const IFLA_VXLAN_LIMIT = 9;
export const IFLA_VXLAN_PORT_RANGE = 10;
export const IFLA_VXLAN_PROXY = 11;
export const IFLA_VXLAN_RSC = 12;
export const IFLA_VXLAN_L2MISS = 13;
export const IFLA_VXLAN_L3MISS = 14;
export const IFLA_VXLAN_PORT = 15;
export const IFLA_VXLAN_GROUP6 = 16;
export const IFLA_VXLAN_LOCAL6 = 17;
export const IFLA_VXLAN_UDP_CSUM = 18;
export const IFLA_VXLAN_UDP_ZERO_CSUM6_TX = 19;
export const IFLA_VXLAN_UDP_ZERO_CSUM6_RX = 20;
export const IFLA_VXLAN_REMCSUM_TX = 21;
export const IFLA_VXLAN_REMCSUM_RX = 22;
export const IFLA_VXLAN_GBP = 23;
export const IFLA_VXLAN_REMCSUM_NOPARTIAL = 24;
export const IFLA_VXLAN_COLLECT_METADATA = 25;
export const IFLA_VXLAN_LABEL = 26;
export const IFLA_VXLAN_GPE = 27;
export const IFLA_VXLAN_TTL_INHERIT = 28;
export const IFLA_VXLAN_DF = 29;
export const IFLA_VXLAN_VNIFILTER = 30;
// Newer than these uapi headers; seen from kernel 6.18.
export const IFLA_VXLAN_LOCALBYPASS = 31;
export const IFLA_VXLAN_LABEL_POLICY = 32;
export const IFLA_VXLAN_RESERVED_BITS = 33;

export const vxlanData = schema('vxlan', {
  id: [IFLA_VXLAN_ID, 'u32'],
  group: [IFLA_VXLAN_GROUP, 'ip'],
  link: [IFLA_VXLAN_LINK, 'u32'],
  local: [IFLA_VXLAN_LOCAL, 'ip'],
  ttl: [IFLA_VXLAN_TTL, 'u8'],
  tos: [IFLA_VXLAN_TOS, 'u8'],
  learning: [IFLA_VXLAN_LEARNING, 'u8'],
  ageing: [IFLA_VXLAN_AGEING, 'u32'],
  limit: [IFLA_VXLAN_LIMIT, 'u32'],
  // struct ifla_vxlan_port_range { __be16 low; __be16 high; }
  portRange: [IFLA_VXLAN_PORT_RANGE, 'binary'],
  proxy: [IFLA_VXLAN_PROXY, 'u8'],
  rsc: [IFLA_VXLAN_RSC, 'u8'],
  l2miss: [IFLA_VXLAN_L2MISS, 'u8'],
  l3miss: [IFLA_VXLAN_L3MISS, 'u8'],
  port: [IFLA_VXLAN_PORT, 'be16'],
  group6: [IFLA_VXLAN_GROUP6, 'ip'],
  local6: [IFLA_VXLAN_LOCAL6, 'ip'],
  udpCsum: [IFLA_VXLAN_UDP_CSUM, 'u8'],
  udpZeroCsum6Tx: [IFLA_VXLAN_UDP_ZERO_CSUM6_TX, 'u8'],
  udpZeroCsum6Rx: [IFLA_VXLAN_UDP_ZERO_CSUM6_RX, 'u8'],
  remcsumTx: [IFLA_VXLAN_REMCSUM_TX, 'u8'],
  remcsumRx: [IFLA_VXLAN_REMCSUM_RX, 'u8'],
  gbp: [IFLA_VXLAN_GBP, 'flag'],
  remcsumNopartial: [IFLA_VXLAN_REMCSUM_NOPARTIAL, 'flag'],
  collectMetadata: [IFLA_VXLAN_COLLECT_METADATA, 'u8'],
  label: [IFLA_VXLAN_LABEL, 'be32'],
  gpe: [IFLA_VXLAN_GPE, 'flag'],
  // NLA_FLAG in requests, but dumps carry a u8 (0 or 1): binary covers both
  // (encode an empty buffer to set it).
  ttlInherit: [IFLA_VXLAN_TTL_INHERIT, 'binary'],
  df: [IFLA_VXLAN_DF, 'u8'],
  vnifilter: [IFLA_VXLAN_VNIFILTER, 'u8'],
  localbypass: [IFLA_VXLAN_LOCALBYPASS, 'u8'],
  labelPolicy: [IFLA_VXLAN_LABEL_POLICY, 'u32'],
  // struct vxlanhdr: the header bits the device accepts as reserved
  reservedBits: [IFLA_VXLAN_RESERVED_BITS, 'binary'],
} as const);

// enum ifla_vxlan_df { VXLAN_DF_UNSET, VXLAN_DF_SET, VXLAN_DF_INHERIT }
export const VXLAN_DF = ['unset', 'set', 'inherit'] as const;

export interface VxlanInfo {
  vni?: number;
  /** Unicast remote endpoint (IFLA_VXLAN_GROUP/GROUP6 holding a unicast address). */
  remote?: string;
  /** Multicast group (IFLA_VXLAN_GROUP/GROUP6 holding a multicast address). */
  group?: string;
  local?: string;
  /** IFLA_VXLAN_LINK: index of the underlay device. */
  link?: number;
  /** UDP destination port. */
  port?: number;
  /** UDP source port range. */
  srcPortRange?: { low: number; high: number };
  /** 0 = inherit from the inner packet unless ttlInherit. */
  ttl?: number;
  ttlInherit?: boolean;
  tos?: number;
  df?: (typeof VXLAN_DF)[number] | number;
  label?: number;
  /** IPv6 flow label policy: "fixed" (label) or "inherit". */
  labelPolicy?: 'fixed' | 'inherit' | number;
  learning?: boolean;
  /** FDB ageing, seconds. */
  ageing?: number;
  limit?: number;
  proxy?: boolean;
  rsc?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  udpCsum?: boolean;
  udpZeroCsum6Tx?: boolean;
  udpZeroCsum6Rx?: boolean;
  remcsumTx?: boolean;
  remcsumRx?: boolean;
  gbp?: boolean;
  gpe?: boolean;
  remcsumNopartial?: boolean;
  /** External control plane ("external" in ip). */
  collectMetadata?: boolean;
  vnifilter?: boolean;
  localbypass?: boolean;
  unknown?: Decoded<typeof vxlanData.defs>['unknown'];
}

declare module './registry.js' {
  interface LinkInfoByKind {
    vxlan: VxlanInfo;
  }
}

export function isMulticast(addr: string): boolean {
  if (addr.includes(':')) return /^ff/i.test(addr);
  const first = Number(addr.slice(0, addr.indexOf('.')));
  return first >= 224 && first <= 239;
}

const BOOLS = [
  'learning', 'proxy', 'rsc', 'l2miss', 'l3miss', 'udpCsum', 'udpZeroCsum6Tx', 'udpZeroCsum6Rx', 'remcsumTx',
  'remcsumRx', 'gbp', 'gpe', 'remcsumNopartial', 'collectMetadata', 'vnifilter', 'localbypass',
] as const;

registerLinkKind({
  kind: 'vxlan',
  data: vxlanData,
  decode(r: Decoded<typeof vxlanData.defs>): VxlanInfo {
    const out: VxlanInfo = {};
    if (r.id !== undefined) out.vni = r.id;
    const peer = r.group ?? r.group6;
    if (peer !== undefined) {
      if (isMulticast(peer)) out.group = peer;
      else out.remote = peer;
    }
    const local = r.local ?? r.local6;
    if (local !== undefined) out.local = local;
    if (r.link !== undefined) out.link = r.link;
    if (r.port !== undefined) out.port = r.port;
    if (r.portRange && r.portRange.length >= 4) out.srcPortRange = { low: r.portRange.readUInt16BE(0), high: r.portRange.readUInt16BE(2) };
    if (r.ttl !== undefined) out.ttl = r.ttl;
    if (r.tos !== undefined) out.tos = r.tos;
    if (r.df !== undefined) out.df = VXLAN_DF[r.df] ?? r.df;
    if (r.label !== undefined) out.label = r.label;
    if (r.labelPolicy !== undefined) out.labelPolicy = r.labelPolicy === 0 ? 'fixed' : r.labelPolicy === 1 ? 'inherit' : r.labelPolicy;
    if (r.ttlInherit !== undefined) out.ttlInherit = r.ttlInherit.length === 0 || r.ttlInherit[0] !== 0;
    if (r.ageing !== undefined) out.ageing = r.ageing;
    if (r.limit !== undefined) out.limit = r.limit;
    for (const k of BOOLS) {
      const v = r[k];
      if (v !== undefined) out[k] = v === true || (typeof v === 'number' && v !== 0);
    }
    if (r.unknown) out.unknown = r.unknown;
    if (r.reservedBits) (out.unknown ??= []).push({ type: IFLA_VXLAN_RESERVED_BITS, nested: false, value: r.reservedBits });
    return out;
  },
});
