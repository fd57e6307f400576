// Links over rtnetlink (RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK): read,
// list, change, move and delete any link, and the shared create path every
// link kind (src/link-kinds/) goes through. Each call is one request unless
// an option needs more (noted per function).
import { NetlinkError } from './errors.js';
import { Namespace } from './namespace.js';
import { collect } from './rtnl.js';
import * as validate from './validate.js';
import {
  decodeLink,
  IFINFOMSG_LEN,
  IFF_UP,
  writeLinkDump,
  writeLinkMessage,
  type LinkAttrs,
  type LinkMessage,
  type LinkRequest,
} from './wire/link.js';
import './wire/link-kinds/index.js';
import type { LinkInfoByKind } from './wire/link-kinds/registry.js';
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  Writer,
  type Message,
} from './wire/netlink.js';
import { RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from './wire/rtnetlink.js';

export type { LinkFlags, LinkStats, Operstate } from './wire/link.js';

/**
 * A link as the kernel reported it. `ns` (not enumerable) is the namespace
 * it was read in: passing the Link to another call acts there unless that
 * call's `ns` option says otherwise.
 */
export type Link<K extends string = string> = LinkMessage<K> & { readonly ns: Namespace };

/** A link by name (or altname), by index, or a Link read earlier. */
export type LinkRef = string | number | Link;

export interface NsOption {
  /** Namespace to act in; default: the current one (or the namespace a Link argument was read in). */
  ns?: Namespace;
}

const ALTIFNAMSIZ = 128;

interface Target {
  index: number;
  name?: string;
  ns?: Namespace;
  subject: string;
}

/** Validates a LinkRef; names are looked up by the kernel (IFLA_IFNAME / IFLA_ALT_IFNAME), never by a dump. */
export function linkTarget(ref: unknown, arg = 'link'): Target {
  if (typeof ref === 'number') {
    validate.uint(ref, arg, 0x7fffffff, 1);
    return { index: ref, subject: `#${ref}` };
  }
  if (typeof ref === 'string') {
    if (ref.length === 0) throw new TypeError(`${arg} must not be empty`);
    const len = Buffer.byteLength(ref);
    if (len <= 15) validate.ifname(ref, arg);
    else if (len >= ALTIFNAMSIZ || /[/:\s]/.test(ref)) {
      throw new RangeError(`${arg} ${JSON.stringify(ref)} is not a valid interface name or altname (at most ${ALTIFNAMSIZ - 1} bytes)`);
    }
    return { index: 0, name: ref, subject: ref };
  }
  if (ref && typeof ref === 'object' && typeof (ref as Link).index === 'number' && typeof (ref as Link).name === 'string') {
    const l = ref as Link;
    validate.uint(l.index, `${arg}.index`, 0x7fffffff, 1);
    return { index: l.index, name: l.name, ns: l.ns, subject: l.name };
  }
  throw new TypeError(`${arg} must be an interface name, an index or a Link, got ${ref === null ? 'null' : typeof ref}`);
}

/** How a request names an existing link: ifi_index, else IFLA_IFNAME (or IFLA_ALT_IFNAME past 15 bytes). */
export function selector(t: Target): { ifi: { index: number }; attrs: LinkAttrs } {
  if (t.index) return { ifi: { index: t.index }, attrs: {} };
  const name = t.name!;
  return { ifi: { index: 0 }, attrs: Buffer.byteLength(name) > 15 ? { altIfname: name } : { ifname: name } };
}

/** The descriptor to put in IFLA_NET_NS_FD for a namespace (valid in this process). */
export function nsFdOf(ns: Namespace): number {
  void ns.nsFd; // throws if closed
  return ns.fd;
}

/** Decodes the RTM_NEWLINK messages of a reply into Links read in ns. */
export function linksFrom(messages: Message[], ns: Namespace): Link[] {
  const out: Link[] = [];
  for (const m of messages) if (m.type === RTM_NEWLINK) out.push(decodeLink(m.payload, ns) as Link);
  return out;
}

/** Sends link messages (one or more, built into w) and throws the kernel's error. */
export async function sendLink(ns: Namespace, w: Writer, operation: string, subject?: string): Promise<Message[]> {
  return ns.route().call(w.finish(), { operation, subject });
}

function simple(type: number, flags: number, req: LinkRequest): Writer {
  const w = new Writer(128);
  writeLinkMessage(w, type, NLM_F_REQUEST | flags, req);
  return w;
}

export type GetLinkOptions = NsOption;

/**
 * One link by name, altname or index: a direct RTM_GETLINK (never a dump).
 * `ip link show dev <name>`. Throws NetlinkError ENODEV naming the link if
 * there is none.
 */
export async function getLink(link: LinkRef, opts?: GetLinkOptions): Promise<Link> {
  const t = linkTarget(link);
  const ns = Namespace.of(opts?.ns, t?.ns);
  const sel = selector(t);
  const messages = await sendLink(ns, simple(RTM_GETLINK, 0, sel), 'getLink', t.subject);
  const links = linksFrom(messages, ns);
  if (links.length !== 1) throw new NetlinkError(19 /* ENODEV */, 'getLink', { subject: t.subject, kernelMessage: `kernel answered with ${links.length} links` });
  return links[0];
}

/**
 * The index of a link reference: given, or asked of the kernel by name (a
 * direct RTM_GETLINK, never a dump; only the ifinfomsg is read). Errors
 * carry the calling function's name.
 */
export async function indexOf(ref: LinkRef | Target, ns: Namespace, operation: string, arg = 'link'): Promise<number> {
  const t = typeof ref === 'object' && ref !== null && 'subject' in ref ? (ref as Target) : linkTarget(ref, arg);
  return resolveIndex(ns, t, operation);
}

const lookups = new WeakMap<Namespace, Map<string, Promise<number>>>();

/**
 * indexOf for hot paths: synchronous when the index is known (an index or a
 * Link). Lookups by name made in the same synchronous run share one
 * RTM_GETLINK — equivalent to each doing its own, since nothing the caller
 * awaits can run in between — so 1,000 calls naming one interface cost one
 * get. Nothing is cached beyond that run. A missing interface is ENODEV with
 * `operation` and `subject` naming the caller's function and the interface.
 */
export function resolveIndex(ns: Namespace, t: Target, operation: string): number | Promise<number> {
  if (t.index) return t.index;
  const name = t.name!;
  let inFlight = lookups.get(ns);
  if (!inFlight) lookups.set(ns, (inFlight = new Map()));
  let p = inFlight.get(name);
  if (!p) {
    const map = inFlight;
    p = lookupIndex(ns, t);
    map.set(name, p);
    queueMicrotask(() => map.delete(name));
  }
  return p.catch((e: unknown) => {
    if (!(e instanceof NetlinkError)) throw e;
    throw new NetlinkError(e.errno, operation, {
      subject: name,
      kernelMessage: e.code === 'ENODEV' ? `no interface named ${JSON.stringify(name)}` : e.kernelMessage,
    });
  });
}

async function lookupIndex(ns: Namespace, t: Target): Promise<number> {
  const messages = await sendLink(ns, simple(RTM_GETLINK, 0, selector(t)), 'resolve link', t.subject);
  const m = messages.find((x) => x.type === RTM_NEWLINK && x.payload.length >= IFINFOMSG_LEN);
  if (!m) throw new NetlinkError(19 /* ENODEV */, 'resolve link', { subject: t.subject, kernelMessage: 'kernel answered without the link' });
  return m.payload.readInt32LE(4);
}

/** Like getLink, but resolves undefined when there is no such link (ENODEV). `ip link show dev <name>`. */
export async function findLink(link: LinkRef, opts?: GetLinkOptions): Promise<Link | undefined> {
  try {
    return await getLink(link, opts);
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENODEV') return undefined;
    throw e;
  }
}

export interface ListLinksOptions extends NsOption {
  /** Only links of this kind ("veth", "bridge", ...): IFLA_LINKINFO filter in the dump request. */
  kind?: string;
  /** Only ports of this master: IFLA_MASTER filter in the dump request. */
  master?: LinkRef;
}

/**
 * Every link of a namespace, in one dump: `ip link show [type <kind>] [master <dev>]`.
 * The kind and master filters are sent to the kernel (strict-checked dump
 * filtering, so it skips the rest); they are applied here too, since a
 * kernel without that kind's module loaded does not filter by it.
 */
export async function listLinks(opts: ListLinksOptions = {}): Promise<Link[]> {
  const kind = opts.kind === undefined ? undefined : nonEmptyString(opts.kind, 'kind');
  const ns = Namespace.of(opts?.ns);
  let masterIndex: number | undefined;
  if (opts.master !== undefined) {
    masterIndex = await indexOf(linkTarget(opts.master, 'master'), ns, 'listLinks');
  }
  const w = new Writer(64);
  writeLinkDump(w, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, { master: masterIndex, kind });
  const bytes = w.finish();
  // Streamed: parts are decoded while the kernel still dumps the rest.
  return collect(
    (onPart) => ns.route().callStream(bytes, { operation: 'listLinks' }, onPart),
    RTM_NEWLINK,
    (payload) => (payload.length < IFINFOMSG_LEN ? undefined : (decodeLink(payload, ns) as Link)),
    (l): l is Link => l !== undefined && (kind === undefined || l.kind === kind) && (masterIndex === undefined || l.master === masterIndex),
  ) as Promise<Link[]>;
}

/** Narrows a Link to a kind, typing its `info`. */
export function isLinkKind<K extends keyof LinkInfoByKind>(link: Link, kind: K): link is Link<K> {
  return link.kind === kind;
}

/** Removes a link (a veth takes its peer along): `ip link del <name>`. ~16 ms in the kernel (rcu_barrier); prefer deleteLinkGroup for many. */
export async function deleteLink(link: LinkRef, opts?: NsOption): Promise<void> {
  const t = linkTarget(link);
  const sel = selector(t);
  await sendLink(Namespace.of(opts?.ns, t?.ns), simple(RTM_DELLINK, NLM_F_ACK, sel), 'deleteLink', t.subject);
}

function groupArg(group: unknown, arg = 'group'): number {
  validate.uint(group, arg);
  if (group === 0) throw new RangeError(`${arg} 0 is the default group every link starts in; use a group of your own`);
  return group as number;
}

/**
 * Deletes every link in an interface group (IFLA_GROUP) in one RTM_DELLINK:
 * `ip link del group <n>`. The kernel pays its rcu_barrier once for the
 * whole group (~0.3 ms per link instead of ~16 ms each); veth peers go too,
 * wherever they are. Group 0 is refused: every link starts in it. Resolves
 * true, or false when no link was in the group (the kernel's ENODEV).
 */
export async function deleteLinkGroup(group: number, opts?: NsOption): Promise<boolean> {
  groupArg(group);
  try {
    await sendLink(Namespace.of(opts?.ns), simple(RTM_DELLINK, NLM_F_ACK, { attrs: { group } }), 'deleteLinkGroup', `group ${group}`);
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENODEV') return false;
    throw e;
  }
}

/** Everything setLink can change in one request. */
export interface LinkChanges {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** New name (needs the link's index: a name reference costs one lookup first). */
  name?: string;
  /** IFLA_IFALIAS; "" clears it. */
  alias?: string;
  /** Interface group (IFLA_GROUP) for deleteLinkGroup. */
  group?: number;
  /** Enslave to this master (bridge); null releases it. */
  master?: LinkRef | null;
  txqlen?: number;
}

const CHANGE_KEYS = new Set(['up', 'mtu', 'mac', 'name', 'alias', 'group', 'master', 'txqlen']);

/**
 * Changes several properties of a link in one RTM_NEWLINK:
 * `ip link set dev <link> [up|down] [mtu N] [address MAC] [name NEW] [alias TEXT] [group N] [master BR|nomaster] [txqueuelen N]`.
 * The kernel applies them in its own order and stops at the first failure.
 */
export async function setLink(link: LinkRef, changes: LinkChanges, opts?: NsOption, operation = 'setLink'): Promise<void> {
  const t = linkTarget(link);
  if (!changes || typeof changes !== 'object') throw new TypeError('changes must be an object');
  for (const k of Object.keys(changes)) if (!CHANGE_KEYS.has(k)) throw new TypeError(`changes: unknown option ${JSON.stringify(k)} (known: ${[...CHANGE_KEYS].join(', ')})`);
  const attrs: LinkAttrs = {};
  const ifi = { index: t.index, flags: 0, change: 0 };
  if (changes.up !== undefined) {
    if (typeof changes.up !== 'boolean') throw new TypeError('up must be a boolean');
    ifi.change = IFF_UP;
    ifi.flags = changes.up ? IFF_UP : 0;
  }
  if (changes.mtu !== undefined) attrs.mtu = validate.uint(changes.mtu, 'mtu', 0xffffffff, 1);
  if (changes.mac !== undefined) attrs.address = validate.mac(changes.mac);
  if (changes.alias !== undefined) {
    if (typeof changes.alias !== 'string') throw new TypeError('alias must be a string');
    if (Buffer.byteLength(changes.alias) > 255) throw new RangeError('alias is longer than 255 bytes (IFALIASZ - 1)');
    attrs.ifalias = changes.alias;
  }
  if (changes.group !== undefined) attrs.group = validate.uint(changes.group, 'group');
  if (changes.txqlen !== undefined) attrs.txqlen = validate.uint(changes.txqlen, 'txqlen');
  if (changes.name !== undefined) validate.ifname(changes.name, 'name');
  let master: Target | null | undefined;
  if (changes.master !== undefined) master = changes.master === null ? null : linkTarget(changes.master, 'master');
  const ns = Namespace.of(opts?.ns, t?.ns);

  // What the kernel cannot look up by name: the new name needs the index
  // (IFLA_IFNAME would otherwise select the link), the master needs its index.
  const lookups: Promise<void>[] = [];
  if (changes.name !== undefined && !ifi.index) lookups.push(indexOf(t, ns, operation).then((i) => void (ifi.index = i)));
  if (master) lookups.push(indexOf(master, ns, operation).then((i) => void (attrs.master = i)));
  else if (master === null) attrs.master = 0;
  if (lookups.length) await Promise.all(lookups);
  if (changes.name !== undefined) attrs.ifname = changes.name;

  const sel = ifi.index ? { attrs: {} } : selector(t);
  await sendLink(ns, simple(RTM_NEWLINK, NLM_F_ACK, { ifi, attrs: { ...sel.attrs, ...attrs } }), operation, t.subject);
}

/** `ip link set dev <link> up` */
export function setLinkUp(link: LinkRef, opts?: NsOption): Promise<void> {
  return setLink(link, { up: true }, opts, 'setLinkUp');
}

/** `ip link set dev <link> down` */
export function setLinkDown(link: LinkRef, opts?: NsOption): Promise<void> {
  return setLink(link, { up: false }, opts, 'setLinkDown');
}

/** `ip link set dev <link> mtu <mtu>` */
export function setLinkMtu(link: LinkRef, mtu: number, opts?: NsOption): Promise<void> {
  return setLink(link, { mtu }, opts, 'setLinkMtu');
}

/** `ip link set dev <link> address <mac>` */
export function setLinkMac(link: LinkRef, mac: string, opts?: NsOption): Promise<void> {
  return setLink(link, { mac }, opts, 'setLinkMac');
}

/** `ip link set dev <link> name <name>` (the link must be down for most kinds: EBUSY otherwise). */
export function setLinkName(link: LinkRef, name: string, opts?: NsOption): Promise<void> {
  return setLink(link, { name }, opts, 'setLinkName');
}

/** `ip link set dev <link> alias <text>`; "" clears it. */
export function setLinkAlias(link: LinkRef, alias: string, opts?: NsOption): Promise<void> {
  return setLink(link, { alias }, opts, 'setLinkAlias');
}

/** `ip link set dev <link> group <n>` — see deleteLinkGroup. */
export function setLinkGroup(link: LinkRef, group: number, opts?: NsOption): Promise<void> {
  return setLink(link, { group }, opts, 'setLinkGroup');
}

/** `ip link set dev <link> master <master>` / `nomaster` (null). */
export function setLinkMaster(link: LinkRef, master: LinkRef | null, opts?: NsOption): Promise<void> {
  return setLink(link, { master }, opts, 'setLinkMaster');
}

export interface SetNamespaceOptions extends NsOption {
  /** Name to give the link in the target namespace (one request with the move). */
  name?: string;
}

/**
 * Moves a link into another namespace, optionally renaming it there, in one
 * RTM_NEWLINK (IFLA_NET_NS_FD + IFLA_IFNAME): `ip link set dev <link> netns <ns> [name <name>]`.
 * The link goes down on the way and may get a new index in the target.
 * With a new name, a name reference costs one lookup first (the request must
 * select the link by index).
 */
export async function setLinkNamespace(link: LinkRef, target: Namespace, opts: SetNamespaceOptions = {}): Promise<void> {
  const t = linkTarget(link);
  if (!(target instanceof Namespace)) throw new TypeError('target must be a Namespace');
  if (opts.name !== undefined) validate.ifname(opts.name, 'name');
  const ns = Namespace.of(opts?.ns, t?.ns);
  const fd = nsFdOf(target);
  let index = t.index;
  if (opts.name !== undefined && !index) index = await indexOf(t, ns, 'setLinkNamespace');
  const sel = index ? { ifi: { index }, attrs: {} as LinkAttrs } : selector(t);
  const attrs: LinkAttrs = { ...sel.attrs, netNsFd: fd };
  if (opts.name !== undefined) attrs.ifname = opts.name;
  await sendLink(ns, simple(RTM_NEWLINK, NLM_F_ACK, { ifi: sel.ifi, attrs }), 'setLinkNamespace', t.subject);
}

// ---- the create path shared by every link kind ----

/** Options every create function accepts. */
export interface CreateLinkOptions extends NsOption {
  name: string;
  mtu?: number;
  mac?: string;
  /** Bring the link up (IFF_UP in the create request). */
  up?: boolean;
  /** Interface group (IFLA_GROUP), e.g. to delete many links at once with deleteLinkGroup. */
  linkGroup?: number;
  /** Enslave to this master (bridge) in the same request; a name costs one lookup first. */
  master?: LinkRef;
  txqlen?: number;
  /**
   * Transmit and receive queues (IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES,
   * 1..4096; `ip link add … numtxqueues N numrxqueues N`). Fixed at
   * creation. Unset, the kind decides: a veth gets one of each per possible
   * CPU, each with its sysfs objects — on a many-core host most of what a
   * veth costs to create, and used only by XDP and NAPI GRO on the veth.
   */
  txQueues?: number;
  rxQueues?: number;
  /** IFLA_IFALIAS, set right after the create (one more request: the kernel ignores it on create). */
  alias?: string;
}

const COMMON_KEYS = ['name', 'ns', 'mtu', 'mac', 'up', 'linkGroup', 'master', 'txqlen', 'txQueues', 'rxQueues', 'alias'] as const;

/** The most queues of either direction the kernel gives a link (rtnl_create_link). */
export const MAX_LINK_QUEUES = 4096;

/** Refuses keys a create function does not know. */
export function checkKeys(opts: object, own: readonly string[], fn: string): void {
  if (!opts || typeof opts !== 'object') throw new TypeError(`${fn}: options must be an object`);
  validate.options(opts, [...COMMON_KEYS, ...own], fn);
}

export interface CommonCreate {
  ifi: { index: number; flags: number; change: number };
  attrs: LinkAttrs;
  /** A master given by name, to resolve before sending. */
  masterName?: string;
  alias?: string;
}

/** Validates the common options into ifinfomsg flags and attributes. */
export function commonCreate(opts: CreateLinkOptions): CommonCreate {
  validate.ifname(opts.name, 'name');
  const attrs: LinkAttrs = { ifname: opts.name };
  if (opts.mtu !== undefined) attrs.mtu = validate.uint(opts.mtu, 'mtu', 0xffffffff, 1);
  if (opts.mac !== undefined) attrs.address = validate.mac(opts.mac);
  if (opts.txqlen !== undefined) attrs.txqlen = validate.uint(opts.txqlen, 'txqlen');
  if (opts.txQueues !== undefined) attrs.numTxQueues = validate.uint(opts.txQueues, 'txQueues', MAX_LINK_QUEUES, 1);
  if (opts.rxQueues !== undefined) attrs.numRxQueues = validate.uint(opts.rxQueues, 'rxQueues', MAX_LINK_QUEUES, 1);
  if (opts.linkGroup !== undefined) attrs.group = groupArg(opts.linkGroup, 'linkGroup');
  if (opts.up !== undefined && typeof opts.up !== 'boolean') throw new TypeError('up must be a boolean');
  if (opts.ns !== undefined && !(opts.ns instanceof Namespace)) throw new TypeError('ns must be a Namespace');
  let alias: string | undefined;
  if (opts.alias !== undefined) {
    if (typeof opts.alias !== 'string') throw new TypeError('alias must be a string');
    if (Buffer.byteLength(opts.alias) > 255) throw new RangeError('alias is longer than 255 bytes (IFALIASZ - 1)');
    alias = opts.alias;
  }
  let masterName: string | undefined;
  if (opts.master !== undefined) {
    const m = linkTarget(opts.master, 'master');
    if (m.index) attrs.master = m.index;
    else masterName = m.name;
  }
  const up = opts.up ? IFF_UP : 0;
  return { ifi: { index: 0, flags: up, change: up }, attrs, masterName, alias };
}

/**
 * Maps the kernel's refusal of an unknown kind (EOPNOTSUPP with the extended
 * ack "Unknown device type") to an error saying the kind is missing. Other
 * EOPNOTSUPPs (an option the kind does not support, e.g. bridge vlan
 * filtering compiled out) pass through unchanged.
 */
export function kindError(e: unknown, kind: string, operation: string, subject: string): unknown {
  if (e instanceof NetlinkError && e.code === 'EOPNOTSUPP' && e.kernelMessage && /unknown device type/i.test(e.kernelMessage)) {
    return new NetlinkError(e.errno, operation, {
      subject,
      kernelMessage: `${e.kernelMessage}: this kernel lacks the "${kind}" link kind (not built, or its module cannot be loaded)`,
    });
  }
  return e;
}

export interface CreateRequest {
  /** Namespace whose socket sends the request (where IFLA_LINK parents are looked up). */
  ns: Namespace;
  /** Namespace the link is born in, when not ns (IFLA_NET_NS_FD in the create request). */
  into?: Namespace;
  operation: string;
  subject: string;
  req: LinkRequest & { ifi: CommonCreate['ifi']; attrs: LinkAttrs };
  /** A master given by name: resolved in the namespace the link is born in. */
  masterName?: string;
  alias?: string;
  /** Steps after the create (e.g. bring the veth peer up); if one fails the link is deleted again. */
  after?: (link: Link) => Promise<void>;
}

const CREATE_FLAGS = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO;

/**
 * A per-kind create function's request, from its checked common options:
 * the kind and its info, the master to resolve, the alias to set after.
 */
export function kindRequest(common: CommonCreate, name: string, kind: string, info: object | undefined, operation: string): Omit<CreateRequest, 'ns'> {
  return { operation, subject: name, req: { ifi: common.ifi, attrs: common.attrs, kind, info }, masterName: common.masterName, alias: common.alias };
}

/**
 * Sends one RTM_NEWLINK create (NLM_F_CREATE|NLM_F_EXCL, and NLM_F_ECHO so
 * the kernel answers with the new link) and returns the Link as created.
 * When the kernel does not echo (before 6.3, or the link was born in another
 * namespace than the socket's) it is read back by name. Follow-up steps
 * (alias: the kernel ignores IFLA_IFALIAS on create; `after`) run by index,
 * concurrently; if one fails the link is deleted and the error rethrown.
 */
export async function createLinkRequest(c: CreateRequest): Promise<Link> {
  const { ns, operation, subject, req } = c;
  const into = c.into && c.into !== ns ? c.into : undefined;
  const home = into ?? ns;
  if (c.masterName !== undefined) req.attrs.master = await indexOf(c.masterName, home, operation, 'master');
  if (into) req.attrs.netNsFd = nsFdOf(into);
  const w = new Writer(256);
  writeLinkMessage(w, RTM_NEWLINK, CREATE_FLAGS, req);
  let messages: Message[];
  try {
    messages = await sendLink(ns, w, operation, subject);
  } catch (e) {
    throw req.kind ? kindError(e, req.kind, operation, subject) : e;
  }
  const name = req.attrs.ifname!;
  let link = into ? undefined : linksFrom(messages, ns).find((l) => l.name === name);
  link ??= await getLink(name, { ns: home });
  if (c.alias !== undefined || c.after) await finishCreate(link, home, c.alias, c.after);
  return link;
}

/** Runs the follow-up steps of a create; on failure deletes the link (by index) and rethrows. */
async function finishCreate(link: Link, home: Namespace, alias?: string, after?: (link: Link) => Promise<void>): Promise<void> {
  const steps: Promise<void>[] = [];
  if (alias !== undefined) steps.push(setLink(link.index, { alias }, { ns: home }, 'setLinkAlias'));
  if (after) steps.push(after(link));
  if (!steps.length) return;
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await deleteLink(link.index, { ns: home }).catch(() => {});
    throw failed.reason;
  }
  if (alias !== undefined) (link as LinkMessage).alias = alias;
}

export interface StackedCreate extends Omit<CreateRequest, 'ns' | 'into'> {
  /** Where the parent lives; the request goes through this namespace's socket. */
  parentNs: Namespace;
  /** Where the link should end up (default parentNs). */
  ns: Namespace;
  parent: LinkRef;
}

/**
 * Creates a link stacked on a parent (macvlan, ipvlan, vlan, ...), born
 * directly in its target namespace: IFLA_LINK = the parent's index (looked up
 * in parentNs if given by name), IFLA_NET_NS_FD = the target. On 6.18 the
 * kernel checks the name only in the target, so `eth0` there does not clash
 * with an `eth0` beside the parent. A kernel that still answers EEXIST while
 * the target has no such name clashed in the parent's namespace: then the
 * link is made under a temporary name and moved + renamed in one request.
 */
export async function createStackedLink(c: StackedCreate): Promise<Link> {
  c.req.attrs.link = await indexOf(c.parent, c.parentNs, c.operation, 'parent');
  const into = c.ns === c.parentNs ? undefined : c.ns;
  try {
    return await createLinkRequest({ ...c, ns: c.parentNs, into });
  } catch (e) {
    if (!(into && e instanceof NetlinkError && e.code === 'EEXIST')) throw e;
    if (await findLink(c.req.attrs.ifname!, { ns: into })) throw e;
    return createInParentThenMove({ ...c, ns: c.parentNs, into });
  }
}

/** The namespace of a stacked link's parent: explicit, else the parent Link's, else the current one. */
export function stackNs(parentNs: unknown, fromLink: Namespace | undefined): Namespace {
  if (parentNs !== undefined && !(parentNs instanceof Namespace)) throw new TypeError('parentNs must be a Namespace');
  return (parentNs as Namespace | undefined) ?? fromLink ?? Namespace.current();
}

/**
 * A stacked link of `kind` from its create function's options (`parent`,
 * `parentNs`, `ns` and the common ones, checked into `common`): what
 * createMacvlan, createIpvlan and createVlan share.
 */
export function createStackedKind(
  opts: CreateLinkOptions & { parent: LinkRef; parentNs?: unknown },
  common: CommonCreate,
  kind: string,
  info: Record<string, unknown>,
  operation: string,
): Promise<Link> {
  const parentNs = stackNs(opts.parentNs, linkTarget(opts.parent, 'parent').ns);
  return createStackedLink({ parentNs, ns: opts.ns ?? parentNs, parent: opts.parent, ...kindRequest(common, opts.name, kind, info, operation) });
}

/**
 * The two-step path: create under a temporary unique name beside the parent,
 * then move into the target and rename there in one RTM_NEWLINK
 * (IFLA_NET_NS_FD + IFLA_IFNAME, selected by index). Nothing is left behind
 * if the move fails. Up, master and alias are applied in the target after the move.
 */
export async function createInParentThenMove(c: CreateRequest & { into: Namespace }): Promise<Link> {
  const { ns, into, operation, subject, req } = c;
  const finalName = req.attrs.ifname!;
  const up = (req.ifi.flags & IFF_UP) !== 0;
  const temp = `nwt${process.pid.toString(36)}${(tempCounter++).toString(36)}`.slice(0, 15);
  const first = { ...req, ifi: { ...req.ifi, flags: 0, change: 0 }, attrs: { ...req.attrs, ifname: temp } };
  delete first.attrs.master;
  delete first.attrs.netNsFd;
  const tmp = await createLinkRequest({ ns, operation, subject, req: first });
  try {
    const w = new Writer(64);
    writeLinkMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { ifi: { index: tmp.index }, attrs: { netNsFd: nsFdOf(into), ifname: finalName } });
    await sendLink(ns, w, operation, subject);
  } catch (e) {
    // The kernel moves before it renames: a failed rename leaves the link in
    // the target under its temporary name. Delete it wherever it is.
    await Promise.all([deleteLink(temp, { ns }).catch(() => {}), deleteLink(temp, { ns: into }).catch(() => {})]);
    throw e;
  }
  const link = await getLink(finalName, { ns: into });
  const master = c.masterName ?? req.attrs.master;
  const changes: LinkChanges = {};
  if (up) changes.up = true;
  if (master !== undefined) changes.master = master;
  const after = async (l: Link): Promise<void> => {
    if (Object.keys(changes).length) await setLink(l.index, changes, { ns: into }, operation);
    if (c.after) await c.after(l);
  };
  await finishCreate(link, into, c.alias, after);
  if (up || master !== undefined) return getLink(link.index, { ns: into });
  return link;
}

