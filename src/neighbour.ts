// Neighbours (ARP / NDP entries) and bridge forwarding-database entries over
// rtnetlink: the same RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH messages,
// with AF_INET/AF_INET6 for `ip neigh` and AF_BRIDGE for `bridge fdb`.
import { Namespace } from './namespace.js';
import * as validate from './validate.js';
import { linkTarget, resolveIndex, type LinkRef } from './link.js';
import { Pipeline } from './pipeline.js';
import { collect, decodeAll, FAMILY_NAMES, familyNumber, flagNames, type Family, type LinkTarget } from './rtnl.js';
import { AF_BRIDGE, ipFamily, ipToBytes, macToBytes } from './wire/address.js';
import {
  decodeNdaCacheinfo,
  decodeNeighMessage,
  encodeNdmsg,
  NDA_DST,
  NDA_FLAGS_EXT,
  NDA_IFINDEX,
  NDA_LLADDR,
  NDA_MASTER,
  NDA_PORT,
  NDA_SRC_VNI,
  NDA_VLAN,
  NDA_VNI,
  NTF_EXT_LEARNED,
  NTF_EXT_MANAGED,
  NTF_MASTER,
  NTF_NAMES,
  NTF_PROXY,
  NTF_ROUTER,
  NTF_SELF,
  NTF_STICKY,
  NUD_DELAY,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_NAMES,
  NUD_NOARP,
  NUD_NONE,
  NUD_PERMANENT,
  NUD_PROBE,
  NUD_REACHABLE,
  NUD_STALE,
  type NdaCacheinfo,
} from './wire/neigh.js';
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, Writer, type RawAttr } from './wire/netlink.js';
import { RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH } from './wire/rtnetlink.js';

export type NeighbourState = 'permanent' | 'noarp' | 'reachable' | 'stale' | 'delay' | 'probe' | 'incomplete' | 'failed' | 'none';

const STATES: Record<NeighbourState, number> = {
  permanent: NUD_PERMANENT,
  noarp: NUD_NOARP,
  reachable: NUD_REACHABLE,
  stale: NUD_STALE,
  delay: NUD_DELAY,
  probe: NUD_PROBE,
  incomplete: NUD_INCOMPLETE,
  failed: NUD_FAILED,
  none: NUD_NONE,
};

/** An ARP (IPv4) or NDP (IPv6) entry as the kernel reports it. */
export interface Neighbour {
  family: Family;
  ifindex: number;
  /** The IP address (NDA_DST). */
  address: string;
  /** The link-layer address (NDA_LLADDR), absent while unresolved. */
  mac?: string;
  /** One NUD state; a number if the kernel reports a combination. */
  state: NeighbourState | number;
  rawState: number;
  /** NTF_* as names (router, proxy, extern_learn, …); `rawFlags` holds the bits. */
  flags: string[];
  rawFlags: number;
  /** NTF_EXT_MANAGED (NDA_FLAGS_EXT): the kernel keeps it resolved. */
  managed?: boolean;
  probes?: number;
  /** Clock ticks (hundredths of a second) since confirmed/used/updated, and the reference count. */
  cacheinfo?: NdaCacheinfo;
  /** NDA_PROTOCOL: who installed it. */
  protocol?: number;
  unknown?: RawAttr[];
}

function stateName(s: number): NeighbourState | number {
  if (s === 0) return 'none';
  for (const [bit, name] of NUD_NAMES) if (s === bit) return name as NeighbourState;
  return s;
}

