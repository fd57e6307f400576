// The rtnetlink requests the network layer composes itself: several
// messages in one request (one sendmsg, processed by the kernel in order)
// where the per-object functions would cost one round trip each, and the
// few reads the object API has no call for (namespace ids, another
// namespace's links and addresses through IFLA_TARGET_NETNSID).
import { decodeAddress, checkAddAddress, writeAddressRequest, type Address } from '../address.js';
import { ChainInParts, checkAcks, errorFromAck, failedAck, NetlinkSocket, requestChainRaw, settleChain, type ChainCompletion, type ChainStep, type Reply } from '../engine.js';
import { NetlinkError } from '../errors.js';
import { native } from '../native.js';
import { linksFrom, nsFdOf, type Link } from '../link.js';
import type { Namespace } from '../namespace.js';
import { checkRoute, writeRouteRequest } from '../route.js';
import { RTA_OIF, RTMSG_SIZE } from '../wire/route.js';
import { encodeIfaddrmsg, IFA_ADDRESS, IFA_BROADCAST, IFA_LOCAL, IFA_TARGET_NETNSID, IFADDRMSG_SIZE } from '../wire/addr.js';
import { AF_INET, isMac } from '../wire/address.js';
import {
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_GROUP,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_NUM_RX_QUEUES,
  IFLA_NUM_TX_QUEUES,
  writeIfinfomsg,
  writeLinkMessage,
} from '../wire/link.js';
import { VETH_INFO_PEER } from '../wire/link-kinds/veth.js';
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLA_HDRLEN,
  NETLINK_ROUTE,
  noErrorAck,
  attrPathAt,
  forEachMessage,
  Writer,
  type Message,
} from '../wire/netlink.js';
import { RTM_DELLINK, RTM_GETADDR, RTM_GETLINK, RTM_GETNSID, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNSID, RTM_NEWROUTE } from '../wire/rtnetlink.js';

/** Loopback is ifindex 1 in every network namespace (LOOPBACK_IFINDEX). */
export const LOOPBACK_IFINDEX = 1;

interface Sent {
  data: Message[];
  /** The kernel's error per message of the request, by position; undefined = done. */
  errors: (NetlinkError | undefined)[];
}

/**
 * Sends the messages written into w as one request and reports each
 * message's outcome (an NLMSG_ERROR's seq minus the request's first seq is
 * the message's position), instead of throwing on the first error.
 */
export async function sendEach(sock: NetlinkSocket, w: Writer, count: number, operation: string, subject?: string): Promise<Sent> {
  return outcomes(await sock.request(w.finish(), { operation, subject }), count, operation, subject);
}

/** Each message's outcome in a reply (see sendEach). */
export function outcomes(reply: Reply, count: number, operation: string, subject?: string): Sent {
  const errors: (NetlinkError | undefined)[] = new Array(count).fill(undefined);
  const data: Message[] = [];
  for (const m of reply.messages) {
    if (m.type === NLMSG_ERROR) {
      const failed = failedAck(m, reply);
      if (failed && failed.index < count && !errors[failed.index]) errors[failed.index] = errorFromAck(failed.ack, operation, { subject });
    } else if (m.type !== NLMSG_DONE) data.push(m);
  }
  return { data, errors };
}

export interface VethEndpointRequest {
  /** Where the bridge lives: the host end is born here, enslaved and up. */
  host: Namespace;
  /**
   * The container's namespace: the other end is born here as `ifname`. A
   * NewNamespace: one the chain creates first (connectVethEndpoint only).
   */
  container: Namespace | NewNamespace;
  hostName: string;
  ifname: string;
  /** MAC of the container end. */
  mac: string;
  group: number;
  master: number;
  mtu?: number;
  /** Transmit and receive queues of each end (unset: the kernel's default, one per possible CPU). */
  queues?: number;
}

/**
 * A namespace in the making (newNamespace): the first part of a chain sent
 * in parts creates it, with `sock` inside it, while the caller writes the
 * requests of its connect — which connectVethEndpoint sends as the chain's
 * last part. Until then the chain is the caller's: dropNamespace() ends
 * it and lets go of what it made.
 */
