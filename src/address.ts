// Interface addresses over rtnetlink (RTM_NEWADDR / RTM_DELADDR /
// RTM_GETADDR): `ip addr add|replace|del|show`, IPv4 and IPv6.
import { linkTarget, resolveIndex, type LinkRef } from './link.js';
import { Pipeline } from './pipeline.js';
import { collect, FAMILY_NAMES, familyNumber, flagNames, scopeName, scopeNumber, type Family, type ScopeName } from './rtnl.js';
import { Namespace } from './namespace.js';
import * as validate from './validate.js';
import { AF_INET, AF_INET6, ipToBytes, networkBytes, type Cidr } from './wire/address.js';
import {
  decodeAddrMessage,
  decodeIfaCacheinfo,
  encodeIfaCacheinfo,
  encodeIfaddrmsg,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_CACHEINFO,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_FLAG_NAMES,
  IFA_FLAGS,
  IFA_INFINITY_LIFE_TIME,
  IFA_LABEL,
  IFA_LOCAL,
  IFA_RT_PRIORITY,
} from './wire/addr.js';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, Writer, type RawAttr } from './wire/netlink.js';
import { RT_SCOPE_HOST, RT_SCOPE_UNIVERSE } from './wire/route.js';
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './wire/rtnetlink.js';


export type AddressFlag =
  | 'secondary'
  | 'nodad'
  | 'optimistic'
  | 'dadfailed'
  | 'homeaddress'
  | 'deprecated'
  | 'tentative'
  | 'permanent'
  | 'mngtmpaddr'
  | 'noprefixroute'
  | 'autojoin'
  | 'stable-privacy';

/** An address as the kernel reports it (RTM_NEWADDR). */
export interface Address {
  family: Family;
  /** Index of the interface it is on. */
  ifindex: number;
  /** The local address (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL). */
  address: string;
  prefix: number;
  /** "address/prefix", as accepted by deleteAddress. */
  cidr: string;
  /** Point-to-point peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer?: string;
  broadcast?: string;
  anycast?: string;
  /** IPv4 label (IFA_LABEL), e.g. "eth0" or "eth0:1". */
  label?: string;
  scope: ScopeName | number;
  /** IFA_F_* as names; `rawFlags` holds the bits. */
  flags: AddressFlag[];
  rawFlags: number;
  /** Seconds; Infinity = forever. */
  validLifetime: number;
  preferredLifetime: number;
  /** When created / last updated, in hundredths of a second since boot (ifa_cacheinfo). */
  created?: number;
  updated?: number;
  /** Metric of the prefix route (IFA_RT_PRIORITY). */
  metric?: number;
  /** IFA_PROTO: who added it (0 unspec, 1 kernel loopback, 2 kernel RA, 3 kernel link-local). */
  protocol?: number;
  /** Attributes this version does not decode, raw. */
  unknown?: RawAttr[];
}

const lifetime = (v: number): number => (v === IFA_INFINITY_LIFE_TIME ? Infinity : v);

/** Decodes one RTM_NEWADDR/RTM_DELADDR payload. */
export function decodeAddress(payload: Buffer): Address {
  const { header: h, attrs: a } = decodeAddrMessage(payload);
  const local = a.local ?? a.address ?? '';
  const bits = a.flags ?? h.flags;
  const out: Address = {
    family: FAMILY_NAMES[h.family] ?? (h.family as unknown as Family),
    ifindex: h.index,
    address: local,
    prefix: h.prefixlen,
    cidr: `${local}/${h.prefixlen}`,
    scope: scopeName(h.scope),
    flags: flagNames(bits, IFA_FLAG_NAMES) as AddressFlag[],
    rawFlags: bits,
    validLifetime: Infinity,
    preferredLifetime: Infinity,
  };
  if (a.local !== undefined && a.address !== undefined && a.address !== a.local) out.peer = a.address;
  if (a.broadcast !== undefined) out.broadcast = a.broadcast;
  if (a.anycast !== undefined) out.anycast = a.anycast;
  if (a.label !== undefined) out.label = a.label;
  if (a.cacheinfo) {
    const ci = decodeIfaCacheinfo(a.cacheinfo);
    out.validLifetime = lifetime(ci.valid);
    out.preferredLifetime = lifetime(ci.preferred);
    out.created = ci.created;
    out.updated = ci.updated;
  }
  if (a.rtPriority !== undefined) out.metric = a.rtPriority;
  if (a.proto !== undefined) out.protocol = a.proto;
  if (a.unknown) out.unknown = a.unknown;
  return out;
}