/** Decodes one RTM_NEWNEIGH/RTM_DELNEIGH payload of family AF_INET/AF_INET6. */
export function decodeNeighbour(payload: Buffer): Neighbour {
  const { header: h, attrs: a } = decodeNeighMessage(payload);
  const n: Neighbour = {
    family: FAMILY_NAMES[h.family] ?? (h.family as unknown as Family),
    ifindex: h.ifindex,
    address: a.dst ?? '',
    state: stateName(h.state),
    rawState: h.state,
    flags: flagNames(h.flags, NTF_NAMES),
    rawFlags: h.flags,
  };
  if (a.lladdr !== undefined && a.lladdr !== '') n.mac = a.lladdr;
  if (a.flagsExt !== undefined && a.flagsExt & NTF_EXT_MANAGED) n.managed = true;
  if (a.probes !== undefined) n.probes = a.probes;
  if (a.cacheinfo) n.cacheinfo = decodeNdaCacheinfo(a.cacheinfo);
  if (a.protocol !== undefined) n.protocol = a.protocol;
  if (a.unknown) n.unknown = a.unknown;
  return n;
}

export interface NeighbourSpec {
  /** Interface the entry is on. */
  link: LinkRef;
  /** IPv4 or IPv6 address. */
  address: string;
  /** Link-layer address; required for resolved states on Ethernet-like links. */
  mac?: string;
  /** Default "permanent" (as `ip neigh add`); "none" with managed. */
  state?: NeighbourState;
  /** IPv6: the neighbour is a router (NTF_ROUTER). */
  router?: boolean;
  /** A proxy-ARP/NDP entry (`ip neigh add proxy ADDR dev DEV`); no mac, no state. */
  proxy?: boolean;
  /** Learned by an external control plane (NTF_EXT_LEARNED). */
  extLearned?: boolean;
  /** Kernel keeps the entry resolved (NTF_EXT_MANAGED; no mac needed). */
  managed?: boolean;
  ns?: Namespace;
}

const NEIGH_OPTIONS = new Set(['link', 'address', 'mac', 'state', 'router', 'proxy', 'extLearned', 'managed', 'ns']);
const NEIGH_DELETE_OPTIONS = new Set(['link', 'address', 'proxy', 'ns']);
const NEIGH_LIST_OPTIONS = new Set(['link', 'family', 'proxy', 'ns']);

/** A neighbour request checked and reduced to numbers and bytes (all but the interface index). */
export interface NeighbourRequest {
  family: number;
  address: Buffer;
  mac?: Buffer;
  state: number;
  flags: number;
  managed: boolean;
}

/** Validates a neighbour spec (no syscall); `known` is the set of option names the caller accepts. */
export function checkNeighbour(spec: NeighbourSpec, fn: string, known: ReadonlySet<string> = NEIGH_OPTIONS): NeighbourRequest {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`${fn}: expected an object with link and address`);
  validate.options(spec, known, fn);
  const address = validate.ip(spec.address, 'address');
  const mac = spec.mac === undefined ? undefined : validate.mac(spec.mac, 'mac');
  const proxy = spec.proxy === true;
  if (proxy && (spec.mac !== undefined || spec.state !== undefined)) throw new TypeError('a proxy entry has no mac and no state');
  let flags = proxy ? NTF_PROXY : 0;
  if (spec.router) flags |= NTF_ROUTER;
  if (spec.extLearned) flags |= NTF_EXT_LEARNED;
  return {
    family: ipFamily(address),
    address: ipToBytes(address),
    mac: mac === undefined ? undefined : macToBytes(mac),
    // Default permanent, as `ip neigh` sends (deletes and proxy entries too: the kernel ignores it
    // there); a managed entry is kernel-resolved, and the kernel refuses it as permanent.
    state: spec.state === undefined ? (spec.managed ? NUD_NONE : NUD_PERMANENT) : STATES[validate.oneOf(spec.state, Object.keys(STATES) as NeighbourState[], 'state')],
    flags,
    managed: spec.managed === true,
  };
}

/** Writes one RTM_NEWNEIGH / RTM_DELNEIGH message for an ARP/NDP entry, as `ip neigh` writes it (nlFlags: NLM_F_* besides NLM_F_REQUEST). */
export function writeNeighbourRequest(w: Writer, type: number, nlFlags: number, index: number, r: NeighbourRequest): void {
  const m = w.begin(type, NLM_F_REQUEST | nlFlags);
  encodeNdmsg(w, { family: r.family, ifindex: index, state: r.state, flags: r.flags, type: 0 });
  w.bytes(NDA_DST, r.address);
  if (r.mac) w.bytes(NDA_LLADDR, r.mac);
  if (r.managed) w.u32(NDA_FLAGS_EXT, NTF_EXT_MANAGED);
  w.end(m);
}