export interface NewNamespace {
  sock: NetlinkSocket;
  chain: ChainInParts;
}

/** Starts making a namespace (a chain's first part, on the engine thread now). */
export function newNamespace(operation: string): NewNamespace {
  const sock = NetlinkSocket.reserve(NETLINK_ROUTE);
  try {
    return { sock, chain: new ChainInParts([{ createNamespace: sock, opts: { operation, subject: 'create namespace' } }]) };
  } catch (e) {
    sock.close();
    throw e;
  }
}

/** Ends a namespace's chain that nothing was added to, then closes the namespace and its socket. */
export async function dropNamespace(n: NewNamespace): Promise<void> {
  if (!n.chain.isEnded) void n.chain.end();
  const [made] = await n.chain.answers;
  if (!made.errno) native.closeFd(made.value);
  n.sock.close();
}

export interface VethEndpointLinks {
  hostIndex: number;
  /** Index of the container end in its namespace. */
  peerIndex: number;
  /** The container namespace's id as the host namespace knows it. */
  netnsId?: number;
}

/**
 * One request on the host namespace's socket:
 *   ip link add <hostName> group G master <bridge> [numtxqueues Q numrxqueues Q] type veth
 *       peer name <ifname> netns <C> address <mac> group G [numtxqueues Q numrxqueues Q]
 *   ip link set dev <hostName> up
 * The create is echoed (NLM_F_ECHO), which gives the container end's index
 * (IFLA_LINK) without a lookup.
 */
export async function createVethEndpoint(r: VethEndpointRequest & { container: Namespace }, operation: string): Promise<VethEndpointLinks> {
  const reply = await r.host.route().request(writeVethEndpoint(r), { operation, subject: vethSubject(r) });
  return vethOutcome(r, reply, operation);
}

function vethSubject(r: VethEndpointRequest): string {
  return `${r.hostName} (peer ${r.ifname})`;
}

/**
 * The host request, written straight into the buffer (the attributes and
 * their order are the generic encoder's — a unit test holds the two equal):
 * a connect runs this between kernel waits, where the table-driven encoder
 * costs several times more.
 */
export function writeVethEndpoint(r: VethEndpointRequest, at?: { nsFd: number }): Buffer {
  if (!isMac(r.mac)) throw new TypeError(`mac must be a MAC address like 02:42:ac:11:00:02, got ${JSON.stringify(r.mac)}`);
  // Both messages are the same for every endpoint of a network but for the
  // host name, the MAC and the namespace fd: copied from a template of their
  // shape, those written in.
  const key = `${Buffer.byteLength(r.hostName)}|${r.ifname}|${r.mtu ?? ''}|${r.master}|${r.group}|${r.queues ?? ''}`;
  let t = hostTemplates.get(key);
  if (!t) {
    if (hostTemplates.size >= 64) hostTemplates.clear();
    hostTemplates.set(key, (t = hostTemplate(r)));
  }
  const b = Buffer.allocUnsafe(t.bytes.length);
  t.bytes.copy(b);
  b.write(r.hostName, t.nameAt, 'utf8');
  b.write(r.hostName, t.upNameAt, 'utf8');
  for (let i = 0; i < 6; i++) b[t.macAt + i] = parseInt(r.mac.slice(3 * i, 3 * i + 2), 16);
  b.writeUInt32LE('sock' in r.container ? 0 : nsFdOf(r.container), t.nsFdAt);
  // A namespace the chain creates: its fd is patched in (at.nsFd: where).
  if (at) at.nsFd = t.nsFdAt;
  return b;
}

interface HostTemplate {
  /** The create message, then the up message. */
  bytes: Buffer;
  nameAt: number;
  macAt: number;
  nsFdAt: number;
  upNameAt: number;
}

const hostTemplates = new Map<string, HostTemplate>();

