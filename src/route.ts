// Routes over rtnetlink (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE):
// `ip route add|replace|del|show|get`, IPv4 and IPv6, any table (ids above
// 255 travel in RTA_TABLE), gateways, on-link next hops, multipath.
import { NetlinkError } from './errors.js';
import { Namespace } from './namespace.js';
import * as validate from './validate.js';
import { linkTarget, resolveIndex, type LinkRef } from './link.js';
import { Pipeline } from './pipeline.js';
import { collect, FAMILY_NAMES, familyNumber, flagNames, scopeName, scopeNumber, type Family, type LinkTarget, type ScopeName } from './rtnl.js';
import { AF_INET, AF_INET6, bytesToIp, ipFamily, ipToBytes, networkBytes, type Cidr } from './wire/address.js';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, Writer, type RawAttr } from './wire/netlink.js';
import {
  decodeMultipath,
  decodeRouteMessage,
  decodeRtaCacheinfo,
  decodeRtvia,
  encodeMultipath,
  encodeRtmsg,
  encodeRtvia,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_DEFAULT,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  RTA_DST,
  RTA_GATEWAY,
  RTA_MARK,
  RTA_METRICS,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTA_VIA,
  rtaxAttrs,
  RTM_F_LOOKUP_TABLE,
  RTM_FLAG_NAMES,
  RTN_ANYCAST,
  RTN_BROADCAST,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_NAMES,
  RTN_NAT,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTNH_F_ONLINK,
  RTNH_FLAG_NAMES,
  RTPROT_BOOT,
  RTPROT_NAMES,
  RTPROT_UNSPEC,
  type RouteMetrics,
  type RtaCacheinfo,
} from './wire/route.js';
import { RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE } from './wire/rtnetlink.js';

export type RouteType = (typeof RTN_NAMES)[number];
export type TableRef = number | 'main' | 'local' | 'default';
export type Protocol =
  | 'unspec'
  | 'redirect'
  | 'kernel'
  | 'boot'
  | 'static'
  | 'gated'
  | 'ra'
  | 'mrt'
  | 'zebra'
  | 'bird'
  | 'dnrouted'
  | 'xorp'
  | 'ntk'
  | 'dhcp'
  | 'mrouted'
  | 'keepalived'
  | 'babel'
  | 'openr'
  | 'bgp'
  | 'isis'
  | 'ospf'
  | 'rip'
  | 'eigrp';

/** RTAX_* metrics a route may carry (`ip route add … mtu 1400 advmss 1360`). */
export type RouteMetricsSpec = Omit<RouteMetrics, 'unknown'>;

export interface NexthopSpec {
  gateway?: string;
  dev?: LinkRef;
  /** 1..256, default 1. */
  weight?: number;
  onlink?: boolean;
}

/** What addRoute / replaceRoute / deleteRoute take. */
export interface RouteSpec {
  /** "10.1.0.0/16", "fd00:1::/64", a bare address (host route) or "default". */
  dst: string;
  /** Needed only for "default" without a gateway; otherwise taken from dst or the gateway. */
  family?: Family;
  /** Next-hop router; an IPv6 gateway for an IPv4 route travels as RTA_VIA. */
  gateway?: string;
  /** Outgoing interface. */
  dev?: LinkRef;
  /** Treat the gateway as directly reachable on dev even without a matching prefix. */
  onlink?: boolean;
  /** RTA_PRIORITY; lower wins. */
  metric?: number;
  /** Default as iproute2: "host" for local/nat, "link" for broadcast/anycast/multicast and gateway-less unicast, else "global". */
  scope?: ScopeName | number;
  /** Preferred source address for traffic using this route (RTA_PREFSRC, ip's `src`). */
  src?: string;
  /** Default "main". */
  table?: TableRef;
  /** Default "boot", as `ip route add`. */
  protocol?: Protocol | number;
  /** Default "unicast". */
  type?: RouteType;
  /** IPv4 TOS / DS field the route matches (rtm_tos). */
  tos?: number;
  metrics?: RouteMetricsSpec;
  /** Multipath (ECMP) next hops instead of gateway/dev. */
  nexthops?: NexthopSpec[];
}

export interface Nexthop {
  gateway?: string;
  dev: number;
  weight: number;
  flags: string[];
}