export interface AddAddressOptions {
  ns?: Namespace;
  /**
   * IPv4 broadcast address. Default: computed from the prefix (host bits all
   * ones) for prefixes up to /30 without a peer — what `ip addr add … brd +`,
   * vishvananda/netlink (so Docker) and systemd-networkd configure; the
   * kernel sets none on its own, and without it the subnet broadcast is not
   * recognised on that interface. `false` sets none.
   */
  broadcast?: string | false;
  /** Default: "host" for 127.0.0.0/8, else "global" (as iproute2). IPv6 scope is derived by the kernel from the address. */
  scope?: ScopeName | number;
  /** IPv4 label, at most 15 bytes; conventionally the device name or "<dev>:<alias>". */
  label?: string;
  /** Point-to-point peer address: the prefix then describes the peer's network. */
  peer?: string;
  /** Do not add the prefix route (IFA_F_NOPREFIXROUTE). */
  noPrefixRoute?: boolean;
  /** IPv6: skip duplicate address detection, so the address is usable at once (IFA_F_NODAD). */
  nodad?: boolean;
  /** Metric of the prefix route the kernel adds (IFA_RT_PRIORITY). */
  metric?: number;
  /** Seconds, default forever; the address is removed when it runs out. */
  validLifetime?: number;
  /** Seconds, default forever (at most validLifetime); the address is deprecated after it. */
  preferredLifetime?: number;
}

const ADD_OPTIONS = new Set(['ns', 'broadcast', 'scope', 'label', 'peer', 'noPrefixRoute', 'nodad', 'metric', 'validLifetime', 'preferredLifetime']);
const DELETE_OPTIONS = new Set(['ns', 'peer']);
const LIST_OPTIONS = new Set(['ns', 'link', 'family']);

function checkLifetime(v: unknown, arg: string): number {
  if (v === Infinity) return IFA_INFINITY_LIFE_TIME;
  return validate.uint(v, arg, IFA_INFINITY_LIFE_TIME - 1);
}

/** An address request checked and reduced to bytes (everything but the interface index). */
export interface AddressRequest {
  family: number;
  prefix: number;
  local: Buffer;
  /** IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point). */
  peer?: Buffer;
  broadcast?: Buffer;
  label?: string;
  /** IFA_F_* to set. */
  flags: number;
  scope: number;
  metric?: number;
  /** [preferred, valid] seconds. */
  lifetimes?: [number, number];
  /** Delete by bare IPv4 address: no IFA_ADDRESS, any prefix. */
  anyPrefix?: boolean;
}

