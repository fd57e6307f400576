// Interface addresses (linux/if_addr.h): struct ifaddrmsg, the IFA_*
// attribute table and struct ifa_cacheinfo. RTM_NEWADDR / RTM_DELADDR /
// RTM_GETADDR carry an ifaddrmsg followed by these attributes.
import { NetlinkParseError } from '../errors.js';
import type { Writer } from './netlink.js';
import { schema, type Decoded } from './schema.js';

// enum { IFA_UNSPEC, IFA_ADDRESS, ... }
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_ANYCAST = 5;
export const IFA_CACHEINFO = 6;
export const IFA_MULTICAST = 7;
export const IFA_FLAGS = 8;
export const IFA_RT_PRIORITY = 9;
export const IFA_TARGET_NETNSID = 10;
export const IFA_PROTO = 11;

// ifa_flags (the u8 in ifaddrmsg holds the low 8 bits; IFA_FLAGS the full u32)
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_TEMPORARY = IFA_F_SECONDARY;
export const IFA_F_NODAD = 0x02;
export const IFA_F_OPTIMISTIC = 0x04;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_HOMEADDRESS = 0x10;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_MANAGETEMPADDR = 0x100;
export const IFA_F_NOPREFIXROUTE = 0x200;
export const IFA_F_MCAUTOJOIN = 0x400;
export const IFA_F_STABLE_PRIVACY = 0x800;

// ifa_proto
export const IFAPROT_UNSPEC = 0;
export const IFAPROT_KERNEL_LO = 1;
export const IFAPROT_KERNEL_RA = 2;
export const IFAPROT_KERNEL_LL = 3;

/** Lifetime value meaning "forever" (INFINITY_LIFE_TIME). */
export const IFA_INFINITY_LIFE_TIME = 0xffffffff;

/** Names for IFA_F_* bits, as `ip addr` prints them (IPv4 "secondary" and IPv6 "temporary" share a bit). */
export const IFA_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [IFA_F_SECONDARY, 'secondary'],
  [IFA_F_NODAD, 'nodad'],
  [IFA_F_OPTIMISTIC, 'optimistic'],
  [IFA_F_DADFAILED, 'dadfailed'],
  [IFA_F_HOMEADDRESS, 'homeaddress'],
  [IFA_F_DEPRECATED, 'deprecated'],
  [IFA_F_TENTATIVE, 'tentative'],
  [IFA_F_PERMANENT, 'permanent'],
  [IFA_F_MANAGETEMPADDR, 'mngtmpaddr'],
  [IFA_F_NOPREFIXROUTE, 'noprefixroute'],
  [IFA_F_MCAUTOJOIN, 'autojoin'],
  [IFA_F_STABLE_PRIVACY, 'stable-privacy'],
];

/** IFA_* attributes. IFA_CACHEINFO is a struct: see decodeIfaCacheinfo. */
export const ifaddrAttrs = schema('ifaddr', {
  address: [IFA_ADDRESS, 'ip'],
  local: [IFA_LOCAL, 'ip'],
  label: [IFA_LABEL, 'string'],
  broadcast: [IFA_BROADCAST, 'ip'],
  anycast: [IFA_ANYCAST, 'ip'],
  cacheinfo: [IFA_CACHEINFO, 'binary'],
  multicast: [IFA_MULTICAST, 'ip'],
  flags: [IFA_FLAGS, 'u32'],
  rtPriority: [IFA_RT_PRIORITY, 'u32'],
  targetNetnsid: [IFA_TARGET_NETNSID, 's32'],
  proto: [IFA_PROTO, 'u8'],
} as const);

export type IfaddrAttrs = Decoded<typeof ifaddrAttrs.defs>;

/*
 * struct ifaddrmsg {
 *   __u8  ifa_family;
 *   __u8  ifa_prefixlen;
 *   __u8  ifa_flags;
 *   __u8  ifa_scope;
 *   __u32 ifa_index;
 * };
 */
export const IFADDRMSG_SIZE = 8;

export interface Ifaddrmsg {
  family: number;
  prefixlen: number;
  flags: number;
  scope: number;
  index: number;
}

export function encodeIfaddrmsg(w: Writer, h: Ifaddrmsg): void {
  const at = w.struct(IFADDRMSG_SIZE);
  const b = w.buf;
  b[at] = h.family;
  b[at + 1] = h.prefixlen;
  b[at + 2] = h.flags & 0xff;
  b[at + 3] = h.scope;
  b.writeUInt32LE(h.index >>> 0, at + 4);
}

export function decodeIfaddrmsg(b: Buffer): Ifaddrmsg {
  if (b.length < IFADDRMSG_SIZE) throw new NetlinkParseError(`ifaddrmsg needs ${IFADDRMSG_SIZE} bytes, got ${b.length}`);
  return { family: b[0], prefixlen: b[1], flags: b[2], scope: b[3], index: b.readUInt32LE(4) };
}

/*
 * struct ifa_cacheinfo {
 *   __u32 ifa_prefered;
 *   __u32 ifa_valid;
 *   __u32 cstamp;   created, hundredths of seconds since boot
 *   __u32 tstamp;   updated, hundredths of seconds since boot
 * };
 */
export const IFA_CACHEINFO_SIZE = 16;

export interface IfaCacheinfo {
  preferred: number;
  valid: number;
  created: number;
  updated: number;
}

export function decodeIfaCacheinfo(b: Buffer): IfaCacheinfo {
  if (b.length < IFA_CACHEINFO_SIZE) throw new NetlinkParseError(`ifa_cacheinfo needs ${IFA_CACHEINFO_SIZE} bytes, got ${b.length}`);
  return { preferred: b.readUInt32LE(0), valid: b.readUInt32LE(4), created: b.readUInt32LE(8), updated: b.readUInt32LE(12) };
}

export function encodeIfaCacheinfo(c: IfaCacheinfo): Buffer {
  const b = Buffer.alloc(IFA_CACHEINFO_SIZE);
  b.writeUInt32LE(c.preferred >>> 0, 0);
  b.writeUInt32LE(c.valid >>> 0, 4);
  b.writeUInt32LE(c.created >>> 0, 8);
  b.writeUInt32LE(c.updated >>> 0, 12);
  return b;
}

/** Splits an RTM_*ADDR payload into its header and attributes. */
export function decodeAddrMessage(payload: Buffer): { header: Ifaddrmsg; attrs: IfaddrAttrs } {
  return { header: decodeIfaddrmsg(payload), attrs: ifaddrAttrs.decode(payload, IFADDRMSG_SIZE) };
}