/** A route as the kernel reports it. Passing one to deleteRoute removes exactly it. */
export interface Route {
  family: Family;
  /** "default" or "network/prefix". */
  dst: string;
  /** Source prefix of a source-specific (IPv6 "from") route. */
  from?: string;
  tos: number;
  table: number;
  protocol: Protocol | number;
  scope: ScopeName | number;
  type: RouteType;
  /** rtm_flags as names (onlink, linkdown, dead, offload, …); `rawFlags` holds the bits. */
  flags: string[];
  rawFlags: number;
  gateway?: string;
  dev?: number;
  /** Preferred source (RTA_PREFSRC). */
  src?: string;
  metric?: number;
  iif?: number;
  mark?: number;
  metrics?: RouteMetrics;
  nexthops?: Nexthop[];
  /** IPv6 router preference (RTA_PREF: 0 medium, 1 high, 3 low). */
  pref?: number;
  /** Remaining lifetime in seconds, for routes that expire (from rta_cacheinfo). */
  expires?: number;
  cacheinfo?: RtaCacheinfo;
  encapType?: number;
  nhId?: number;
  unknown?: RawAttr[];
}

const USER_HZ = 100;

/** Decodes one RTM_NEWROUTE/RTM_DELROUTE payload. */
export function decodeRoute(payload: Buffer): Route {
  const { header: h, attrs: a } = decodeRouteMessage(payload);
  const family = FAMILY_NAMES[h.family] ?? (h.family as unknown as Family);
  const r: Route = {
    family,
    dst: h.dstLen === 0 && a.dst === undefined ? 'default' : `${a.dst ?? (h.family === AF_INET6 ? '::' : '0.0.0.0')}/${h.dstLen}`,
    tos: h.tos,
    table: a.table ?? h.table,
    protocol: (RTPROT_NAMES[h.protocol] as Protocol | undefined) ?? h.protocol,
    scope: scopeName(h.scope),
    type: RTN_NAMES[h.type] ?? (h.type as unknown as RouteType),
    flags: flagNames(h.flags, RTM_FLAG_NAMES),
    rawFlags: h.flags,
  };
  if (h.srcLen !== 0 || a.src !== undefined) r.from = `${a.src ?? '::'}/${h.srcLen}`;
  if (a.gateway !== undefined) r.gateway = a.gateway;
  else if (a.via) r.gateway = viaText(a.via);
  if (a.oif !== undefined) r.dev = a.oif;
  if (a.prefsrc !== undefined) r.src = a.prefsrc;
  if (a.priority !== undefined) r.metric = a.priority;
  if (a.iif !== undefined) r.iif = a.iif;
  if (a.mark !== undefined) r.mark = a.mark;
  if (a.metrics) r.metrics = a.metrics;
  if (a.multipath) {
    r.nexthops = decodeMultipath(a.multipath).map((nh) => {
      const out: Nexthop = { dev: nh.ifindex, weight: nh.hops + 1, flags: flagNames(nh.flags, RTNH_FLAG_NAMES) };
      if (nh.attrs.gateway !== undefined) out.gateway = nh.attrs.gateway;
      else if (nh.attrs.via) out.gateway = viaText(nh.attrs.via);
      return out;
    });
  }
  if (a.pref !== undefined) r.pref = a.pref;
  if (a.cacheinfo) {
    r.cacheinfo = decodeRtaCacheinfo(a.cacheinfo);
    if (r.cacheinfo.expires) r.expires = Math.round(r.cacheinfo.expires / USER_HZ);
  }
  if (a.encapType !== undefined) r.encapType = a.encapType;
  if (a.nhId !== undefined) r.nhId = a.nhId;
  if (a.unknown) r.unknown = a.unknown;
  return r;
}

function viaText(b: Buffer): string {
  const { addr } = decodeRtvia(b);
  return addr.length === 4 || addr.length === 16 ? bytesToIp(addr) : addr.toString('hex');
}

// ---------------------------------------------------------------------------
// Encoding

const SPEC_KEYS = ['dst', 'family', 'gateway', 'dev', 'onlink', 'metric', 'scope', 'src', 'table', 'protocol', 'type', 'tos', 'metrics', 'nexthops'];
const ADD_OPTIONS = new Set([...SPEC_KEYS, 'ns']);
/** deleteRoute also takes a listed Route; its report-only fields do not narrow the match. */
const DELETE_OPTIONS = new Set([...ADD_OPTIONS, 'flags', 'rawFlags', 'from', 'iif', 'mark', 'pref', 'expires', 'cacheinfo', 'encapType', 'nhId', 'unknown']);
const NEXTHOP_KEYS = new Set(['gateway', 'dev', 'weight', 'onlink']);
const NEXTHOP_DELETE_KEYS = new Set([...NEXTHOP_KEYS, 'flags']);
const LIST_OPTIONS = new Set(['ns', 'table', 'family', 'dev', 'protocol', 'type']);

