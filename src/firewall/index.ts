// The high-level firewall: masquerade, port publishing, isolation between
// networks, and restoring all of it after a firewall reload — in netweave's
// own nftables table (`inet netweave`, see layout.ts), never touching any
// other table. The kernel is the source of truth: everything is read back
// from it, tags included, so a new process lists, changes and removes what an
// earlier one made.
//
// Masquerade and its companions. addMasquerade({ source, exceptOutInterface: BR })
// adds three rules, removeMasquerade removes them:
//   ip saddr SRC oifname != BR masquerade             traffic leaving the network
//   ct status dnat ip saddr SRC oifname BR masquerade  hairpin: a container reaching a
//                                                      published port of its own bridge
//   ip saddr 127.0.0.0/8 oifname BR masquerade        the host reaching a published port
//                                                      through 127.0.0.1 (shared per bridge;
//                                                      removed with the bridge's last masquerade)
// Without exceptOutInterface only `ip saddr SRC masquerade` is added. IPv6
// sources get the first two (::1 cannot be translated to another host).
//
// Publishing is one map element per port (no rule per port): the same cost
// with 10,000 ports published as with none.
import { EventEmitter } from 'node:events';
import { NetlinkError } from '../errors.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { addElementBatch, getGeneration, watchNftables, type NftEvent, type NftWatcher } from '../nft/index.js';
import { requestChainRaw } from '../engine.js';
import { noErrorAck } from '../wire/netlink.js';
import { probeBind, probeBindStep } from '../ns-socket.js';
import {
  checkCidr,
  checkHostIp,
  checkIfname,
  checkPort,
  checkProtocol,
  checkRange,
  checkTag,
  parseTarget,
  DEFAULT_PORT_RANGE,
} from './args.js';
import { addressView, type AddressView } from './addresses.js';
import { boundSockets, byPort, overlaps, type BoundSocket } from './bound.js';
import { asOperation, FirewallError } from './errors.js';
import { FAMILY, ISOLATE_SET, masqueradeRules, portMapSpec, postRuleKey, TABLE, type IpFamily, type Protocol } from './layout.js';
import { byMap, clashIn, clashWith, dropPort, indexPort, mapOf, portElement, portKey, putPort, readKernel, stateOf, type NsState, type PortEntry, type PostEntry } from './state.js';
import { change, generationAfter, removeTable, restoreListeners, sync, type Reapplied } from './sync.js';

export { FirewallError } from './errors.js';
export { DEFAULT_PORT_RANGE } from './args.js';
export type { Reapplied } from './sync.js';
export { FAMILY as FIREWALL_FAMILY, TABLE as FIREWALL_TABLE } from './layout.js';
export type { Protocol } from './layout.js';

export interface NsOption {
  /** The namespace whose firewall this is; default: the one this process runs in. */
  ns?: Namespace;
}

export interface PublishedPort {
  /** Only traffic to this host address is forwarded; absent: any local address. */
  hostIp?: string;
  hostPort: number;
  protocol: Protocol;
  to: { address: string; port: number };
  tag?: string;
}

export interface Masquerade {
  /** The source network, as a CIDR with its network address. */
  source: string;
  exceptOutInterface?: string;
  tag?: string;
}

export interface Isolation {
  a: string;
  b: string;
}

export interface PublishOptions {
  /** Forward only traffic to this local address (0.0.0.0 / :: or absent: any). Must be an address of the namespace. */
  hostIp?: string;
  /** Absent: a free port from portRange is picked (and returned). */
  hostPort?: number;
  protocol: Protocol;
  /** Where to forward: "172.18.0.10:80" or "[fd00::10]:80"; must lie in a network of the namespace. */
  to: string | { address: string; port: number };
  /** Stored with the port in the kernel (≤ 128 bytes) and returned by listPublishedPorts. */
  tag?: string;
  /** Where to pick a hostPort from; default Docker's 49153–60999. */
  portRange?: [number, number];
}

const PUBLISH_KEYS = ['hostIp', 'hostPort', 'protocol', 'to', 'tag', 'portRange'];
const PUBLISH_KEY_SET: ReadonlySet<string> = new Set(PUBLISH_KEYS);

async function guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asOperation(err, operation);
  }
}

// ---- forwarding ----