/** The messages of writeVethEndpoint for r's shape, and where its variable values go. */
function hostTemplate(r: VethEndpointRequest): HostTemplate {
  const w = new Writer(512);
  const m = w.begin(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO);
  w.struct(IFINFOMSG_LEN);
  const nameAt = w.off + NLA_HDRLEN;
  w.string(IFLA_IFNAME, r.hostName);
  if (r.mtu !== undefined) w.u32(IFLA_MTU, r.mtu);
  w.u32(IFLA_MASTER, r.master);
  w.u32(IFLA_GROUP, r.group);
  queues(w, r.queues);
  const li = w.nest(IFLA_LINKINFO);
  w.string(IFLA_INFO_KIND, 'veth');
  const data = w.nest(IFLA_INFO_DATA);
  const peer = w.nest(VETH_INFO_PEER);
  w.struct(IFINFOMSG_LEN);
  const macAt = w.off + NLA_HDRLEN;
  w.bytes(IFLA_ADDRESS, Buffer.alloc(6));
  w.string(IFLA_IFNAME, r.ifname);
  if (r.mtu !== undefined) w.u32(IFLA_MTU, r.mtu);
  w.u32(IFLA_GROUP, r.group);
  const nsFdAt = w.off + NLA_HDRLEN;
  w.u32(IFLA_NET_NS_FD, 0);
  queues(w, r.queues);
  w.endNest(peer);
  w.endNest(data);
  w.endNest(li);
  w.end(m);
  // Up in a second message: enslaved first, then up, is cheaper for the kernel than up, then enslaved.
  const up = w.begin(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  writeIfinfomsg(w, { flags: IFF_UP, change: IFF_UP });
  const upNameAt = w.off + NLA_HDRLEN;
  w.string(IFLA_IFNAME, r.hostName);
  w.end(up);
  return { bytes: Buffer.from(w.finish()), nameAt, macAt, nsFdAt, upNameAt };
}

function queues(w: Writer, n: number | undefined): void {
  if (n === undefined) return;
  w.u32(IFLA_NUM_TX_QUEUES, n);
  w.u32(IFLA_NUM_RX_QUEUES, n);
}

/** The links a host request made, or its error (after removing what it made). */
function vethOutcome(r: VethEndpointRequest, reply: Reply, operation: string): VethEndpointLinks | Promise<never> {
  const subject = vethSubject(r);
  const sent = outcomes(reply, 2, operation, subject);
  if (sent.errors[0]) return Promise.reject(sent.errors[0]);
  const echo = sent.data.find((m) => m.type === RTM_NEWLINK);
  const link = echo ? echoedLinkOf(echo.payload) : undefined;
  if (sent.errors[1] || !link || !link.peerIndex) {
    return deleteLinks(r.host, [link?.hostIndex ?? r.hostName], operation)
      .catch(() => {})
      .then(() => {
        throw sent.errors[1] ?? new NetlinkError(61 /* ENODATA */, operation, { subject, kernelMessage: 'the kernel did not echo the new link' });
      });
  }
  return link;
}

/**
 * A whole veth endpoint in one pass of the engine thread (requestChain):
 * the host request (createVethEndpoint), then `inside` on the container's
 * socket with the peer's index copied from the echoed link, then the tag
 * `commit` on the host end. A step goes out only if the ones before it
 * succeeded; whatever failed, what was made is removed before this throws.
 */
export async function connectVethEndpoint(
  r: VethEndpointRequest,
  inside: PreparedInside,
  commit: PreparedAlias,
  operation: string,
): Promise<VethEndpointLinks & { defaultRoute: boolean; nsFd?: number; nsIdentity?: Buffer }> {
  const opts = { operation, subject: vethSubject(r) };
  const at = { nsFd: 0 };
  const container = r.container;
  const fresh = 'sock' in container;
  // The namespace in the making is the chain's step 0: its fd goes into the host request, its socket carries the inside one.
  const first = fresh ? 1 : 0;
  let steps: ChainStep[];
  let flat: Uint32Array;
  try {
    const hostBytes = writeVethEndpoint(r, at);
    const host = r.host.route();
    steps = [{ sock: host, bytes: hostBytes, opts }, { sock: inside.sock, bytes: inside.bytes, opts: { operation, subject: inside.subject } }, { sock: host, bytes: commit.bytes, opts }];
    // The inside request takes the peer's index (IFLA_LINK of the echoed
    // link), the tag commit the host end's (its ifi_index); the host request
    // the new namespace's fd (a step's value: msgType 0).
    flat = new Uint32Array((inside.indexAt.length + 1 + first) * 6);
    let k = 0;
    const patch = (step: number, from: number, msgType: number, attr: number, field: number, target: number) => {
      flat[k++] = step;
      flat[k++] = from;
      flat[k++] = msgType;
      flat[k++] = attr;
      flat[k++] = field;
      flat[k++] = target;
    };
    if (fresh) patch(1, 0, 0, 0, 0, at.nsFd);
    for (const target of inside.indexAt) patch(first + 1, first, RTM_NEWLINK, IFLA_LINK, IFINFOMSG_LEN, target);
    patch(first + 2, first, RTM_NEWLINK, 0, 4 /* ifi_index */, commit.indexAt);
  } catch (e) {
    if (fresh) await dropNamespace(container);
    throw e;
  }
  // The chain's completions arrive together: one await for all of them.
  let raw: ChainCompletion[];
  if (!fresh) raw = await requestChainRaw(steps, flat);
  else {
    try {
      raw = await container.chain.end(steps, flat);
    } catch (e) {
      await dropNamespace(container);
      throw e;
    }
  }
  const nsFd = fresh && !raw[0].errno ? raw[0].value : undefined;
  // A chain the kernel acknowledged throughout is read straight from its replies.
  const links: (VethEndpointLinks & { defaultRoute?: boolean; nsFd?: number; nsIdentity?: Buffer }) | undefined = allAcked(raw, first) ? echoedLink(raw[first].data!) : undefined;
  if (links && links.peerIndex) {
    links.defaultRoute = inside.addsDefaultRoute;
    if (fresh) {
      links.nsFd = nsFd;
      links.nsIdentity = raw[0].data;
    }
    return links as VethEndpointLinks & { defaultRoute: boolean };
  }
  if (!fresh) return vethEndpointOutcome(r, inside, commit, operation, (await settleChain(steps, raw)) as never);
  const settled = await settleChain(container.chain.steps, raw);
  const sock = container.sock;
  if (settled[0].status === 'rejected') {
    sock.close();
    throw settled[0].reason;
  }
  try {
    return { ...(await vethEndpointOutcome(r, inside, commit, operation, settled.slice(1) as never)), nsFd, nsIdentity: raw[0].data };
  } catch (e) {
    // Dropping the namespace takes the container end, and with it the veth pair.
    sock.close();
    native.closeFd(nsFd!);
    throw e;
  }
}

/**
 * Whether every request of a chain from step `from` on was answered and
 * every message of it acknowledged without error (an NLMSG_ERROR of 0).
 */
function allAcked(raw: readonly ChainCompletion[], from: number): boolean {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i].errno) return false;
    const d = raw[i].data;
    if (i < from) continue;
    if (!d || !noErrorAck(d)) return false;
  }
  return true;
}