const TABLES: Record<string, number> = { main: RT_TABLE_MAIN, local: RT_TABLE_LOCAL, default: RT_TABLE_DEFAULT };
const PROTOCOLS: Record<string, number> = Object.fromEntries(Object.entries(RTPROT_NAMES).map(([n, name]) => [name, Number(n)]));

function tableNumber(t: unknown, arg = 'table'): number {
  if (typeof t === 'string' && t in TABLES) return TABLES[t];
  if (typeof t === 'number') return validate.uint(t, arg, 0xffffffff, 1);
  throw new TypeError(`${arg} must be a table id (1..4294967295) or one of main, local, default; got ${JSON.stringify(t)}`);
}

function protocolNumber(p: unknown, arg = 'protocol'): number {
  if (typeof p === 'number') return validate.uint(p, arg, 255);
  if (typeof p === 'string' && p in PROTOCOLS) return PROTOCOLS[p];
  throw new TypeError(`${arg} must be 0..255 or one of ${Object.keys(PROTOCOLS).join(', ')}; got ${JSON.stringify(p)}`);
}

function typeNumber(t: unknown, arg = 'type'): number {
  const i = RTN_NAMES.indexOf(t as RouteType);
  if (i < 0) throw new TypeError(`${arg} must be one of ${RTN_NAMES.join(', ')}; got ${JSON.stringify(t)}`);
  return i;
}

function familyOfIp(ip: string): number {
  return ipFamily(ip) as number;
}

/** A route spec checked and reduced to numbers and bytes; interface names are still to resolve. */
export interface RouteRequest {
  family: number;
  dst?: Buffer;
  dstLen: number;
  tos: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  gateway?: Buffer;
  gatewayFamily: number;
  dev?: LinkTarget;
  src?: Buffer;
  metric?: number;
  metrics?: RouteMetricsSpec;
  nexthops?: { gateway?: Buffer; gatewayFamily: number; dev?: LinkTarget; weight: number; onlink: boolean }[];
}

function parseDst(dst: unknown, family: unknown): { family: number; cidr?: Cidr } {
  if (dst === 'default') return { family: familyNumber(family) };
  const cidr = validate.cidr(dst, 'dst');
  if (family !== undefined && familyNumber(family) !== cidr.family) throw new TypeError(`family ${String(family)} does not match dst ${String(dst)}`);
  const net = networkBytes(ipToBytes(cidr.address), cidr.prefix);
  if (!net.equals(ipToBytes(cidr.address))) {
    throw new RangeError(`dst ${JSON.stringify(dst)} has host bits set; the network is ${bytesToIp(net)}/${cidr.prefix}`);
  }
  return { family: cidr.family, cidr };
}