/**
 * Turns on routing in the namespace: `sysctl -w net.ipv4.ip_forward=1` (with
 * ipv6, also net.ipv6.conf.all.forwarding=1). Nothing else is needed for
 * bridged networks here: hairpin traffic is masqueraded (see addMasquerade),
 * so its replies are routed back through the host, not bridged, and the
 * bridge-nf-call-* switches can stay as they are.
 */
export async function enableForwarding(opts: NsOption & { ipv6?: boolean } = {}): Promise<void> {
  validate.options(opts, ['ns', 'ipv6'], 'enableForwarding');
  if (opts.ipv6 !== undefined && typeof opts.ipv6 !== 'boolean') throw new TypeError('ipv6 must be a boolean');
  const ns = Namespace.of(opts?.ns);
  await guard('enableForwarding', async () => {
    await ns.setSysctl('net.ipv4.ip_forward', 1);
    if (opts.ipv6) await ns.setSysctl('net.ipv6.conf.all.forwarding', 1);
  });
}

// ---- masquerade ----

function masqArgs(opts: unknown, fn: string, keys: string[]) {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${fn}: options { source, … } are required`);
  validate.options(opts, keys, fn);
  const o = opts as { source?: unknown; exceptOutInterface?: unknown; tag?: unknown };
  const { family, cidr } = checkCidr(o.source, 'source');
  const except = o.exceptOutInterface === undefined ? undefined : checkIfname(o.exceptOutInterface, 'exceptOutInterface');
  return { family, source: cidr, except, tag: checkTag(o.tag) };
}

/**
 * Masquerades traffic from `source` (`nft add rule inet netweave post ip saddr
 * SRC oifname != BR masquerade`; iptables `-t nat -A POSTROUTING -s SRC ! -o BR
 * -j MASQUERADE`), with BR's hairpin and loopback rules (see the top of this
 * file). Idempotent: rules already there are kept (a new tag replaces the
 * old one), missing ones are added, in one transaction.
 */
export async function addMasquerade(opts: NsOption & { source: string; exceptOutInterface?: string; tag?: string }): Promise<void> {
  const a = masqArgs(opts, 'addMasquerade', ['ns', 'source', 'exceptOutInterface', 'tag']);
  const ns = Namespace.of(opts?.ns);
  await change(ns, 'addMasquerade', (st) => {
    const adds: PostEntry[] = [];
    const retag: [PostEntry, PostEntry][] = [];
    for (const rule of masqueradeRules({ family: a.family, source: a.source, exceptOutInterface: a.except })) {
      const have = st.desired.post.get(postRuleKey(rule));
      if (!have) adds.push({ rule, handle: 0, ...(a.tag !== undefined ? { comment: a.tag } : {}) });
      else if (rule.kind !== 'local' && a.tag !== undefined && have.comment !== a.tag) retag.push([have, { rule, handle: 0, comment: a.tag }]);
    }
    if (!adds.length && !retag.length) return { result: undefined };
    return {
      result: undefined,
      change(d) {
        for (const e of [...adds, ...retag.map(([, e]) => e)]) d.post.set(postRuleKey(e.rule), e);
      },
      incremental(tx, addPost) {
        for (const [old, e] of retag) {
          tx.deleteRule({ family: FAMILY, table: TABLE, chain: 'post', handle: old.handle });
          addPost(e);
        }
        for (const e of adds) addPost(e);
      },
    };
  });
}

/**
 * Removes a masquerade added by addMasquerade (the same source and
 * exceptOutInterface) with its hairpin rule, and the bridge's loopback rule
 * when no other masquerade uses that bridge (`nft delete rule … handle N`;
 * iptables `-t nat -D POSTROUTING -s SRC ! -o BR -j MASQUERADE`). False when
 * there was none.
 */
export async function removeMasquerade(opts: NsOption & { source: string; exceptOutInterface?: string }): Promise<boolean> {
  const a = masqArgs(opts, 'removeMasquerade', ['ns', 'source', 'exceptOutInterface']);
  const ns = Namespace.of(opts?.ns);
  return change(ns, 'removeMasquerade', (st) => {
    const rules = masqueradeRules({ family: a.family, source: a.source, exceptOutInterface: a.except });
    const post = st.desired.post;
    if (!post.has(postRuleKey(rules[0]))) return { result: false };
    const gone: PostEntry[] = [post.get(postRuleKey(rules[0]))!];
    for (const r of rules.slice(1)) {
      const e = post.get(postRuleKey(r));
      if (!e) continue;
      // The loopback rule of a bridge stays while another masquerade uses that bridge.
      if (r.kind === 'local' && [...post.values()].some((x) => x.rule.kind === 'masq' && x.rule.family === 4 && x.rule.exceptOutInterface === r.iface && x !== gone[0])) continue;
      gone.push(e);
    }
    return {
      result: true,
      change(d) {
        for (const e of gone) d.post.delete(postRuleKey(e.rule));
      },
      incremental(tx) {
        for (const e of gone) tx.deleteRule({ family: FAMILY, table: TABLE, chain: 'post', handle: e.handle });
      },
    };
  });
}

/** The masquerades in netweave's table, read from the kernel (`nft list chain inet netweave post`). */
export async function listMasquerades(opts: NsOption = {}): Promise<Masquerade[]> {
  validate.options(opts, ['ns'], 'listMasquerades');
  const ns = Namespace.of(opts?.ns);
  return guard('listMasquerades', async () => {
    const snap = await readKernel(ns, 'listMasquerades');
    const out: Masquerade[] = [];
    for (const e of snap.desired.post.values()) {
      if (e.rule.kind !== 'masq') continue;
      const m: Masquerade = { source: e.rule.source };
      if (e.rule.exceptOutInterface !== undefined) m.exceptOutInterface = e.rule.exceptOutInterface;
      if (e.comment !== undefined) m.tag = e.comment;
      out.push(m);
    }
    return out;
  });
}

// ---- publishing ----

interface PublishRequest {
  index: number;
  family: IpFamily;
  hostIp?: string;
  hostPort?: number;
  protocol: Protocol;
  to: { address: string; port: number };
  tag?: string;
  range: [number, number];
}

function publishArgs(o: unknown, arg: string, index: number): PublishRequest {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${arg} must be an object { protocol, to, … }`);
  const p = o as PublishOptions;
  const to = parseTarget(p.to, `${arg}.to`);
  const host = p.hostIp === undefined ? undefined : checkHostIp(p.hostIp, `${arg}.hostIp`);
  if (host?.family !== undefined && host.family !== to.family) {
    throw new TypeError(`${arg}: hostIp ${p.hostIp} and to ${to.address} are of different address families`);
  }
  const r: PublishRequest = {
    index,
    family: to.family,
    protocol: checkProtocol(p.protocol, `${arg}.protocol`),
    to: { address: to.address, port: to.port },
    range: p.portRange === undefined ? DEFAULT_RANGE : checkRange(p.portRange, `${arg}.portRange`),
  };
  if (host?.address !== undefined) r.hostIp = host.address;
  if (p.hostPort !== undefined) r.hostPort = checkPort(p.hostPort, `${arg}.hostPort`);
  if (p.tag !== undefined) r.tag = checkTag(p.tag, `${arg}.tag`);
  return r;
}