/** What connect's chain did, or its error (after removing what it made). */
async function vethEndpointOutcome(
  r: VethEndpointRequest,
  inside: PreparedInside,
  commit: PreparedAlias,
  operation: string,
  [hostR, insideR, commitR]: readonly [PromiseSettledResult<Reply>, PromiseSettledResult<Reply>, PromiseSettledResult<Reply>],
): Promise<VethEndpointLinks & { defaultRoute: boolean }> {
  const opts = { operation, subject: vethSubject(r) };
  // Every step has settled (later ones with ECANCELED when an earlier one failed): none is left unobserved.
  if (hostR.status === 'rejected') throw hostR.reason;
  const out = vethOutcome(r, hostR.value, operation);
  const links = out instanceof Promise ? await out : out;
  try {
    if (insideR.status === 'rejected') throw insideR.reason;
    const { defaultRoute } = inside.outcome(insideR.value);
    // A tolerated error inside (an existing default route) stopped the chain before the tag.
    if (commitR.status === 'rejected') {
      if ((commitR.reason as NetlinkError).code !== 'ECANCELED') throw commitR.reason;
      await commit.send(links.hostIndex);
    } else {
      checkAcks(commitR.value, opts);
    }
    return { ...links, defaultRoute };
  } catch (e) {
    await deleteLinks(r.host, [links.hostIndex], operation).catch(() => {});
    throw e;
  }
}