async function modifyNeighbour(fn: string, type: number, flags: number, spec: NeighbourSpec, known: ReadonlySet<string>): Promise<void> {
  const r = checkNeighbour(spec, fn, known);
  const t = linkTarget(spec.link, 'link');
  const ns = Namespace.of(spec.ns, t?.ns);
  const idx = resolveIndex(ns, t, fn);
  const index = typeof idx === 'number' ? idx : await idx;
  return Pipeline.of(ns).send((w) => writeNeighbourRequest(w, type, flags, index, r), fn, `${spec.address} dev ${t.subject}`);
}

/**
 * Adds a neighbour entry. Equivalent: `ip neigh add 10.0.0.2 lladdr 02:…:02 dev eth0 nud permanent`.
 * Fails with EEXIST if there is one for that address on that interface.
 */
export function addNeighbour(spec: NeighbourSpec): Promise<void> {
  return modifyNeighbour('addNeighbour', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, spec, NEIGH_OPTIONS);
}

/** Adds or overwrites a neighbour entry. Equivalent: `ip neigh replace 10.0.0.2 lladdr … dev eth0 nud …`. */
export function replaceNeighbour(spec: NeighbourSpec): Promise<void> {
  return modifyNeighbour('replaceNeighbour', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, spec, NEIGH_OPTIONS);
}

/** Removes a neighbour entry. Equivalent: `ip neigh del 10.0.0.2 dev eth0` (`… proxy …` for a proxy entry). */
export function deleteNeighbour(spec: { link: LinkRef; address: string; proxy?: boolean; ns?: Namespace }): Promise<void> {
  return modifyNeighbour('deleteNeighbour', RTM_DELNEIGH, 0, spec, NEIGH_DELETE_OPTIONS);
}

/**
 * Lists ARP and NDP entries, including NOARP and failed ones. Equivalent:
 * `ip neigh show nud all [dev eth0]` (`ip neigh show proxy` with `proxy: true`).
 * The kernel filters by interface.
 */