/** The default range, shared: requests only read it. */
const DEFAULT_RANGE = DEFAULT_PORT_RANGE as [number, number];

const describePort = (p: { protocol: string; hostIp?: string; hostPort?: number; family: IpFamily }) =>
  `${p.protocol} ${p.hostIp ? (p.family === 6 ? `[${p.hostIp}]` : p.hostIp) : p.family === 6 ? '[::]' : '0.0.0.0'}:${p.hostPort}`;

/**
 * Refuses targets outside every network configured on a non-loopback
 * interface (ifindex 1 is lo in every namespace). A miss is confirmed on a
 * fresh read before it is refused. Synchronous when the view is current and
 * every target is in it (the common case: no await).
 */
function checkTargets(ns: Namespace, view: AddressView, reqs: readonly PublishRequest[], operation: string): Promise<void> | undefined {
  if (view.current && reqs.every((r) => view.inNetwork(r.to.address))) return undefined;
  return confirmTargets(ns, view, reqs, operation);
}

async function confirmTargets(ns: Namespace, view: AddressView, reqs: readonly PublishRequest[], operation: string): Promise<void> {
  // A view that was not current is read now: a miss on it needs no second read.
  let fresh = !view.current;
  await view.read(ns);
  for (const r of reqs) {
    if (view.inNetwork(r.to.address)) continue;
    if (!fresh) {
      await view.reload(ns);
      fresh = true;
      if (view.inNetwork(r.to.address)) continue;
    }
    throw new FirewallError(
      'ENETUNREACH',
      operation,
      `${r.to.address} is in no network of this namespace (no non-loopback interface has an address whose prefix holds it)`,
      `to ${r.to.address}:${r.to.port}`,
    );
  }
}