/** Validates a route for add/replace (del false) or delete (del true), without any syscall. */
export function checkRoute(spec: RouteSpec, del: boolean, fn: string): RouteRequest {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`${fn}: route must be an object with at least dst`);
  validate.options(spec, del ? DELETE_OPTIONS : ADD_OPTIONS, fn);
  if (spec.dst === undefined) throw new TypeError(`${fn}: dst is required ("default" or a CIDR)`);
  const d = parseDst(spec.dst, spec.family);
  let family = d.family;
  const gw = spec.gateway === undefined ? undefined : validate.ip(spec.gateway, 'gateway');
  if (family === 0) {
    const first = gw ?? spec.nexthops?.find((n) => n && typeof n.gateway === 'string')?.gateway;
    family = first !== undefined && ipFamily(first) ? familyOfIp(first) : AF_INET;
  }
  const c: RouteRequest = {
    family,
    dstLen: d.cidr?.prefix ?? 0,
    tos: spec.tos === undefined ? 0 : validate.uint(spec.tos, 'tos', 255),
    table: spec.table === undefined ? RT_TABLE_MAIN : tableNumber(spec.table),
    protocol: spec.protocol === undefined ? (del ? RTPROT_UNSPEC : RTPROT_BOOT) : protocolNumber(spec.protocol),
    type: spec.type === undefined ? (del ? RTN_UNSPEC : RTN_UNICAST) : typeNumber(spec.type),
    scope: 0,
    flags: spec.onlink ? RTNH_F_ONLINK : 0,
    gatewayFamily: 0,
  };
  if (d.cidr && d.cidr.prefix > 0) c.dst = ipToBytes(d.cidr.address);
  if (gw !== undefined) {
    c.gateway = ipToBytes(gw);
    c.gatewayFamily = familyOfIp(gw);
    if (c.gatewayFamily === AF_INET && family === AF_INET6) throw new TypeError(`gateway ${gw} is IPv4 but the route is IPv6`);
  }
  if (spec.dev !== undefined) c.dev = linkTarget(spec.dev, 'dev');
  if (spec.src !== undefined) {
    const src = validate.ip(spec.src, 'src');
    if (familyOfIp(src) !== family) throw new TypeError(`src ${src} is not of the route's family`);
    c.src = ipToBytes(src);
  }
  if (spec.metric !== undefined) c.metric = validate.uint(spec.metric, 'metric');
  if (spec.metrics !== undefined) {
    if (typeof spec.metrics !== 'object' || spec.metrics === null) throw new TypeError('metrics must be an object');
    c.metrics = spec.metrics;
    // Encoding into a scratch writer validates keys and ranges before any syscall.
    rtaxAttrs.encode(new Writer(64), spec.metrics);
  }
  if (spec.nexthops !== undefined) {
    if (!Array.isArray(spec.nexthops) || spec.nexthops.length === 0) throw new TypeError('nexthops must be a non-empty array');
    if (gw !== undefined || spec.dev !== undefined) throw new TypeError('give either gateway/dev or nexthops, not both');
    c.nexthops = spec.nexthops.map((nh, i) => {
      const at = `nexthops[${i}]`;
      validate.options(nh, del ? NEXTHOP_DELETE_KEYS : NEXTHOP_KEYS, `${fn} ${at}`);
      const g = nh.gateway === undefined ? undefined : validate.ip(nh.gateway, `${at}.gateway`);
      const gf = g === undefined ? 0 : familyOfIp(g);
      if (gf === AF_INET && family === AF_INET6) throw new TypeError(`${at}.gateway ${g} is IPv4 but the route is IPv6`);
      if (g === undefined && nh.dev === undefined) throw new TypeError(`${at} needs a gateway or a dev`);
      return {
        gateway: g === undefined ? undefined : ipToBytes(g),
        gatewayFamily: gf,
        dev: nh.dev === undefined ? undefined : linkTarget(nh.dev, `${at}.dev`),
        weight: nh.weight === undefined ? 1 : validate.uint(nh.weight, `${at}.weight`, 256, 1),
        onlink: nh.onlink === true,
      };
    });
  }
  if (spec.scope !== undefined) c.scope = scopeNumber(spec.scope);
  else if (del) c.scope = RT_SCOPE_NOWHERE;
  else if (c.type === RTN_LOCAL || c.type === RTN_NAT) c.scope = RT_SCOPE_HOST;
  else if (c.type === RTN_BROADCAST || c.type === RTN_MULTICAST || c.type === RTN_ANYCAST) c.scope = RT_SCOPE_LINK;
  else if ((c.type === RTN_UNICAST || c.type === RTN_UNSPEC) && !c.gateway && !c.nexthops) c.scope = RT_SCOPE_LINK;
  else c.scope = RT_SCOPE_UNIVERSE;
  return c;
}

function describe(spec: RouteSpec, c: RouteRequest): string {
  let s = String(spec.dst);
  if (spec.gateway !== undefined) s += ` via ${spec.gateway}`;
  if (c.dev !== undefined) s += ` dev ${c.dev.subject}`;
  if (spec.table !== undefined) s += ` table ${spec.table}`;
  if (spec.metric !== undefined) s += ` metric ${spec.metric}`;
  return s;
}