export async function listNeighbours(opts: { link?: LinkRef; family?: Family; proxy?: boolean; ns?: Namespace } = {}): Promise<Neighbour[]> {
  const fn = 'listNeighbours';
  validate.options(opts, NEIGH_LIST_OPTIONS, fn);
  const t = opts.link === undefined ? undefined : linkTarget(opts.link, 'link');
  const ns = Namespace.of(opts.ns, t?.ns);
  const family = familyNumber(opts.family);
  const index = t === undefined ? 0 : await resolveIndex(ns, t, fn);

  const w = new Writer(48);
  const m = w.begin(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
  // Strict dump checking wants ndm_ifindex 0: the interface filter is NDA_IFINDEX.
  encodeNdmsg(w, { family, ifindex: 0, state: 0, flags: opts.proxy ? NTF_PROXY : 0, type: 0 });
  if (index) w.u32(NDA_IFINDEX, index);
  w.end(m);
  const bytes = w.finish();
  // The same filters again: kernels before strict dump checking (4.20) ignore them.
  return collect(
    (onPart) => Pipeline.of(ns).call(bytes, { operation: fn, subject: t?.subject, dump: true }, onPart),
    RTM_NEWNEIGH,
    decodeNeighbour,
    (n) => (n.family === 'inet' || n.family === 'inet6') && (!family || FAMILY_NAMES[family] === n.family) && (!index || n.ifindex === index),
  );
}

// ---------------------------------------------------------------------------
// Bridge forwarding database (AF_BRIDGE)

export type FdbState = 'permanent' | 'static' | 'dynamic';

/** A forwarding-database entry of a bridge, bridge port or vxlan device. */
export interface FdbEntry {
  /** The device the entry is on (bridge port, bridge, or vxlan device). */
  ifindex: number;
  mac: string;
  /** vxlan: remote VTEP address (NDA_DST). */
  dst?: string;
  /** vxlan: VNI (NDA_VNI). */
  vni?: number;
  /** vxlan: remote UDP port (NDA_PORT). */
  port?: number;
  /** vxlan: interface to reach the remote through (NDA_IFINDEX). */
  via?: number;
  srcVni?: number;
  vlan?: number;
  /** Index of the bridge this port's entry belongs to (NDA_MASTER). */
  master?: number;
  /** permanent (local to the bridge), static, dynamic (learned), stale (aged), or the raw NUD bits. */
  state: FdbState | 'stale' | number;
  rawState: number;
  /** NTF_* as names: self, master, extern_learn, sticky, offload, router, … */
  flags: string[];
  rawFlags: number;
  linkNetnsid?: number;
  nhId?: number;
  cacheinfo?: NdaCacheinfo;
  unknown?: RawAttr[];
}

function fdbState(s: number): FdbEntry['state'] {
  if (s & NUD_PERMANENT) return 'permanent';
  if (s & NUD_NOARP) return 'static';
  if (s & NUD_STALE) return 'stale';
  if (s & NUD_REACHABLE) return 'dynamic';
  return s;
}

/** Decodes one RTM_NEWNEIGH/RTM_DELNEIGH payload of family AF_BRIDGE. */
export function decodeFdb(payload: Buffer): FdbEntry {
  const { header: h, attrs: a } = decodeNeighMessage(payload);
  const e: FdbEntry = {
    ifindex: h.ifindex,
    mac: a.lladdr ?? '',
    state: fdbState(h.state),
    rawState: h.state,
    flags: flagNames(h.flags, NTF_NAMES),
    rawFlags: h.flags,
  };
  if (a.dst !== undefined) e.dst = a.dst;
  if (a.vni !== undefined) e.vni = a.vni;
  if (a.port !== undefined) e.port = a.port;
  if (a.ifindex !== undefined) e.via = a.ifindex;
  if (a.srcVni !== undefined) e.srcVni = a.srcVni;
  if (a.vlan !== undefined) e.vlan = a.vlan;
  if (a.master !== undefined) e.master = a.master;
  if (a.linkNetnsid !== undefined) e.linkNetnsid = a.linkNetnsid;
  if (a.nhId !== undefined) e.nhId = a.nhId;
  if (a.cacheinfo) e.cacheinfo = decodeNdaCacheinfo(a.cacheinfo);
  if (a.unknown) e.unknown = a.unknown;
  return e;
}

export interface FdbSpec {
  /** The device: a vxlan device, a bridge port, or the bridge itself. */
  link: LinkRef;
  /** "00:00:00:00:00:00" on a vxlan device is the default destination (flooding / BUM traffic). */
  mac: string;
  /** vxlan: remote VTEP IP. */
  dst?: string;
  /** vxlan: VNI, 0..16777215. */
  vni?: number;
  /** vxlan: remote UDP port. */
  port?: number;
  /** vxlan: interface to reach the remote through. */
  via?: LinkRef;
  /** vxlan (collect-metadata): source VNI. */
  srcVni?: number;
  /** Bridge VLAN, 1..4094. */
  vlan?: number;
  /** The device's own table (NTF_SELF) — what a vxlan device needs. Default when neither self nor master is given. */
  self?: boolean;
  /** The table of the bridge the port belongs to (NTF_MASTER). */
  master?: boolean;
  /**
   * Default "permanent" (as `bridge fdb add`). On a bridge, "permanent"
   * means local (frames are delivered to the bridge itself) and "static"
   * forwards to the port without ageing; "dynamic" ages out.
   */
  state?: FdbState;
  router?: boolean;
  /** Bridge: the entry may not move to another port (NTF_STICKY). */
  sticky?: boolean;
  extLearned?: boolean;
  ns?: Namespace;
}

const FDB_STATES: Record<FdbState, number> = {
  // What `bridge fdb` sends: it starts from NUD_NOARP and adds the chosen state.
  permanent: NUD_NOARP | NUD_PERMANENT,
  static: NUD_NOARP | NUD_REACHABLE,
  dynamic: NUD_REACHABLE,
};

const FDB_OPTIONS = new Set(['link', 'mac', 'dst', 'vni', 'port', 'via', 'srcVni', 'vlan', 'self', 'master', 'state', 'router', 'sticky', 'extLearned', 'ns']);
const FDB_DELETE_OPTIONS = new Set(['link', 'mac', 'dst', 'vni', 'port', 'via', 'srcVni', 'vlan', 'self', 'master', 'ns']);
const FDB_LIST_OPTIONS = new Set(['link', 'master', 'ns']);

/** An FDB request checked and reduced to numbers and bytes (interfaces still to resolve). */
export interface FdbRequest {
  mac: Buffer;
  dst?: Buffer;
  vni?: number;
  srcVni?: number;
  port?: number;
  vlan?: number;
  via?: LinkTarget;
  state: number;
  flags: number;
}

/** Validates an FDB spec (no syscall); `known` is the set of option names the caller accepts. */
export function checkFdb(spec: FdbSpec, fn: string, known: ReadonlySet<string> = FDB_OPTIONS): FdbRequest {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`${fn}: expected an object with link and mac`);
  validate.options(spec, known, fn);
  let flags = 0;
  if (spec.self) flags |= NTF_SELF;
  if (spec.master) flags |= NTF_MASTER;
  if (!(flags & (NTF_SELF | NTF_MASTER))) flags |= NTF_SELF;
  if (spec.router) flags |= NTF_ROUTER;
  if (spec.sticky) flags |= NTF_STICKY;
  if (spec.extLearned) flags |= NTF_EXT_LEARNED;
  const r: FdbRequest = {
    mac: macToBytes(validate.mac(spec.mac, 'mac')),
    state: FDB_STATES[spec.state === undefined ? 'permanent' : validate.oneOf(spec.state, Object.keys(FDB_STATES) as FdbState[], 'state')],
    flags,
  };
  if (spec.dst !== undefined) r.dst = ipToBytes(validate.ip(spec.dst, 'dst'));
  if (spec.vni !== undefined) r.vni = validate.uint(spec.vni, 'vni', 0xffffff);
  if (spec.srcVni !== undefined) r.srcVni = validate.uint(spec.srcVni, 'srcVni', 0xffffff);
  if (spec.port !== undefined) r.port = validate.port(spec.port, 'port');
  if (spec.vlan !== undefined) r.vlan = validate.uint(spec.vlan, 'vlan', 4094, 1);
  if (spec.via !== undefined) r.via = linkTarget(spec.via, 'via');
  return r;
}