function bindError(errno: number, operation: string, p: PublishRequest & { hostPort: number }): Error {
  if (errno === 98) return new FirewallError('EADDRINUSE', operation, 'a socket in the namespace is bound to this port', describePort(p));
  if (errno === 99) return new FirewallError('EADDRNOTAVAIL', operation, `hostIp ${p.hostIp} is not an address of the namespace`, describePort(p));
  return new NetlinkError(errno, operation, { subject: describePort(p), item: 'probe bind' });
}

// Up to this many given ports are probed by binding each; more by one sock_diag dump.
const BIND_PROBES = 16;

/** A port is taken when a socket holds it for an overlapping address (see bound.ts). */
function takenBy(sockets: Map<string, BoundSocket[]>, p: { family: IpFamily; protocol: Protocol; hostPort: number; hostIp?: string }): boolean {
  return (sockets.get(`${p.protocol}|${p.hostPort}`) ?? []).some((s) => overlaps(s, p.family, p.hostIp));
}

/**
 * Whether ip is an address of the namespace (lo's 127.0.0.1/8 covers all of
 * 127/8, as bind does); a miss is confirmed on a fresh read.
 */
function isLocal(ns: Namespace, view: AddressView, ip: string): boolean | Promise<boolean> {
  if (view.isLocal(ip)) return true;
  return view.reload(ns).then(() => view.isLocal(ip));
}

async function publish(ns: Namespace, reqs: PublishRequest[], operation: string): Promise<PublishedPort[]> {
  const view = addressView(ns);
  if (reqs.length === 1 && reqs[0].hostPort !== undefined) {
    const quick = await publishQuick(ns, view, reqs[0] as PublishRequest & { hostPort: number }, operation);
    if (quick) return [quick];
  }
  const fixed = reqs.filter((r): r is PublishRequest & { hostPort: number } => r.hostPort !== undefined);
  // Many ports: one sock_diag dump of the namespace's sockets, started now
  // (it does not depend on the firewall state). A few: each given port is
  // probed by a bind in the same engine pass as the commit (see `before`).
  const probed = reqs.length > BIND_PROBES ? boundSockets(ns, [...new Set(reqs.map((r) => r.protocol))]).then(byPort) : undefined;
  probed?.catch(() => {});
  return change(ns, operation, async (st) => {
    const checking = checkTargets(ns, view, reqs, operation);
    if (checking) await checking;
    // Ports given: not published already (here or earlier in the list) ...
    const batch = new Map<number, PortEntry[]>(); // this list's ports, for the clash checks within it
    const published = st.desired.ports.size > 0;
    for (const r of fixed) {
      const clash = (published ? clashWith(st.desired, r) : undefined) ?? (reqs.length > 1 ? clashIn(batch, r) : undefined);
      if (clash) {
        throw new FirewallError('EADDRINUSE', operation, `${describePort(clash)} is already published (to ${clash.to.address}:${clash.to.port})`, describePort(r));
      }
      if (reqs.length > 1) indexPort(batch, r);
    }
    // ... and bound by no socket of the namespace.
    const bound = await probed;
    if (bound) {
      for (const r of fixed) {
        if (r.hostIp !== undefined && !view.isLocal(r.hostIp) && !(await isLocal(ns, view, r.hostIp))) throw bindError(99, operation, r);
        if (takenBy(bound, r)) throw bindError(98, operation, r);
      }
    }
    // Ports to pick: from the range, starting at a random point (two
    // processes picking at once rarely try the same one), skipping published
    // and bound ones.
    const picked = new Map<number, number>();
    for (const r of reqs) {
      if (r.hostPort !== undefined) continue;
      const [lo, hi] = r.range;
      const size = hi - lo + 1;
      const start = Math.floor(Math.random() * size);
      let found: number | undefined;
      // Whether hostIp is local is the same for every candidate: asked once, at the first.
      let local = r.hostIp === undefined || view.isLocal(r.hostIp);
      for (let i = 0; i < size && found === undefined; i++) {
        const port = lo + ((start + i) % size);
        const cand = { family: r.family, protocol: r.protocol, hostPort: port, hostIp: r.hostIp };
        if (clashWith(st.desired, cand) || clashIn(batch, cand)) continue;
        if (bound) {
          if (!local && !(local = await isLocal(ns, view, r.hostIp!))) throw bindError(99, operation, { ...r, hostPort: port });
          if (!takenBy(bound, cand)) found = port;
          continue;
        }
        const errno = await probeBind(ns, r.family, r.protocol, r.hostIp, port);
        if (errno === 0) found = port;
        else if (errno !== -98) throw bindError(-errno, operation, { ...r, hostPort: port });
      }
      if (found === undefined) throw new FirewallError('EADDRINUSE', operation, `no free ${r.protocol} port in ${lo}–${hi}`, describePort({ ...r, hostPort: undefined }));
      picked.set(r.index, found);
      indexPort(batch, { family: r.family, hostIp: r.hostIp, hostPort: found, protocol: r.protocol, to: r.to });
    }
    const entries = reqs.map((r) => entryOf(r, r.hostPort ?? picked.get(r.index)!));
    return {
      result: entries.map(toPublished),
      change(d) {
        for (const e of entries) putPort(d, e);
      },
      incremental(tx) {
        // `create element`: an element someone added meanwhile fails the commit instead of being overwritten.
        for (const [m, ports] of byMap(entries)) tx.addElements(portMapSpec(m), ports.map(portElement), { exclusive: true });
      },
      after: st.localnet ? undefined : () => ensureLocalnet(ns, st, entries),
      before: bound
        ? undefined
        : () => fixed.map((r) => probeBindStep(ns, r.family, r.protocol, r.hostIp, r.hostPort, { operation, subject: describePort(r) }, (errno) => bindError(errno, operation, r))),
    };
  });
}