/** Validates addAddress/replaceAddress arguments (no syscall). */
export function checkAddAddress(address: unknown, opts: AddAddressOptions, fn: string): AddressRequest {
  validate.options(opts, ADD_OPTIONS, fn);
  const c = validate.cidr(address, 'address');
  const v4 = c.family === AF_INET;
  const peer = opts.peer === undefined ? undefined : sameFamily(validate.ip(opts.peer, 'peer'), c, 'peer');
  let broadcast: string | undefined;
  if (opts.broadcast !== undefined && opts.broadcast !== false) {
    if (!v4) throw new TypeError('broadcast applies to IPv4 addresses only');
    broadcast = sameFamily(validate.ip(opts.broadcast, 'broadcast'), c, 'broadcast');
  } else if (opts.broadcast === undefined && v4 && peer === undefined && c.prefix <= 30) {
    broadcast = broadcastOf(c);
  }
  const scope = opts.scope === undefined ? (v4 && c.address.startsWith('127.') ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE) : scopeNumber(opts.scope);
  if (opts.label !== undefined) {
    if (!v4) throw new TypeError('label applies to IPv4 addresses only');
    if (typeof opts.label !== 'string' || opts.label.length === 0 || Buffer.byteLength(opts.label) > 15) {
      throw new RangeError(`label must be a string of 1..15 bytes, got ${JSON.stringify(opts.label)}`);
    }
  }
  let flags = 0;
  if (opts.noPrefixRoute) flags |= IFA_F_NOPREFIXROUTE;
  if (opts.nodad) {
    if (v4) throw new TypeError('nodad applies to IPv6 addresses only');
    flags |= IFA_F_NODAD;
  }
  const req: AddressRequest = { family: c.family, prefix: c.prefix, local: ipToBytes(c.address), flags, scope };
  if (peer !== undefined) req.peer = ipToBytes(peer);
  if (broadcast !== undefined) req.broadcast = ipToBytes(broadcast);
  if (opts.label !== undefined) req.label = opts.label;
  if (opts.metric !== undefined) req.metric = validate.uint(opts.metric, 'metric');
  if (opts.validLifetime !== undefined || opts.preferredLifetime !== undefined) {
    const valid = opts.validLifetime === undefined ? IFA_INFINITY_LIFE_TIME : checkLifetime(opts.validLifetime, 'validLifetime');
    const preferred = opts.preferredLifetime === undefined ? valid : checkLifetime(opts.preferredLifetime, 'preferredLifetime');
    if (preferred > valid) throw new RangeError('preferredLifetime must not exceed validLifetime');
    req.lifetimes = [preferred, valid];
  }
  return req;
}

/** Validates deleteAddress arguments (no syscall). */
export function checkDeleteAddress(address: unknown, opts: { peer?: string }, fn: string): AddressRequest {
  validate.options(opts, DELETE_OPTIONS, fn);
  const c = validate.cidr(address, 'address');
  const bare = !(address as string).includes('/');
  if (bare && c.family === AF_INET6) {
    throw new TypeError(`address ${JSON.stringify(address)}: give the prefix length (the kernel matches IPv6 addresses by address and prefix)`);
  }
  const req: AddressRequest = { family: c.family, prefix: bare ? 0 : c.prefix, local: ipToBytes(c.address), flags: 0, scope: 0 };
  if (opts.peer !== undefined) req.peer = ipToBytes(sameFamily(validate.ip(opts.peer, 'peer'), c, 'peer'));
  if (bare) req.anyPrefix = true;
  return req;
}

/**
 * Writes one RTM_NEWADDR / RTM_DELADDR message, attributes in the order
 * iproute2 writes them (with NLM_F_ACK in nlFlags the bytes equal `ip addr add|del`'s).
 */
export function writeAddressRequest(w: Writer, type: number, nlFlags: number, index: number, r: AddressRequest): void {
  const m = w.begin(type, NLM_F_REQUEST | nlFlags);
  encodeIfaddrmsg(w, { family: r.family, prefixlen: r.prefix, flags: r.flags, scope: r.scope, index });
  w.bytes(IFA_LOCAL, r.local);
  if (!r.anyPrefix) w.bytes(IFA_ADDRESS, r.peer ?? r.local);
  if (r.broadcast) w.bytes(IFA_BROADCAST, r.broadcast);
  if (r.label !== undefined) w.string(IFA_LABEL, r.label);
  if (r.flags > 0xff) w.u32(IFA_FLAGS, r.flags);
  if (r.metric !== undefined) w.u32(IFA_RT_PRIORITY, r.metric);
  if (r.lifetimes) w.bytes(IFA_CACHEINFO, encodeIfaCacheinfo({ preferred: r.lifetimes[0], valid: r.lifetimes[1], created: 0, updated: 0 }));
  w.end(m);
}