/** The echoed RTM_NEWLINK in a reply's bytes, read as echoedLinkOf reads it. */
function echoedLink(d: Buffer): VethEndpointLinks | undefined {
  let link: VethEndpointLinks | undefined;
  forEachMessage(d, (type, at, end) => {
    if (type !== RTM_NEWLINK) return true;
    link = echoedLinkOf(d.subarray(at, end));
    return false;
  });
  return link;
}

/** Just what connect needs of an echoed RTM_NEWLINK: ifi_index, IFLA_LINK, IFLA_LINK_NETNSID (decodeLink reads all of it). */
function echoedLinkOf(p: Buffer): VethEndpointLinks | undefined {
  if (p.length < IFINFOMSG_LEN) return undefined;
  const out: VethEndpointLinks = { hostIndex: p.readInt32LE(4), peerIndex: 0 };
  for (let off = IFINFOMSG_LEN; off + 4 <= p.length; ) {
    const len = p.readUInt16LE(off);
    if (len < 4 || off + len > p.length) break;
    const type = p.readUInt16LE(off + 2) & 0x3fff;
    if (type === IFLA_LINK && len >= 8) out.peerIndex = p.readUInt32LE(off + 4);
    else if (type === IFLA_LINK_NETNSID && len >= 8) out.netnsId = p.readInt32LE(off + 4);
    off += (len + 3) & ~3;
  }
  return out;
}

export interface InsideRequest {
  ns: Namespace;
  index: number;
  /** "172.18.0.2/16" */
  cidr: string;
  /** Default route via this gateway (absent: none). */
  gateway?: string;
  loopback: boolean;
  /** Bring the interface up (a macvlan moved in arrives down). */
  up: boolean;
}

/**
 * One request on the container namespace's socket:
 *   ip link set dev <if> up; [ip link set dev lo up]; ip addr add <cidr> dev <if>;
 *   [ip route add default via <gateway> dev <if>]
 * Resolves whether the default route was added: an existing default route
 * (the namespace is on another network already) is kept, as Docker keeps
 * the first network's gateway.
 */
export async function configureInside(r: InsideRequest, operation: string): Promise<{ defaultRoute: boolean }> {
  return prepareInside(r, operation).send(r.index);
}

/** The inside request, written before the interface's index is known (connect prepares it while the kernel creates the veth). */
export interface PreparedInside {
  /** The socket it goes out on (the namespace's rtnetlink socket). */
  sock: NetlinkSocket;
  subject: string;
  bytes: Buffer;
  /** Where the interface's index goes in bytes. */
  indexAt: number[];
  /** Whether a request acknowledged throughout added the default route. */
  addsDefaultRoute: boolean;
  /** Whether the default route was added, or the error of the step that failed. */
  outcome(reply: Reply): { defaultRoute: boolean };
  send(index: number): Promise<{ defaultRoute: boolean }>;
}

const INDEX_PLACEHOLDER = 0x7fffffff;

export function prepareInside(r: Omit<InsideRequest, 'index' | 'ns'> & { index?: number } & ({ ns: Namespace } | { sock: NetlinkSocket }), operation: string): PreparedInside {
  const { bytes, indexAt, what } = insideBytes(r, operation);
  return new InsideRequestBytes('ns' in r ? r.ns.route() : r.sock, r.cidr, bytes, indexAt, what, r.gateway, operation);
}

class InsideRequestBytes implements PreparedInside {
  constructor(
    readonly sock: NetlinkSocket,
    readonly subject: string,
    readonly bytes: Buffer,
    readonly indexAt: number[],
    private readonly what: InsideBytes['what'],
    private readonly gateway: string | undefined,
    private readonly operation: string,
  ) {}

  get addsDefaultRoute(): boolean {
    return this.gateway !== undefined;
  }