/** The port a request publishes, on hostPort. */
function entryOf(r: PublishRequest, hostPort: number): PortEntry {
  const e: PortEntry = { family: r.family, hostPort, protocol: r.protocol, to: r.to };
  if (r.hostIp !== undefined) e.hostIp = r.hostIp;
  if (r.tag !== undefined) e.tag = r.tag;
  return e;
}

/**
 * publishPort's common case in one engine pass, without the general path's
 * planning: one given port; the table intact at a known generation with
 * route_localnet on; `to` in a network and hostIp local as the address view
 * has them; the port published by nobody. The bind probe and a one-element
 * commit that expects that generation go in one chain. A probe that fails
 * refuses the port as the general path does; a commit the kernel refused
 * (raced by another process, say: it applied nothing) is left to the
 * general path (undefined), which plans again and reports what it finds.
 */
function publishQuick(ns: Namespace, view: AddressView, r: PublishRequest & { hostPort: number }, operation: string): Promise<PublishedPort | undefined> {
  const st = stateOf(ns);
  return st.locked(async () => {
    const generation = st.generation;
    if (generation === undefined || !st.intact || !st.localnet || !view.current || !view.inNetwork(r.to.address)) return undefined;
    if ((r.hostIp !== undefined && !view.isLocal(r.hostIp)) || clashWith(st.desired, r)) return undefined;
    const e = entryOf(r, r.hostPort);
    // `create element`, as the general path: an element added meanwhile fails the commit instead of being overwritten.
    const bytes = addElementBatch(portMapSpec(mapOf(e)), portElement(e), { exclusive: true, expectGeneration: generation });
    const opts = { operation, subject: describePort(r) };
    const [probe, commit] = await requestChainRaw([probeBindStep(ns, r.family, r.protocol, r.hostIp, r.hostPort, opts), { sock: ns.netfilter(), bytes, opts: { ...opts, alone: true } }]);
    if (probe.errno) {
      // The commit was not sent. The general path's refusal, from the same probe.
      const err = bindError(probe.errno, operation, r);
      if (!(err instanceof FirewallError)) st.generation = undefined;
      throw asOperation(err, operation);
    }
    if (commit.errno) {
      // Sent or not, the engine cannot tell what the kernel did: read it again next time.
      st.generation = undefined;
      throw asOperation(new NetlinkError(commit.errno, operation, { subject: opts.subject }), operation);
    }
    if (commit.data && !noErrorAck(commit.data)) {
      // Refused as a whole (a batch applies all or nothing).
      st.generation = undefined;
      return undefined;
    }
    st.generation = generationAfter(generation);
    putPort(st.desired, e);
    return toPublished(e);
  });
}