/** Writes one AF_BRIDGE RTM_NEWNEIGH / RTM_DELNEIGH message, attributes in the order `bridge fdb` writes them (nlFlags: NLM_F_* besides NLM_F_REQUEST). */
export function writeFdbRequest(w: Writer, type: number, nlFlags: number, index: number, viaIndex: number | undefined, r: FdbRequest): void {
  const m = w.begin(type, NLM_F_REQUEST | nlFlags);
  encodeNdmsg(w, { family: AF_BRIDGE, ifindex: index, state: r.state, flags: r.flags, type: 0 });
  w.bytes(NDA_LLADDR, r.mac);
  if (r.dst) w.bytes(NDA_DST, r.dst);
  if (r.vlan !== undefined) w.u16(NDA_VLAN, r.vlan);
  if (r.port !== undefined) w.be16(NDA_PORT, r.port);
  if (r.vni !== undefined) w.u32(NDA_VNI, r.vni);
  if (viaIndex !== undefined) w.u32(NDA_IFINDEX, viaIndex);
  if (r.srcVni !== undefined) w.u32(NDA_SRC_VNI, r.srcVni);
  w.end(m);
}

async function modifyFdb(fn: string, type: number, flags: number, spec: FdbSpec, known: ReadonlySet<string>): Promise<void> {
  const r = checkFdb(spec, fn, known);
  const t = linkTarget(spec.link, 'link');
  const ns = Namespace.of(spec.ns, t?.ns, r.via?.ns);
  const idx = resolveIndex(ns, t, fn);
  const viaIdx = r.via === undefined ? undefined : resolveIndex(ns, r.via, fn);
  const index = typeof idx === 'number' ? idx : await idx;
  const viaIndex = typeof viaIdx === 'object' ? await viaIdx : viaIdx;
  const subject = `${spec.mac} dev ${t.subject}${spec.dst === undefined ? '' : ` dst ${spec.dst}`}`;
  return Pipeline.of(ns).send((w) => writeFdbRequest(w, type, flags, index, viaIndex, r), fn, subject);
}

