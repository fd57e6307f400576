// Neighbours and bridge FDB entries (linux/neighbour.h): struct ndmsg, the
// NDA_* attribute table and struct nda_cacheinfo. ARP/NDP entries use
// AF_INET/AF_INET6; forwarding-database entries of bridges and vxlan devices
// use the same RTM_*NEIGH messages with AF_BRIDGE.
import { NetlinkParseError } from '../errors.js';
import type { Writer } from './netlink.js';
import { schema, type Decoded } from './schema.js';

// enum { NDA_UNSPEC, NDA_DST, ... }
export const NDA_DST = 1;
export const NDA_LLADDR = 2;
export const NDA_CACHEINFO = 3;
export const NDA_PROBES = 4;
export const NDA_VLAN = 5;
export const NDA_PORT = 6;
export const NDA_VNI = 7;
export const NDA_IFINDEX = 8;
export const NDA_MASTER = 9;
export const NDA_LINK_NETNSID = 10;
export const NDA_SRC_VNI = 11;
export const NDA_PROTOCOL = 12;
export const NDA_NH_ID = 13;
export const NDA_FDB_EXT_ATTRS = 14;
export const NDA_FLAGS_EXT = 15;
export const NDA_NDM_STATE_MASK = 16;
export const NDA_NDM_FLAGS_MASK = 17;

// ndm_flags
export const NTF_USE = 1 << 0;
export const NTF_SELF = 1 << 1;
export const NTF_MASTER = 1 << 2;
export const NTF_PROXY = 1 << 3;
export const NTF_EXT_LEARNED = 1 << 4;
export const NTF_OFFLOADED = 1 << 5;
export const NTF_STICKY = 1 << 6;
export const NTF_ROUTER = 1 << 7;
// NDA_FLAGS_EXT
export const NTF_EXT_MANAGED = 1 << 0;

// ndm_state
export const NUD_NONE = 0x00;
export const NUD_INCOMPLETE = 0x01;
export const NUD_REACHABLE = 0x02;
export const NUD_STALE = 0x04;
export const NUD_DELAY = 0x08;
export const NUD_PROBE = 0x10;
export const NUD_FAILED = 0x20;
export const NUD_NOARP = 0x40;
export const NUD_PERMANENT = 0x80;

export const NUD_NAMES: readonly (readonly [number, string])[] = [
  [NUD_INCOMPLETE, 'incomplete'],
  [NUD_REACHABLE, 'reachable'],
  [NUD_STALE, 'stale'],
  [NUD_DELAY, 'delay'],
  [NUD_PROBE, 'probe'],
  [NUD_FAILED, 'failed'],
  [NUD_NOARP, 'noarp'],
  [NUD_PERMANENT, 'permanent'],
];

export const NTF_NAMES: readonly (readonly [number, string])[] = [
  [NTF_USE, 'use'],
  [NTF_SELF, 'self'],
  [NTF_MASTER, 'master'],
  [NTF_PROXY, 'proxy'],
  [NTF_EXT_LEARNED, 'extern_learn'],
  [NTF_OFFLOADED, 'offload'],
  [NTF_STICKY, 'sticky'],
  [NTF_ROUTER, 'router'],
];

/** NDA_* attributes. NDA_CACHEINFO is a struct: see decodeNdaCacheinfo. */
export const neighAttrs = schema('neighbour', {
  dst: [NDA_DST, 'ip'],
  lladdr: [NDA_LLADDR, 'mac'],
  cacheinfo: [NDA_CACHEINFO, 'binary'],
  probes: [NDA_PROBES, 'u32'],
  vlan: [NDA_VLAN, 'u16'],
  port: [NDA_PORT, 'be16'],
  vni: [NDA_VNI, 'u32'],
  ifindex: [NDA_IFINDEX, 'u32'],
  master: [NDA_MASTER, 'u32'],
  linkNetnsid: [NDA_LINK_NETNSID, 's32'],
  srcVni: [NDA_SRC_VNI, 'u32'],
  protocol: [NDA_PROTOCOL, 'u8'],
  nhId: [NDA_NH_ID, 'u32'],
  fdbExtAttrs: [NDA_FDB_EXT_ATTRS, 'binary'],
  flagsExt: [NDA_FLAGS_EXT, 'u32'],
  stateMask: [NDA_NDM_STATE_MASK, 'u16'],
  flagsMask: [NDA_NDM_FLAGS_MASK, 'u8'],
} as const);

export type NeighAttrs = Decoded<typeof neighAttrs.defs>;

/*
 * struct ndmsg {
 *   __u8  ndm_family;
 *   __u8  ndm_pad1;
 *   __u16 ndm_pad2;
 *   __s32 ndm_ifindex;
 *   __u16 ndm_state;
 *   __u8  ndm_flags;
 *   __u8  ndm_type;
 * };
 */
export const NDMSG_SIZE = 12;

export interface Ndmsg {
  family: number;
  ifindex: number;
  state: number;
  flags: number;
  type: number;
}

export function encodeNdmsg(w: Writer, h: Ndmsg): void {
  const at = w.struct(NDMSG_SIZE);
  const b = w.buf;
  b[at] = h.family;
  b.writeInt32LE(h.ifindex, at + 4);
  b.writeUInt16LE(h.state, at + 8);
  b[at + 10] = h.flags;
  b[at + 11] = h.type;
}

export function decodeNdmsg(b: Buffer): Ndmsg {
  if (b.length < NDMSG_SIZE) throw new NetlinkParseError(`ndmsg needs ${NDMSG_SIZE} bytes, got ${b.length}`);
  return { family: b[0], ifindex: b.readInt32LE(4), state: b.readUInt16LE(8), flags: b[10], type: b[11] };
}

/*
 * struct nda_cacheinfo {
 *   __u32 ndm_confirmed;   clock ticks (USER_HZ) since last confirmation
 *   __u32 ndm_used;        since last use
 *   __u32 ndm_updated;     since last update
 *   __u32 ndm_refcnt;
 * };
 */
export const NDA_CACHEINFO_SIZE = 16;

export interface NdaCacheinfo {
  confirmed: number;
  used: number;
  updated: number;
  refcnt: number;
}

export function decodeNdaCacheinfo(b: Buffer): NdaCacheinfo {
  if (b.length < NDA_CACHEINFO_SIZE) throw new NetlinkParseError(`nda_cacheinfo needs ${NDA_CACHEINFO_SIZE} bytes, got ${b.length}`);
  return { confirmed: b.readUInt32LE(0), used: b.readUInt32LE(4), updated: b.readUInt32LE(8), refcnt: b.readUInt32LE(12) };
}

/** Splits an RTM_*NEIGH payload into its header and attributes. */
export function decodeNeighMessage(payload: Buffer): { header: Ndmsg; attrs: NeighAttrs } {
  return { header: decodeNdmsg(payload), attrs: neighAttrs.decode(payload, NDMSG_SIZE) };
}