/** 127.0.0.1:hostPort reaches a container only with route_localnet (written once per state). */
async function ensureLocalnet(ns: Namespace, st: NsState, entries: Iterable<PortEntry>): Promise<void> {
  if (st.localnet) return;
  for (const e of entries) {
    if (e.family === 4 && (e.hostIp === undefined || e.hostIp.startsWith('127.'))) {
      await ns.setSysctl('net.ipv4.conf.all.route_localnet', 1);
      st.localnet = true;
      return;
    }
  }
}

function toPublished(e: PortEntry): PublishedPort {
  const p: PublishedPort = { hostPort: e.hostPort, protocol: e.protocol, to: { ...e.to } };
  if (e.hostIp !== undefined) p.hostIp = e.hostIp;
  if (e.tag !== undefined) p.tag = e.tag;
  return p;
}

/**
 * Publishes a port: traffic to hostPort on any local address (or hostIp
 * only) goes to `to` — from outside (prerouting), from the host itself
 * (output; 127.0.0.1 too: net.ipv4.conf.all.route_localnet=1 is set), and
 * from containers on the same bridge (with the masquerade of addMasquerade).
 * One element in one small transaction: `nft add element inet netweave pub4
 * { tcp . 8080 : 172.18.0.10 . 80 }` (iptables: `-t nat -A DOCKER -p tcp
 * --dport 8080 -j DNAT --to-destination 172.18.0.10:80`). Without hostPort a
 * free port of portRange (default 49153–60999, Docker's) is picked.
 *
 * Refused before anything changes: a port outside 1–65535 or a bad address
 * (RangeError/TypeError); hostPort already published, or bound by a socket
 * in the namespace (FirewallError 'EADDRINUSE'); hostIp not an address of the
 * namespace ('EADDRNOTAVAIL'); `to` outside every network of the namespace
 * ('ENETUNREACH').
 */
export async function publishPort(opts: NsOption & PublishOptions): Promise<PublishedPort> {
  validate.options(opts, ['ns', ...PUBLISH_KEYS], 'publishPort');
  const r = publishArgs(opts, 'options', 0);
  const ns = Namespace.of(opts?.ns);
  // publish's errors are named after the operation already (change() maps them).
  return publish(ns, [r], 'publishPort').then((all) => all[0]);
}

/**
 * Publishes many ports in one transaction (`nft -f` with one `add element`
 * per map): all or none. Each entry is checked as by publishPort, against
 * the table and against the others in the list.
 */
export async function publishPorts(ports: readonly PublishOptions[], opts: NsOption = {}): Promise<PublishedPort[]> {
  if (!Array.isArray(ports)) throw new TypeError('ports must be an array');
  validate.options(opts, ['ns'], 'publishPorts');
  // Checked with a shared label first (no strings built per port); a port that fails is
  // checked again with its own label, for the error.
  const reqs = ports.map((p, i) => {
    try {
      validate.options(p, PUBLISH_KEY_SET, 'ports[]');
      return publishArgs(p, 'ports[]', i);
    } catch {
      validate.options(p, PUBLISH_KEY_SET, `ports[${i}]`);
      return publishArgs(p, `ports[${i}]`, i);
    }
  });
  const ns = Namespace.of(opts?.ns);
  if (reqs.length === 0) return [];
  return guard('publishPorts', () => publish(ns, reqs, 'publishPorts'));
}

/**
 * Unpublishes a port (`nft delete element inet netweave pub4 { tcp . 8080 }`).
 * Without hostIp, the any-address port of both address families. False when
 * it was not published.
 */
export async function unpublishPort(opts: NsOption & { hostIp?: string; hostPort: number; protocol: Protocol }): Promise<boolean> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('unpublishPort: options { hostPort, protocol } are required');
  validate.options(opts, ['ns', 'hostIp', 'hostPort', 'protocol'], 'unpublishPort');
  const hostPort = checkPort(opts.hostPort, 'hostPort');
  const protocol = checkProtocol(opts.protocol);
  const host = checkHostIp(opts.hostIp);
  const ns = Namespace.of(opts?.ns);
  return change(ns, 'unpublishPort', (st) => {
    const families: IpFamily[] = host.family ? [host.family] : [4, 6];
    const gone = families.map((family) => st.desired.ports.get(portKey({ family, hostIp: host.address, protocol, hostPort }))).filter((e): e is PortEntry => e !== undefined);
    if (!gone.length) return { result: false };
    return {
      result: true,
      change(d) {
        for (const e of gone) dropPort(d, e);
      },
      incremental(tx) {
        for (const [m, ports] of byMap(gone)) tx.deleteElements(portMapSpec(m), ports.map((p) => ({ key: portElement(p).key })));
      },
    };
  });
}