/** Adds an FDB entry; fails with EEXIST if there is one. Equivalent: `bridge fdb add MAC dev DEV [dst IP] [vni N] [self|master]`. */
export function addFdb(spec: FdbSpec): Promise<void> {
  return modifyFdb('addFdb', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, spec, FDB_OPTIONS);
}

/**
 * Adds a destination to an FDB entry. Equivalent: `bridge fdb append MAC dev vxlan0 dst IP`.
 * On a vxlan device one MAC may have several remotes: appending
 * 00:00:00:00:00:00 once per remote VTEP builds the flood list (head-end
 * replication) an overlay without multicast needs. Appending a destination
 * the entry already has succeeds and changes nothing.
 */
export function appendFdb(spec: FdbSpec): Promise<void> {
  return modifyFdb('appendFdb', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, spec, FDB_OPTIONS);
}

/** Adds or overwrites an FDB entry. Equivalent: `bridge fdb replace MAC dev DEV …`. */
export function replaceFdb(spec: FdbSpec): Promise<void> {
  return modifyFdb('replaceFdb', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, spec, FDB_OPTIONS);
}

/**
 * Removes an FDB entry, or on a vxlan device one of its destinations when
 * dst is given. Equivalent: `bridge fdb del MAC dev DEV [dst IP] [self|master]`.
 * A vxlan destination is matched on dst, port, vni and via together (unset
 * port and vni mean the device's defaults); one that matches none is
 * accepted by the kernel without an error and removes nothing.
 */
export function deleteFdb(spec: Omit<FdbSpec, 'state' | 'router' | 'sticky' | 'extLearned'>): Promise<void> {
  return modifyFdb('deleteFdb', RTM_DELNEIGH, 0, spec, FDB_DELETE_OPTIONS);
}

/**
 * Lists FDB entries. Equivalent: `bridge fdb show [dev DEV] [br BRIDGE]`.
 * `link` limits to one device's entries (a port's, or a vxlan device's own);
 * `master` to one bridge's. Filtering happens in the kernel.
 */
export async function listFdb(opts: { link?: LinkRef; master?: LinkRef; ns?: Namespace } = {}): Promise<FdbEntry[]> {
  const fn = 'listFdb';
  validate.options(opts, FDB_LIST_OPTIONS, fn);
  const t = opts.link === undefined ? undefined : linkTarget(opts.link, 'link');
  const mt = opts.master === undefined ? undefined : linkTarget(opts.master, 'master');
  const ns = Namespace.of(opts.ns, t?.ns, mt?.ns);
  const [index, master] = await Promise.all([t && resolveIndex(ns, t, fn), mt && resolveIndex(ns, mt, fn)]);

  const w = new Writer(48);
  const m = w.begin(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
  encodeNdmsg(w, { family: AF_BRIDGE, ifindex: index ?? 0, state: 0, flags: 0, type: 0 });
  if (master !== undefined) w.u32(NDA_MASTER, master);
  w.end(m);
  const subject = t ? t.subject : mt ? `br ${mt.subject}` : undefined;
  const data = await Pipeline.of(ns).call(w.finish(), { operation: fn, subject, dump: true });
  return decodeAll(data, RTM_NEWNEIGH, decodeFdb);
}