  outcome(reply: Reply): { defaultRoute: boolean } {
    const { what, operation } = this;
    const sent = outcomes(reply, what.length, operation, this.subject);
    let defaultRoute = this.gateway !== undefined;
    for (let i = 0; i < sent.errors.length; i++) {
      const e = sent.errors[i];
      if (!e) continue;
      if (what[i] === 'route' && e.code === 'EEXIST') {
        defaultRoute = false;
        continue;
      }
      const step = { up: 'bring the interface up', lo: 'bring lo up', addr: `add ${this.subject}`, route: `add the default route via ${this.gateway}` }[what[i]];
      throw new NetlinkError(e.errno, operation, { subject: this.subject, kernelMessage: e.kernelMessage, item: step });
    }
    return { defaultRoute };
  }

  async send(index: number): Promise<{ defaultRoute: boolean }> {
    for (const at of this.indexAt) this.bytes.writeInt32LE(index, at);
    return this.outcome(await this.sock.request(this.bytes, { operation: this.operation, subject: this.subject }));
  }
}

type Inside = Omit<InsideRequest, 'index' | 'ns'> & { index?: number };

interface InsideBytes {
  bytes: Buffer;
  indexAt: number[];
  what: ('up' | 'lo' | 'addr' | 'route')[];
}

/** The inside request, written from scratch (any address family). */
function writeInside(r: Inside, operation: string): InsideBytes & { addrAt: number } {
  const w = new Writer(512);
  const what: InsideBytes['what'] = [];
  const indexAt: number[] = [];
  const index = r.index ?? INDEX_PLACEHOLDER;
  if (r.up) {
    indexAt.push(w.off + NLMSG_HDRLEN + 4);
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index, flags: IFF_UP, change: IFF_UP } });
    what.push('up');
  }
  if (r.loopback) {
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: LOOPBACK_IFINDEX, flags: IFF_UP, change: IFF_UP } });
    what.push('lo');
  }
  const addrAt = w.off;
  indexAt.push(w.off + NLMSG_HDRLEN + 4);
  writeAddressRequest(w, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, index, checkAddAddress(r.cidr, {}, operation));
  what.push('addr');
  if (r.gateway !== undefined) {
    const start = w.off;
    writeRouteRequest(w, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, defaultRouteTo(r.gateway, operation), index, []);
    const oif = attrPathAt(w.buf, start, RTMSG_SIZE, [RTA_OIF]);
    if (oif === undefined) throw new Error('the default route was written without RTA_OIF');
    indexAt.push(oif);
    what.push('route');
  }
  return { bytes: w.finish(), indexAt, what, addrAt };
}

/**
 * A connect writes the same inside request over and over, but for the
 * address: for IPv4 it is written once per shape (flags, prefix, gateway)
 * and then copied with the address (and its broadcast) filled in. On this
 * kind of VM, JS that runs between kernel waits is several times slower
 * than in a hot loop, so less of it is what shortens a connect.
 */
interface InsideTemplate extends InsideBytes {
  localAt: number;
  addressAt: number;
  broadcastAt?: number;
  hostMask: number;
}

const insideTemplates = new Map<string, InsideTemplate>();

/** "a.b.c.d/p" (decimal digits only) as a number and a prefix; undefined for anything else (the generic path then parses it, or refuses it). */
function cidr4(text: string): { addr: number; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || text.length - slash < 2 || text.length - slash > 3) return undefined;
  let prefix = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    prefix = prefix * 10 + d;
  }
  if (prefix > 32) return undefined;
  let addr = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= slash; i++) {
    // The slash ends the last part as a dot ends the others.
    const ch = i < slash ? text.charCodeAt(i) : 46;
    if (ch >= 48 && ch <= 57) {
      // No leading zeros: the address parser refuses them (octal in some readings).
      if (digits > 0 && part === 0) return undefined;
      part = part * 10 + (ch - 48);
      if (++digits > 3) return undefined;
    } else if (ch === 46 && digits > 0 && part <= 255) {
      addr = addr * 256 + part;
      part = digits = 0;
      dots++;
    } else return undefined;
  }
  return dots === 4 ? { addr, prefix } : undefined;
}