/** The published ports, read from the kernel's maps, tags included (`nft list map inet netweave pub4` …). */
export async function listPublishedPorts(opts: NsOption = {}): Promise<PublishedPort[]> {
  validate.options(opts, ['ns'], 'listPublishedPorts');
  const ns = Namespace.of(opts?.ns);
  return guard('listPublishedPorts', async () => {
    const snap = await readKernel(ns, 'listPublishedPorts');
    return [...snap.desired.ports.values()]
      .sort((a, b) => a.family - b.family || a.protocol.localeCompare(b.protocol) || a.hostPort - b.hostPort || (a.hostIp ?? '').localeCompare(b.hostIp ?? ''))
      .map(toPublished);
  });
}

// ---- isolation ----

function isoArgs(a: unknown, b: unknown): [string, string] {
  const x = checkIfname(a, 'a');
  const y = checkIfname(b, 'b');
  if (x === y) throw new TypeError(`a and b are the same interface ${JSON.stringify(x)}`);
  return [x, y];
}

/**
 * Drops forwarded traffic between two bridges, both ways: `nft add element
 * inet netweave isolate { A . B, B . A }`, matched by `iifname . oifname
 * @isolate drop` in the forward hook (iptables: `-A FORWARD -i A -o B -j DROP`
 * and the reverse). Idempotent.
 */
export async function isolateNetworks(a: string, b: string, opts: NsOption = {}): Promise<void> {
  const [x, y] = isoArgs(a, b);
  validate.options(opts, ['ns'], 'isolateNetworks');
  const ns = Namespace.of(opts?.ns);
  await change(ns, 'isolateNetworks', (st) => {
    const pairs = ([[x, y], [y, x]] as [string, string][]).filter(([i, o]) => !st.desired.isolate.has(`${i} ${o}`));
    if (!pairs.length) return { result: undefined };
    return {
      result: undefined,
      change: (d) => pairs.forEach(([i, o]) => d.isolate.set(`${i} ${o}`, [i, o])),
      incremental: (tx) => void tx.addElements(ISOLATE_SET, pairs.map((key) => ({ key }))) };
  });
}

/** Lets traffic between the two bridges through again (`nft delete element … isolate { A . B, B . A }`). False if they were not isolated. */
export async function removeIsolation(a: string, b: string, opts: NsOption = {}): Promise<boolean> {
  const [x, y] = isoArgs(a, b);
  validate.options(opts, ['ns'], 'removeIsolation');
  const ns = Namespace.of(opts?.ns);
  return change(ns, 'removeIsolation', (st) => {
    const pairs = ([[x, y], [y, x]] as [string, string][]).filter(([i, o]) => st.desired.isolate.has(`${i} ${o}`));
    if (!pairs.length) return { result: false };
    return {
      result: true,
      change: (d) => pairs.forEach(([i, o]) => d.isolate.delete(`${i} ${o}`)),
      incremental: (tx) => void tx.deleteElements(ISOLATE_SET, pairs.map((key) => ({ key }))) };
  });
}

/** The isolated pairs of bridges, read from the kernel (`nft list set inet netweave isolate`). */
export async function listIsolations(opts: NsOption = {}): Promise<Isolation[]> {
  validate.options(opts, ['ns'], 'listIsolations');
  const ns = Namespace.of(opts?.ns);
  return guard('listIsolations', async () => {
    const snap = await readKernel(ns, 'listIsolations');
    const seen = new Map<string, Isolation>();
    for (const [i, o] of snap.desired.isolate.values()) {
      const [a, b] = i < o ? [i, o] : [o, i];
      seen.set(`${a} ${b}`, { a, b });
    }
    return [...seen.values()];
  });
}

// ---- removal ----

/**
 * Deletes netweave's table in the namespace and everything in it (`nft
 * destroy table inet netweave`); other tables are untouched. A watcher in
 * this process does not restore it.
 */
export async function removeFirewall(opts: NsOption = {}): Promise<void> {
  validate.options(opts, ['ns'], 'removeFirewall');
  await removeTable(Namespace.of(opts?.ns), 'removeFirewall');
}