/** Resolves the interface (no syscall for an index) and queues the message; throws synchronously on a bad link argument. */
function sendAddress(fn: string, type: number, nlFlags: number, link: unknown, address: unknown, ns: unknown, r: AddressRequest): Promise<void> {
  const t = linkTarget(link, 'link');
  const n = Namespace.of(ns, t?.ns);
  const subject = `${address} dev ${t.subject}`;
  const idx = resolveIndex(n, t, fn);
  if (typeof idx === 'number') return Pipeline.of(n).send((w) => writeAddressRequest(w, type, nlFlags, idx, r), fn, subject);
  return idx.then((index) => Pipeline.of(n).send((w) => writeAddressRequest(w, type, nlFlags, index, r), fn, subject));
}

/**
 * Adds an address to an interface. Equivalent: `ip addr add 10.0.0.1/24 dev eth0`
 * (with `brd +` for IPv4 by default; see {@link AddAddressOptions.broadcast}).
 * Fails with EEXIST if the interface already has it.
 */
export function addAddress(link: LinkRef, address: string, opts: AddAddressOptions = {}): Promise<void> {
  try {
    const r = checkAddAddress(address, opts, 'addAddress');
    return sendAddress('addAddress', RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, link, address, opts.ns, r);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Adds an address or updates an existing one's options. Equivalent: `ip addr replace 10.0.0.1/24 dev eth0`. */
export function replaceAddress(link: LinkRef, address: string, opts: AddAddressOptions = {}): Promise<void> {
  try {
    const r = checkAddAddress(address, opts, 'replaceAddress');
    return sendAddress('replaceAddress', RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, link, address, opts.ns, r);
  } catch (e) {
    return Promise.reject(e);
  }
}

function sameFamily(ip: string, c: Cidr, arg: string): string {
  if ((ip.includes(':') ? AF_INET6 : AF_INET) !== c.family) throw new TypeError(`${arg} ${ip} is not of the same family as ${c.address}`);
  return ip;
}

function broadcastOf(c: Cidr): string {
  const b = networkBytes(ipToBytes(c.address), c.prefix);
  const n = b.readUInt32BE(0) + 2 ** (32 - c.prefix) - 1;
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * Removes an address. Equivalent: `ip addr del 10.0.0.1/24 dev eth0`.
 * "addr/prefix" must match the prefix it was added with. A bare IPv4
 * address removes that address whatever its prefix (the kernel's wildcard
 * match); IPv6 addresses are matched with their prefix, so give it.
 * Fails with EADDRNOTAVAIL if there is no such address.
 */
export function deleteAddress(link: LinkRef, address: string, opts: { ns?: Namespace; peer?: string } = {}): Promise<void> {
  try {
    const r = checkDeleteAddress(address, opts, 'deleteAddress');
    return sendAddress('deleteAddress', RTM_DELADDR, 0, link, address, opts.ns, r);
  } catch (e) {
    return Promise.reject(e);
  }
}

export interface ListAddressesOptions {
  ns?: Namespace;
  /** Only this interface's addresses (filtered by the kernel). */
  link?: LinkRef;
  family?: Family;
}

/**
 * Lists addresses, optionally of one interface and one family. Equivalent:
 * `ip addr show [dev eth0]` / `ip -4 addr`. The kernel filters by interface
 * (strict dump checking), so asking about one interface does not walk all.
 */
export async function listAddresses(opts: ListAddressesOptions = {}): Promise<Address[]> {
  const fn = 'listAddresses';
  validate.options(opts, LIST_OPTIONS, fn);
  const t = opts.link === undefined ? undefined : linkTarget(opts.link, 'link');
  const ns = Namespace.of(opts.ns, t?.ns);
  const family = familyNumber(opts.family);
  const index = t === undefined ? 0 : await resolveIndex(ns, t, fn);

  const w = new Writer(32);
  const m = w.begin(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  encodeIfaddrmsg(w, { family, prefixlen: 0, flags: 0, scope: 0, index });
  w.end(m);
  const bytes = w.finish();
  // Kernels before strict dump checking (4.20) ignore the filter and dump everything.
  return collect(
    (onPart) => Pipeline.of(ns).call(bytes, { operation: fn, subject: t?.subject, dump: true }, onPart),
    RTM_NEWADDR,
    decodeAddress,
    (a) => (!index || a.ifindex === index) && (!family || FAMILY_NAMES[family] === a.family),
  );
}