let tempCounter = 0;

export interface GenericCreateOptions extends CreateLinkOptions {
  /** IFLA_INFO_KIND, e.g. "ifb", "macvtap". */
  kind: string;
  /** IFLA_INFO_DATA through the kind's attribute table (keys as in link-kinds/<kind>); unknown keys are refused. */
  info?: object;
  /** Parent link (IFLA_LINK) for kinds stacked on another (macvtap, ...). */
  parent?: LinkRef;
}

/**
 * Creates a link of any kind the kernel knows: `ip link add <name> type <kind> ...`.
 * The per-kind functions (createVethPair, createBridge, ...) are typed
 * front-ends to this.
 */
export async function createLink(opts: GenericCreateOptions): Promise<Link> {
  checkKeys(opts, ['kind', 'info', 'parent'], 'createLink');
  const kind = nonEmptyString(opts.kind, 'kind');
  const common = commonCreate(opts);
  const ns = Namespace.of(opts?.ns);
  if (opts.info !== undefined && (typeof opts.info !== 'object' || opts.info === null)) throw new TypeError('info must be an object');
  if (opts.parent !== undefined) {
    const parent = linkTarget(opts.parent, 'parent');
    common.attrs.link = await indexOf(parent, ns, 'createLink');
  }
  return createLinkRequest({ ns, ...kindRequest(common, opts.name, kind, opts.info, 'createLink') });
}

function nonEmptyString(v: unknown, arg: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${arg} must be a non-empty string`);
  return v;
}