/** Writes one RTM_NEWROUTE / RTM_DELROUTE message (flags: NLM_F_* besides NLM_F_REQUEST); dev and hopDevs are the resolved interface indexes. */
export function writeRouteRequest(w: Writer, type: number, flags: number, c: RouteRequest, dev: number | undefined, hopDevs: (number | undefined)[]): void {
  const m = w.begin(type, NLM_F_REQUEST | flags);
  encodeRtmsg(w, {
    family: c.family,
    dstLen: c.dstLen,
    srcLen: 0,
    tos: c.tos,
    table: c.table < 256 ? c.table : RT_TABLE_UNSPEC,
    protocol: c.protocol,
    scope: c.scope,
    type: c.type,
    flags: c.flags,
  });
  // Attribute order as iproute2 writes `ip route add DST [src S] via GW [table T] [metric M] dev D [mtu …]`.
  if (c.dst) w.bytes(RTA_DST, c.dst);
  if (c.src) w.bytes(RTA_PREFSRC, c.src);
  if (c.gateway) {
    if (c.gatewayFamily === c.family) w.bytes(RTA_GATEWAY, c.gateway);
    else w.bytes(RTA_VIA, encodeRtvia(c.gatewayFamily, c.gateway));
  }
  if (c.table >= 256) w.u32(RTA_TABLE, c.table);
  if (c.metric !== undefined) w.u32(RTA_PRIORITY, c.metric);
  if (dev !== undefined) w.u32(RTA_OIF, dev);
  if (c.metrics) {
    // RTA_METRICS without NLA_F_NESTED, as iproute2 sends it.
    const at = w.nest(RTA_METRICS);
    w.buf.writeUInt16LE(RTA_METRICS, at + 2);
    rtaxAttrs.encode(w, c.metrics);
    w.endNest(at);
  }
  if (c.nexthops) {
    encodeMultipath(
      w,
      c.nexthops.map((nh, i) => ({
        flags: nh.onlink ? RTNH_F_ONLINK : 0,
        hops: nh.weight - 1,
        ifindex: hopDevs[i] ?? 0,
        gateway: nh.gateway && nh.gatewayFamily === c.family ? nh.gateway : undefined,
        via: nh.gateway && nh.gatewayFamily !== c.family ? encodeRtvia(nh.gatewayFamily, nh.gateway) : undefined,
      })),
    );
  }
  w.end(m);
}

async function modifyRoute(fn: string, type: number, flags: number, spec: RouteSpec & { ns?: Namespace }): Promise<void> {
  const c = checkRoute(spec, type === RTM_DELROUTE, fn);
  const ns = Namespace.of(spec.ns, c.dev?.ns, ...(c.nexthops ?? []).map((nh) => nh.dev?.ns));
  const targets = [c.dev, ...(c.nexthops ?? []).map((nh) => nh.dev)];
  let devs = targets.map((t) => t && resolveIndex(ns, t, fn));
  if (devs.some((d) => typeof d === 'object')) devs = await Promise.all(devs);
  const dev = devs[0] as number | undefined;
  const hopDevs = devs.slice(1) as (number | undefined)[];
  return Pipeline.of(ns).send((w) => writeRouteRequest(w, type, flags, c, dev, hopDevs), fn, describe(spec, c));
}

/**
 * Adds a route. Equivalent: `ip route add 10.1.0.0/16 via 10.0.0.1 dev eth0 [table 100] [metric 10]`;
 * `{ dst: 'default', gateway }` is `ip route add default via …`. Fails with EEXIST if it exists.
 */