// ---- watching ----

export interface FirewallWatcher extends EventEmitter {
  /** Resolves once subscribed and the table's state is read (and restored if it needed it). */
  readonly ready: Promise<void>;
  close(): void;
  on(event: 'reapplied', listener: (info: Reapplied) => void): this;
  on(event: 'adopted', listener: (info: { generation?: number }) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'ready', listener: () => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

const ourEvent = (e: NftEvent): boolean => {
  switch (e.type) {
    case 'table':
      return e.table.family === FAMILY && e.table.name === TABLE;
    case 'chain':
      return e.chain.family === FAMILY && e.chain.table === TABLE;
    case 'rule':
      return e.rule.family === FAMILY && e.rule.table === TABLE;
    case 'set':
      return e.set.family === FAMILY && e.set.table === TABLE;
    case 'elements':
      return e.elements.family === FAMILY && e.elements.table === TABLE;
    default:
      return false;
  }
};

class Watcher extends EventEmitter implements FirewallWatcher {
  readonly ready: Promise<void>;
  private nft?: NftWatcher;
  private closed = false;
  private touched = false;
  private checking = false;
  private again = false;
  private readonly st: NsState;
  private readonly onRestore = (info: Reapplied) => this.emit('reapplied', info);

  constructor(private readonly ns: Namespace) {
    super();
    this.st = stateOf(ns);
    this.st.watchers++;
    let set = restoreListeners.get(this.st);
    if (!set) restoreListeners.set(this.st, (set = new Set()));
    set.add(this.onRestore);
    this.ready = this.start();
    // 'error' without a listener must not crash the process through ready's rejection.
    this.ready.catch(() => {});
  }

  private async start(): Promise<void> {
    try {
      const w = await watchNftables({ ns: this.ns, onEvent: (e) => this.onEvent(e), onResync: () => this.schedule() });
      if (this.closed) {
        w.close();
        return;
      }
      this.nft = w;
      await this.st.locked(() => this.check());
      this.emit('ready');
    } catch (err) {
      const e = asOperation(err, 'watchFirewall') as Error;
      if (this.listenerCount('error')) this.emit('error', e);
      throw e;
    }
  }

  private onEvent(e: NftEvent): void {
    if (e.type === 'generation') {
      if (this.touched) this.schedule();
      this.touched = false;
    } else if (ourEvent(e)) {
      this.touched = true;
    }
  }

  /** Runs one check at a time; events during a check ask for one more. */
  private schedule(): void {
    if (this.closed) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    void this.st
      .locked(() => this.check())
      .catch((err) => this.emit('error', asOperation(err, 'watchFirewall')))
      .finally(() => {
        this.checking = false;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
  }

  /** Under the lock: nothing to do when the kernel is at the generation the state knows (our own commit). */
  private async check(): Promise<void> {
    if (this.closed) return;
    if (this.st.generation !== undefined && (await getGeneration({ ns: this.ns })) === this.st.generation) return;
    const outcome = await sync(this.st, this.ns, 'watchFirewall');
    if (outcome === 'adopted') this.emit('adopted', { generation: this.st.generation });
    else if (this.st.desired.ports.size) {
      this.st.localnet = false;
      await ensureLocalnet(this.ns, this.st, this.st.desired.ports.values());
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.st.watchers--;
    restoreListeners.get(this.st)?.delete(this.onRestore);
    this.nft?.close();
  }
}

/**
 * Watches netweave's table in a namespace (`nft monitor`, filtered) and
 * keeps it as this module last left it: when a transaction of someone else
 * deletes it (`nft flush ruleset`, `nft delete table inet netweave`, a
 * firewalld reload) or damages it (its chains, maps or fixed rules gone or
 * changed), the last known state is rebuilt in one transaction and
 * 'reapplied' is emitted. Entries another writer changed in an intact table
 * (another netweave process publishing a port, `nft delete element`) are
 * adopted ('adopted'), not reverted. Its own commits are recognised by their
 * generation and never trigger anything. On start it reads the current table
 * (so a new process restores what an earlier one made).
 */
export function watchFirewall(opts: NsOption = {}): FirewallWatcher {
  validate.options(opts, ['ns'], 'watchFirewall');
  return new Watcher(Namespace.of(opts?.ns));
}