function insideBytes(r: Inside, operation: string): InsideBytes {
  const c = cidr4(r.cidr);
  if (r.index !== undefined || c === undefined) return writeInside(r, operation);
  const { addr, prefix } = c;
  const key = `${r.up ? 1 : 0}${r.loopback ? 1 : 0}/${prefix}/${r.gateway ?? ''}`;
  let t = insideTemplates.get(key);
  if (!t) {
    const fresh = writeInside(r, operation);
    const valueAt = (type: number) => attrPathAt(fresh.bytes, fresh.addrAt, IFADDRMSG_SIZE, [type]);
    const localAt = valueAt(IFA_LOCAL);
    const addressAt = valueAt(IFA_ADDRESS);
    if (localAt === undefined || addressAt === undefined) return fresh;
    t = { ...fresh, localAt, addressAt, broadcastAt: valueAt(IFA_BROADCAST), hostMask: prefix === 0 ? 0xffffffff : 2 ** (32 - prefix) - 1 };
    insideTemplates.set(key, t);
    return fresh;
  }
  const bytes = Buffer.allocUnsafe(t.bytes.length);
  t.bytes.copy(bytes);
  bytes.writeUInt32BE(addr, t.localAt);
  bytes.writeUInt32BE(addr, t.addressAt);
  if (t.broadcastAt !== undefined) bytes.writeUInt32BE((addr | t.hostMask) >>> 0, t.broadcastAt);
  return { bytes, indexAt: t.indexAt, what: t.what };
}

const defaultRoutes = new Map<string, ReturnType<typeof checkRoute>>();

function defaultRouteTo(gateway: string, operation: string): ReturnType<typeof checkRoute> {
  let c = defaultRoutes.get(gateway);
  if (!c) defaultRoutes.set(gateway, (c = checkRoute({ dst: 'default', gateway }, false, operation)));
  return c;
}

/** `ip link set dev <index> alias <text>` — the commit marker of connect and createNetwork. */
export async function setAlias(ns: Namespace, index: number, alias: string, operation: string): Promise<void> {
  return prepareAlias(ns, alias, operation).send(index);
}

/** setAlias written before the index is known. */
export interface PreparedAlias {
  bytes: Buffer;
  /** Where the link's index goes in bytes. */
  indexAt: number;
  send(index: number): Promise<void>;
}

export function prepareAlias(ns: Namespace, alias: string, operation: string): PreparedAlias {
  const len = typeof alias === 'string' ? Buffer.byteLength(alias) : 256;
  if (len > 255) throw new RangeError('alias must be a string of at most 255 bytes (IFALIASZ - 1)');
  // RTM_NEWLINK { ifinfomsg with the index to come } IFLA_IFALIAS, written directly (connect runs this between kernel waits).
  const attrAt = NLMSG_HDRLEN + IFINFOMSG_LEN;
  const bytes = Buffer.alloc(attrAt + ((NLA_HDRLEN + len + 1 + 3) & ~3));
  bytes.writeUInt32LE(bytes.length, 0);
  bytes.writeUInt16LE(RTM_NEWLINK, 4);
  bytes.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
  bytes.writeInt32LE(INDEX_PLACEHOLDER, ALIAS_INDEX_AT);
  bytes.writeUInt16LE(NLA_HDRLEN + len + 1, attrAt);
  bytes.writeUInt16LE(IFLA_IFALIAS, attrAt + 2);
  bytes.write(alias, attrAt + NLA_HDRLEN, 'utf8');
  return new AliasRequest(ns, bytes, operation);
}

const ALIAS_INDEX_AT = NLMSG_HDRLEN + 4;

class AliasRequest implements PreparedAlias {
  readonly indexAt = ALIAS_INDEX_AT;
  constructor(
    private readonly ns: Namespace,
    readonly bytes: Buffer,
    private readonly operation: string,
  ) {}

  async send(index: number): Promise<void> {
    this.bytes.writeInt32LE(index, ALIAS_INDEX_AT);
    await this.ns.route().call(this.bytes, { operation: this.operation, subject: `#${index}` });
  }
}

/**
 * Deletes links in one request. Several links are first moved into a
 * scratch group and deleted with one group delete (the kernel's rcu_barrier
 * is paid once instead of ~16 ms per link): `ip link set dev X group S` …
 * `ip link del group S`. Links already gone are not an error.
 */