export function addRoute(route: RouteSpec & { ns?: Namespace }): Promise<void> {
  return modifyRoute('addRoute', RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
}

/** Adds a route or replaces the one with the same key (dst, table, tos, metric). Equivalent: `ip route replace …`. */
export function replaceRoute(route: RouteSpec & { ns?: Namespace }): Promise<void> {
  return modifyRoute('replaceRoute', RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route);
}

/**
 * Deletes a route. Equivalent: `ip route del 10.1.0.0/16 [via …] [dev …] [table …]`.
 * Only what is given narrows the match (table defaults to main), so
 * `{ dst }` removes the first matching route; a Route from listRoutes
 * removes exactly it. Fails with ESRCH if none matches.
 */
export function deleteRoute(route: (RouteSpec | Route) & { ns?: Namespace }): Promise<void> {
  return modifyRoute('deleteRoute', RTM_DELROUTE, 0, route as RouteSpec & { ns?: Namespace });
}

export interface ListRoutesOptions {
  ns?: Namespace;
  /** Default "main" (as `ip route show`); "all" for every table. */
  table?: TableRef | 'all';
  family?: Family;
  /** Only routes out of this interface. */
  dev?: LinkRef;
  protocol?: Protocol | number;
  type?: RouteType;
}

/**
 * Lists routes. Equivalent: `ip route show [table N|all] [dev eth0] [proto P] [type T]`
 * (both families unless `family` is given). The kernel filters by table,
 * interface, protocol and type; cloned/cached routes are not included.
 */
export async function listRoutes(opts: ListRoutesOptions = {}): Promise<Route[]> {
  const fn = 'listRoutes';
  validate.options(opts, LIST_OPTIONS, fn);
  const t = opts.dev === undefined ? undefined : linkTarget(opts.dev, 'dev');
  const ns = Namespace.of(opts.ns, t?.ns);
  const family = familyNumber(opts.family);
  const table = opts.table === 'all' ? 0 : opts.table === undefined ? RT_TABLE_MAIN : tableNumber(opts.table);
  const protocol = opts.protocol === undefined ? 0 : protocolNumber(opts.protocol);
  const type = opts.type === undefined ? 0 : typeNumber(opts.type);
  const dev = t === undefined ? undefined : await resolveIndex(ns, t, fn);

  const w = new Writer(64);
  const m = w.begin(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  encodeRtmsg(w, { family, dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol, scope: 0, type, flags: 0 });
  if (table) w.u32(RTA_TABLE, table);
  if (dev !== undefined) w.u32(RTA_OIF, dev);
  w.end(m);
  const bytes = w.finish();
  // The same filters again: kernels before strict dump checking (4.20) ignore them.
  const keep = (r: Route) => {
    if (r.family !== 'inet' && r.family !== 'inet6') return false; // IPMR/IP6MR tables answer an AF_UNSPEC dump too
    if (family && FAMILY_NAMES[family] !== r.family) return false;
    if (table && r.table !== table) return false;
    if (protocol && (typeof r.protocol === 'number' ? r.protocol : PROTOCOLS[r.protocol]) !== protocol) return false;
    if (type && RTN_NAMES[type] !== r.type) return false;
    return dev === undefined || r.dev === dev || !!r.nexthops?.some((nh) => nh.dev === dev);
  };
  try {
    return await collect((onPart) => Pipeline.of(ns).call(bytes, { operation: fn, subject: table ? `table ${opts.table}` : undefined, dump: true }, onPart), RTM_NEWROUTE, decodeRoute, keep);
  } catch (e) {
    // A table that was never created is an empty table (the kernel says ENOENT when one family is asked for).
    if (e instanceof NetlinkError && e.code === 'ENOENT' && table) return [];
    throw e;
  }
}

export interface GetRouteOptions {
  ns?: Namespace;
  /** Source address of the lookup (RTA_SRC). */
  from?: string;
  /** Force the outgoing interface (RTA_OIF). */
  dev?: LinkRef;
  /** Firewall mark (RTA_MARK). */
  mark?: number;
}

/**
 * Asks the kernel which route a packet to `dst` takes. Equivalent:
 * `ip route get 10.1.2.3 [from …] [oif …] [mark …]`. For IPv4 the result's
 * table is the FIB table that matched; its dst is the host address looked up.
 */
export async function getRoute(dst: string, opts: GetRouteOptions = {}): Promise<Route> {
  const fn = 'getRoute';
  validate.options(opts, new Set(['ns', 'from', 'dev', 'mark']), fn);
  const t = opts.dev === undefined ? undefined : linkTarget(opts.dev, 'dev');
  const ns = Namespace.of(opts.ns, t?.ns);
  const d = validate.ip(dst, 'dst');
  const family = familyOfIp(d);
  const from = opts.from === undefined ? undefined : validate.ip(opts.from, 'from');
  if (from !== undefined && familyOfIp(from) !== family) throw new TypeError(`from ${from} is not of the same family as ${d}`);
  const mark = opts.mark === undefined ? undefined : validate.uint(opts.mark, 'mark');
  const dev = t === undefined ? undefined : await resolveIndex(ns, t, fn);
  const bits = family === AF_INET ? 32 : 128;

  const w = new Writer(96);
  const m = w.begin(RTM_GETROUTE, NLM_F_REQUEST);
  // RTM_F_LOOKUP_TABLE (report the FIB table that matched) is IPv4 only; IPv6 refuses it.
  const flags = family === AF_INET ? RTM_F_LOOKUP_TABLE : 0;
  encodeRtmsg(w, { family, dstLen: bits, srcLen: from === undefined ? 0 : bits, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags });
  w.bytes(RTA_DST, ipToBytes(d));
  if (from !== undefined) w.bytes(RTA_SRC, ipToBytes(from));
  if (dev !== undefined) w.u32(RTA_OIF, dev);
  if (mark !== undefined) w.u32(RTA_MARK, mark);
  w.end(m);
  const data = await Pipeline.of(ns).call(w.finish(), { operation: fn, subject: d });
  const reply = data.find((x) => x.type === RTM_NEWROUTE);
  if (!reply) throw new NetlinkError(61 /* ENODATA */, fn, { subject: d, kernelMessage: 'no route message in the reply' });
  return decodeRoute(reply.payload);
}