export async function deleteLinks(ns: Namespace, links: (number | string)[], operation: string, scratchGroup?: number): Promise<void> {
  if (links.length === 0) return;
  const w = new Writer(64 + links.length * 48);
  if (links.length === 1 || scratchGroup === undefined) {
    for (const l of links) writeLinkMessage(w, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, typeof l === 'number' ? { ifi: { index: l } } : { attrs: { ifname: l } });
  } else {
    for (const l of links) {
      writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, typeof l === 'number' ? { ifi: { index: l }, attrs: { group: scratchGroup } } : { attrs: { ifname: l, group: scratchGroup } });
    }
    writeLinkMessage(w, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, { attrs: { group: scratchGroup } });
  }
  const n = links.length === 1 || scratchGroup === undefined ? links.length : links.length + 1;
  const sent = await sendEach(ns.route(), w, n, operation);
  const failed = sent.errors.find((e) => e && e.code !== 'ENODEV');
  if (failed) throw failed;
}

/** `ip link del group G` for each group, in one request; groups without links are skipped silently. */
export async function deleteGroups(ns: Namespace, groups: number[], operation: string): Promise<void> {
  if (groups.length === 0) return;
  const w = new Writer(64 * groups.length);
  for (const group of groups) writeLinkMessage(w, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, { attrs: { group } });
  const sent = await sendEach(ns.route(), w, groups.length, operation);
  const failed = sent.errors.find((e) => e && e.code !== 'ENODEV');
  if (failed) throw failed;
}

// struct rtgenmsg { unsigned char rtgen_family; } (padded to 4)
const NETNSA_NSID = 1;
const NETNSA_FD = 3;
const NETNSA_NSID_NOT_ASSIGNED = -1;

/**
 * The id the host namespace has for another namespace (RTM_GETNSID with
 * NETNSA_FD: `ip netns identify`'s lookup), or undefined if it has none —
 * it gets one when a link pairs the two (a veth across them).
 */
export async function namespaceId(host: Namespace, other: Namespace, operation: string): Promise<number | undefined> {
  const w = new Writer(32);
  const m = w.begin(RTM_GETNSID, NLM_F_REQUEST);
  w.struct(1);
  w.u32(NETNSA_FD, nsFdOf(other));
  w.end(m);
  const data = await host.route().call(w.finish(), { operation, subject: 'namespace id' });
  for (const d of data) {
    if (d.type !== RTM_NEWNSID || d.payload.length < 4) continue;
    let id: number | undefined;
    let off = 4;
    while (off + 4 <= d.payload.length) {
      const len = d.payload.readUInt16LE(off);
      const type = d.payload.readUInt16LE(off + 2) & 0x3fff;
      if (len < 4) break;
      if (type === NETNSA_NSID && len >= 8) id = d.payload.readInt32LE(off + 4);
      off += (len + 3) & ~3;
    }
    return id === undefined || id === NETNSA_NSID_NOT_ASSIGNED ? undefined : id;
  }
  return undefined;
}

/** Every link of the namespace the host knows as `netnsId` (a dump with IFLA_TARGET_NETNSID): `ip -target-netnsid N link` as rtnetlink allows it. */
export async function linksByNsid(host: Namespace, netnsId: number, operation: string): Promise<Link[]> {
  const w = new Writer(48);
  writeLinkMessage(w, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, { attrs: { targetNetnsId: netnsId } });
  const data = await host.route().call(w.finish(), { operation, subject: `netnsid ${netnsId}`, dump: true });
  return linksFrom(data, host);
}

/** The IPv4 addresses of the namespace the host knows as `netnsId` (IFA_TARGET_NETNSID). */
export async function addressesByNsid(host: Namespace, netnsId: number, operation: string): Promise<Address[]> {
  const w = new Writer(48);
  const m = w.begin(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  encodeIfaddrmsg(w, { family: AF_INET, prefixlen: 0, flags: 0, scope: 0, index: 0 });
  w.s32(IFA_TARGET_NETNSID, netnsId);
  w.end(m);
  const data = await host.route().call(w.finish(), { operation, subject: `netnsid ${netnsId}`, dump: true });
  return data.filter((d) => d.type === RTM_NEWADDR).map((d) => decodeAddress(d.payload));
}
