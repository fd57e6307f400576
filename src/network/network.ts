// A Docker-style network: connect namespaces to it, publish their ports,
// inspect what the kernel really has. Made by createNetwork / found by
// loadNetworks (index.ts); the kernel objects are its driver's.
import { publishPorts, unpublishPort, type PublishedPort } from '../firewall/index.js';
import { withoutPolling } from '../engine.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { containerResolvConf, hostNameservers } from './dns.js';
import type { ConnectRequest, EndpointState, NetworkDriver, NetworkRecord } from './drivers/types.js';
import { argRange, argType, NetworkError } from './errors.js';
import { AddressPool, canonicalIp } from './ipam.js';
import { dropNamespace, namespaceId, newNamespace, type NewNamespace } from './kernel.js';
import type { NetworkManager } from './manager.js';
import { parsePortSpec, type PortMapping } from './portspec.js';
import type { Snapshot, Tagged } from './state.js';
import { decodeTag, encodeTag, endpointLinkNames, firewallTags, groupOf, macFromIp, randomId, type EndpointTag, type NetworkTag } from './tags.js';
import { listLinks } from '../link.js';

/** Where to connect: a Namespace, a process id (its namespace), or a /run/netns name. */
export type ConnectTarget = Namespace | number | { pid: number } | string;

export interface ConnectOptions {
  /** A static address in the subnet (`docker network connect --ip`); default: the lowest free one. */
  ip?: string;
  /** The container end's MAC (`--mac-address`); default 02:42 + the IPv4 address, as Docker did. */
  mac?: string;
  /** More names the container answers to on this network (`--alias`). */
  aliases?: string[];
  /** The container's name on this network (its DNS name); default the endpoint id's first 12 digits. */
  name?: string;
  /** The interface inside the namespace; default eth0, eth1 … by the order of connects from this process. */
  interfaceName?: string;
  /** Bring lo up in the namespace, as Docker does (default true; the embedded DNS needs it). */
  loopback?: boolean;
  /**
   * Serve the embedded DNS inside the namespace from this process (default
   * true on user-defined networks). The names are published either way; a
   * short-lived process (the CLI) passes false and leaves serving to the
   * long-lived one (loadNetworks({ dns: true })).
   */
  dns?: boolean;
}

const CONNECT_KEYS = new Set(['ip', 'mac', 'aliases', 'name', 'interfaceName', 'loopback', 'dns']);

interface CheckedConnect {
  ip?: string;
  mac?: string;
  aliases: string[];
  name?: string;
  ifname?: string;
  loopback: boolean;
  serveDns: boolean;
}

/**
 * A namespace's membership of a network, as `docker network inspect`
 * lists it. `ns` (not enumerable) is the namespace, when this process has a
 * handle on it.
 */
export interface Endpoint {
  readonly id: string;
  /** Its DNS name on the network. */
  readonly name: string;
  readonly network: string;
  readonly networkId: string;
  readonly driver: string;
  /** The interface inside the namespace (eth0). */
  readonly interface?: string;
  /** The host end of its veth. */
  readonly hostInterface?: string;
  readonly ip?: string;
  readonly prefixLength?: number;
  /** "172.18.0.2/16" */
  readonly address?: string;
  readonly mac?: string;
  readonly gateway?: string;
  /** Whether connect gave the namespace its default route (the first network of a namespace does). */
  readonly defaultRoute: boolean;
  readonly aliases: readonly string[];
  /** The /etc/resolv.conf the runtime should give the container. */
  readonly resolvConf: string;
  /** Ports published to it, as the firewall has them. */
  readonly ports: readonly PublishedPort[];
  readonly ns?: Namespace;
}

export interface EndpointInspect extends Omit<Endpoint, 'ns'> {
  healthy: boolean;
  /** What the kernel lacks of what connect made (empty when healthy). */
  problems: string[];
}

export interface IncompleteEndpoint {
  /** The link left behind (host end, or the link inside the container). */
  link: string;
  ip?: string;
  name?: string;
  reason: string;
}

/** `docker network inspect`, checked against the kernel. */
export interface NetworkInspect {
  name: string;
  id: string;
  driver: string;
  scope: 'local';
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal: boolean;
  /** The default network (`bridge`): no DNS, like Docker's. */
  default: boolean;
  /** The embedded DNS serves this network's names. */
  dns: boolean;
  options: Record<string, string>;
  /** The network's own link (bridge, or a macvlan/ipvlan network's anchor). */
  interface?: string;
  /** The interface group its endpoints are in (`ip link del group N` removes them all). */
  linkGroup?: number;
  healthy: boolean;
  problems: string[];
  endpoints: EndpointInspect[];
  /** Half-made endpoints (a connect that did not finish); pruneNetworks() removes them. */
  incomplete: IncompleteEndpoint[];
  ports: PublishedPort[];
  /** Driver facts (overlay: vxlan device and peers). */
  details?: Record<string, unknown>;
}

/** The endpoint the layer keeps: the driver's state and the public view. */
type EndpointView = Endpoint & { ports: PublishedPort[] };

export interface EndpointRecord {
  state: EndpointState;
  view: EndpointView;
  /** Identity of the namespace ("dev:ino"), when known. */
  key?: string;
  /** The manager's clock when it was made (refresh drops only what it could have seen). */
  born: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkDnsName(v: unknown, arg: string): string {
  if (typeof v !== 'string' || !NAME_RE.test(v) || v.length > 63) {
    throw argType(`${arg} must be a name of letters, digits, '_', '.' and '-' (at most 63, starting with a letter or digit), got ${JSON.stringify(v)}`);
  }
  return v;
}

export function nsKey(ns: Namespace): string {
  return ns.identity().join(':');
}

export class Network {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ipRange?: string;
  readonly internal: boolean;
  /** The default network (`bridge`). */
  readonly isDefault: boolean;
  readonly options: Readonly<Record<string, string>>;
  declare readonly ns: Namespace;

  /** @internal */ readonly rec: NetworkRecord;
  /** @internal */ readonly impl: NetworkDriver;
  /** @internal */ readonly manager: NetworkManager;
  /** @internal */ readonly eps = new Map<string, EndpointRecord>();
  /** @internal Addresses handed out to connects still running. */ readonly inflightIps = new Set<string>();
  /** @internal Endpoint ids of connects still running. */ readonly inflightIds = new Set<string>();
  /** @internal Namespaces being connected. */ private readonly connecting = new Set<string>();
  /** @internal Names claimed by connects still running (lowercase). */ private readonly connectingNames = new Set<string>();
  /** @internal Endpoints by namespace identity. */ private readonly byKey = new Map<string, EndpointRecord>();
  /** @internal Endpoints by name and alias (lowercase). */ private readonly names = new Map<string, EndpointRecord>();
  /** @internal The key each record is filed under. */ private readonly indexed = new Map<EndpointRecord, string | undefined>();
  /** @internal Endpoints known only by namespace id. */ private unkeyed = 0;
  /** @internal */ removing = false;
  /** @internal */ born: number;

  /** @internal */
  constructor(manager: NetworkManager, impl: NetworkDriver, tag: NetworkTag, slot: number, born: number) {
    this.manager = manager;
    this.impl = impl;
    this.id = tag.id;
    this.name = tag.name;
    this.driver = tag.driver;
    if (tag.subnet !== undefined) this.subnet = tag.subnet;
    if (tag.gateway !== undefined) this.gateway = tag.gateway;
    if (tag.ipRange !== undefined) this.ipRange = tag.ipRange;
    this.internal = tag.internal;
    this.isDefault = tag.isDefault;
    this.options = Object.freeze({ ...tag.options });
    this.born = born;
    Object.defineProperty(this, 'ns', { value: manager.ns, enumerable: false });
    for (const k of ['rec', 'impl', 'manager', 'eps', 'inflightIps', 'inflightIds', 'connecting', 'connectingNames', 'byKey', 'names', 'indexed', 'unkeyed', 'removing', 'born']) {
      Object.defineProperty(this, k, { enumerable: false });
    }
    const pool = tag.subnet !== undefined ? newPool(tag) : undefined;
    this.rec = {
      id: tag.id,
      name: tag.name,
      driver: tag.driver,
      ...(tag.subnet !== undefined ? { subnet: tag.subnet, prefixLength: Number(tag.subnet.split('/')[1]) } : {}),
      ...(tag.gateway !== undefined ? { gateway: tag.gateway } : {}),
      ...(tag.ipRange !== undefined ? { ipRange: tag.ipRange } : {}),
      internal: tag.internal,
      isDefault: tag.isDefault,
      options: { ...tag.options },
      ns: manager.ns,
      slot,
      ...(pool ? { pool } : {}),
    };
    Object.defineProperty(this, 'rec', { enumerable: false });
  }

  /** The network's own interface (bridge, or a macvlan/ipvlan network's anchor). */
  get interface(): string | undefined {
    return this.rec.link?.name;
  }

  /** Whether the embedded DNS serves this network (user-defined networks of drivers with DNS). */
  get dns(): boolean {
    return this.impl.features.dns && !this.isDefault;
  }

  /** The endpoints this process knows (call inspect() or loadNetworks() to re-read the kernel). */
  get endpoints(): Endpoint[] {
    return [...this.eps.values()].map((r) => r.view);
  }

  /** An endpoint by id, id prefix (≥ 4 digits) or name. */
  endpoint(ref: string | Endpoint): Endpoint | undefined {
    return this.recordOf(ref)?.view;
  }

  /** @internal */
  recordOf(ref: string | Endpoint): EndpointRecord | undefined {
    if (typeof ref === 'object' && ref !== null) return this.eps.get(ref.id);
    if (typeof ref !== 'string') return undefined;
    const byId = this.eps.get(ref);
    if (byId) return byId;
    for (const r of this.eps.values()) if (r.view.name === ref) return r;
    if (/^[0-9a-f]{4,}$/.test(ref)) {
      const m = [...this.eps.values()].filter((r) => r.view.id.startsWith(ref));
      if (m.length === 1) return m[0];
    }
    return undefined;
  }

  /**
   * Connects a namespace: `docker network connect [--ip IP] [--alias A] NET CONTAINER`.
   * For bridge networks: a veth pair with its container end born inside
   * the namespace under its final name, the host end on the bridge and up,
   * and inside: the interface up, lo up, the address, the default route (if
   * the namespace has none yet) — three requests, each one message batch.
   * The endpoint's tag is written last: a connect cut short leaves only what
   * inspect reports as incomplete and pruneNetworks() removes. On user-defined
   * networks the namespace then resolves the others' names at 127.0.0.11.
   *
   * Refusals (before anything is made): the namespace is already on the
   * network, or the name is taken (NetworkError EEXIST); the address is
   * taken or outside the subnet, or none is left (IpamError EADDRINUSE /
   * EADDRNOTAVAIL).
   */
  async connect(target?: ConnectTarget, opts: ConnectOptions = {}): Promise<Endpoint> {
    const o = this.connectOptions(opts, 'connect');
    const { ns, owned, pid } = this.resolveTarget(target);
    try {
      return await withoutPolling(() => this.connectNs(ns, owned, pid, o));
    } catch (e) {
      if (owned) ns.close();
      throw e;
    }
  }

  /**
   * Creates a network namespace for a container and connects it: what
   * `Namespace.create()` then `connect(ns, opts)` do, but for a bridge
   * network in one pass of the engine thread (the namespace, the veth with
   * its peer born inside, the configuration inside and the tag). The
   * endpoint's `ns` is the new namespace: yours to keep, close or delete;
   * nothing is left behind when this fails.
   */
  async connectNew(opts: ConnectOptions = {}): Promise<Endpoint> {
    const o = this.connectOptions(opts, 'connectNew');
    if (!this.impl.connectNew) {
      const ns = await Namespace.create();
      try {
        return await withoutPolling(() => this.connectNs(ns, false, undefined, o));
      } catch (e) {
        ns.close();
        throw e;
      }
    }
    return withoutPolling(() => this.connectFresh(o));
  }

  private connectOptions(opts: ConnectOptions, operation: string): CheckedConnect {
    if (typeof opts !== 'object' || opts === null) throw argType(`${operation}: options must be an object`);
    for (const k of Object.keys(opts)) if (!CONNECT_KEYS.has(k)) throw argType(`${operation}: unknown option ${JSON.stringify(k)} (known: ${[...CONNECT_KEYS].join(', ')})`);
    const aliases = opts.aliases === undefined ? [] : checkAliases(opts.aliases);
    const name = opts.name === undefined ? undefined : checkDnsName(opts.name, 'name');
    const ifname = opts.interfaceName === undefined ? undefined : validate.ifname(opts.interfaceName, 'interfaceName');
    const mac = opts.mac === undefined ? undefined : validate.mac(opts.mac, 'mac');
    if (mac !== undefined && (parseInt(mac.slice(0, 2), 16) & 1) === 1) throw argType(`mac ${mac} is a multicast address`);
    if (opts.loopback !== undefined && typeof opts.loopback !== 'boolean') throw argType('loopback must be a boolean');
    if (opts.dns !== undefined && typeof opts.dns !== 'boolean') throw argType('dns must be a boolean');
    const ip = opts.ip === undefined ? undefined : canonicalIp(validate.ip(opts.ip, 'ip'), 'ip');
    if (ip !== undefined && !this.impl.features.ipam) throw new NetworkError('EOPNOTSUPP', operation, `the ${this.driver} network has no addresses to choose from`, { network: this.name });
    return { ip, mac, aliases, name, ifname, loopback: opts.loopback ?? true, serveDns: opts.dns ?? true };
  }

  private checkUsable(operation: string): void {
    if (this.manager.isClosed) throw new NetworkError('EINVAL', operation, `this handle on network ${this.name} is from before closeNetworks(): get it again (loadNetworks, getNetwork)`, { network: this.name });
    if (this.removing || !this.manager.networks.has(this.id)) throw new NetworkError('ENOENT', operation, `network ${this.name} was removed`, { network: this.name });
  }

  /** Checks the endpoint's names and holds them while it connects (the caller lets go of the returned list). */
  private claimNames(epName: string, aliases: readonly string[], operation: string): string[] {
    for (const n of [epName, ...aliases]) {
      const other = this.names.get(n.toLowerCase());
      if (other || this.connectingNames.has(n.toLowerCase())) {
        throw new NetworkError('EEXIST', operation, `the name ${n} is already used on network ${this.name}${other ? ` (by endpoint ${other.view.name})` : ''}`, { network: this.name });
      }
    }
    const claimed = [epName, ...aliases].map((n) => n.toLowerCase());
    for (const n of claimed) this.connectingNames.add(n);
    return claimed;
  }

  private resolveTarget(target: ConnectTarget | undefined): { ns: Namespace; owned: boolean; pid?: number } {
    if (target === undefined) {
      if (this.driver !== 'host') throw argType(`connect: a namespace is required (a Namespace, a pid or a /run/netns name) for a ${this.driver} network`);
      return { ns: this.ns, owned: false };
    }
    if (target instanceof Namespace) return { ns: target, owned: false };
    if (typeof target === 'number' || (typeof target === 'object' && target !== null && 'pid' in target)) {
      const pid = typeof target === 'number' ? target : target.pid;
      if (!Number.isInteger(pid) || pid <= 0) throw argType('connect: pid must be a positive integer');
      return { ns: Namespace.open({ pid }), owned: true, pid };
    }
    if (typeof target === 'string') return { ns: Namespace.open(target), owned: true };
    throw argType('connect: target must be a Namespace, a pid, { pid } or a /run/netns name');
  }

  private async connectNs(ns: Namespace, owned: boolean, pid: number | undefined, o: CheckedConnect): Promise<Endpoint> {
    const operation = 'connect';
    this.checkUsable(operation);
    // The container's netlink socket opens on the engine thread while the checks below run.
    if (!this.impl.features.predefined) ns.route();
    const key = nsKey(ns);
    // The host network's containers all share the host's namespace: one endpoint each, not one per namespace.
    if (this.driver !== 'host' && (this.connecting.has(key) || this.byKey.has(key))) {
      throw new NetworkError('EEXIST', operation, `this namespace is already connected to network ${this.name}`, { network: this.name });
    }
    const id = randomId();
    const epName = o.name ?? id.slice(0, 12);
    const inNs = this.manager.endpointsIn(key);
    // Docker's rules for the predefined networks: none is a namespace's only network; the host network is the host's namespace.
    if (this.driver === 'none' && inNs.length) throw new NetworkError('EINVAL', operation, 'a namespace on the none network has no other network: disconnect the others first', { network: this.name });
    if (inNs.some((r) => r.view.driver === 'none')) throw new NetworkError('EINVAL', operation, 'this namespace is on the none network, which excludes any other: disconnect it first', { network: this.name });
    if (this.driver !== 'host' && ns.equals(this.ns)) throw new NetworkError('EINVAL', operation, `the host namespace cannot join its own ${this.driver} network`, { network: this.name });
    const ifname = o.ifname ?? `eth${inNs.filter((r) => r.view.interface !== undefined).length}`;
    const defaultRoute = !this.internal && inNs.every((r) => !r.state.defaultRoute);
    const claimed = this.claimNames(epName, o.aliases, operation);
    this.connecting.add(key);
    let ip: string | undefined;
    try {
      // Loaded endpoints whose namespace this process has no handle on are known by namespace id only.
      if (this.unkeyed > 0) {
        const nsid = await namespaceId(this.ns, ns, operation);
        if (nsid !== undefined && [...this.eps.values()].some((r) => r.state.netnsId === nsid)) {
          throw new NetworkError('EEXIST', operation, `this namespace is already connected to network ${this.name}`, { network: this.name });
        }
      }
      if (this.impl.features.ipam) {
        ip = this.rec.pool!.allocate(o.ip);
        this.inflightIps.add(ip);
      }
      const req: ConnectRequest = { ...this.connectRequest(id, epName, ifname, ip, defaultRoute, o, operation, ns.name !== undefined ? { nsName: ns.name } : { pid }), ns };
      const { tag } = req;
      this.inflightIds.add(id);
      // The driver's kernel work is under way once connect() returns its
      // promise (the chain is submitted synchronously): the endpoint's view
      // is built meanwhile, on a state the driver's result is copied into.
      const state: EndpointState = { tag, ns, ownsNs: owned, defaultRoute };
      let view: EndpointView;
      try {
        const made = this.impl.connect(this.rec, req);
        view = this.view(state, []);
        Object.assign(state, await made, { ownsNs: owned });
      } finally {
        this.inflightIds.delete(id);
      }
      const rec = await this.addEndpoint(state, key, view, o.serveDns, operation);
      // A handle this process opened would keep the namespace — and the endpoint — alive after
      // the container is gone: let go of it unless DNS is served there (whose sockets hold it
      // anyway). The tag says how to open it again.
      if (owned && !this.manager.servesDnsIn(key)) {
        ns.close();
        state.ns = undefined;
        state.ownsNs = false;
      }
      return rec.view;
    } catch (e) {
      if (ip !== undefined && !this.eps.has(id)) this.rec.pool!.release(ip);
      throw e;
    } finally {
      if (ip !== undefined) this.inflightIps.delete(ip);
      this.connecting.delete(key);
      for (const n of claimed) this.connectingNames.delete(n);
    }
  }

  /**
   * connectNew through the driver's connectNew: the namespace does not exist
   * until the chain ran, and a fresh one has nothing on it — no endpoint of
   * this or any network, no default route, eth0 free — so the checks that
   * look at it are not needed.
   */
  private async connectFresh(o: CheckedConnect): Promise<Endpoint> {
    const operation = 'connectNew';
    this.checkUsable(operation);
    const id = randomId();
    const epName = o.name ?? id.slice(0, 12);
    const claimed = this.claimNames(epName, o.aliases, operation);
    let ip: string | undefined;
    let fresh: NewNamespace | undefined;
    let ns: Namespace | undefined;
    try {
      if (this.impl.features.ipam) {
        ip = this.rec.pool!.allocate(o.ip);
        this.inflightIps.add(ip);
      }
      const base = this.connectRequest(id, epName, o.ifname ?? 'eth0', ip, !this.internal, o, operation, {});
      // Every check that can refuse is done: the namespace is made on the
      // engine thread while the driver writes the rest of the connect.
      fresh = newNamespace(operation);
      const req = { ...base, fresh };
      const { tag } = req;
      this.inflightIds.add(id);
      const state: EndpointState = { tag, ownsNs: false, defaultRoute: req.defaultRoute };
      let view: EndpointView;
      try {
        const made = this.impl.connectNew!(this.rec, req);
        view = this.view(state, []);
        const { nsFd, nsIdentity, ...got } = await made;
        ns = Namespace.adopt(nsFd, fresh.sock, nsIdentity);
        Object.assign(state, got, { ns, ownsNs: false });
      } finally {
        this.inflightIds.delete(id);
      }
      return (await this.addEndpoint(state, nsKey(ns), view, o.serveDns, operation)).view;
    } catch (e) {
      if (!this.eps.has(id)) {
        if (ip !== undefined) this.rec.pool!.release(ip);
        // The namespace: nothing of the container is kept. A chain the
        // driver ended, it cleaned up after; one it did not reach is ended here.
        if (ns) ns.close();
        else if (fresh && !fresh.chain.isEnded) await dropNamespace(fresh);
      }
      throw e;
    } finally {
      if (ip !== undefined) this.inflightIps.delete(ip);
      for (const n of claimed) this.connectingNames.delete(n);
    }
  }

  /**
   * What the driver is asked to connect, but the namespace: the endpoint's
   * tag (where the container's namespace is found again: its name or pid)
   * and its encoding, refused here if it would not fit, before anything is made.
   */
  private connectRequest(
    id: string,
    name: string,
    ifname: string,
    ip: string | undefined,
    defaultRoute: boolean,
    o: CheckedConnect,
    operation: string,
    where: { nsName?: string; pid?: number },
  ): Omit<ConnectRequest, 'ns'> {
    const tag: EndpointTag = { kind: 'e', id, network: this.id, name, aliases: o.aliases, ifname, ...(ip !== undefined ? { ip } : {}) };
    if (where.nsName !== undefined) tag.nsName = where.nsName;
    else if (where.pid !== undefined) tag.pid = where.pid;
    if (o.mac !== undefined && (ip === undefined || o.mac !== macFromIp(ip))) tag.mac = o.mac;
    const tagText = encodeTag(tag, operation);
    return { operation, tag, tagText, ifname, loopback: o.loopback, defaultRoute, ...(ip !== undefined ? { ip } : {}), ...(o.mac ? { mac: o.mac } : {}) };
  }

  /** Files a connected endpoint and gives it its DNS names; a failure there undoes the endpoint. */
  private async addEndpoint(state: EndpointState, key: string | undefined, view: EndpointView, serveDns: boolean, operation: string): Promise<EndpointRecord> {
    const rec = this.addRecord(state, key, [], this.refreshView(view, state));
    if (this.dns) {
      try {
        await this.manager.dnsJoin(this, rec, serveDns);
      } catch (e) {
        this.forget(rec);
        await this.impl.disconnect(this.rec, [state], { operation, all: false }).catch(() => {});
        throw e;
      }
    }
    return rec;
  }

  /** @internal Registers an endpoint (made here or found in the kernel). */
  addRecord(state: EndpointState, key: string | undefined, ports: PublishedPort[] = [], view = this.view(state, ports)): EndpointRecord {
    const rec: EndpointRecord = { state, view, born: this.manager.tick(), ...(key !== undefined ? { key } : {}) };
    this.eps.set(state.tag.id, rec);
    this.index(rec);
    return rec;
  }

  /** @internal Files a record under its namespace and names (call again after its key changes). */
  index(rec: EndpointRecord): void {
    this.unindex(rec);
    if (rec.key !== undefined) {
      if (this.driver !== 'host') this.byKey.set(rec.key, rec);
      this.manager.indexEndpoint(rec);
    } else if (rec.state.netnsId !== undefined) this.unkeyed++;
    for (const n of [rec.view.name, ...rec.view.aliases]) this.names.set(n.toLowerCase(), rec);
    this.indexed.set(rec, rec.key);
  }

  private unindex(rec: EndpointRecord): void {
    if (!this.indexed.has(rec)) return;
    const key = this.indexed.get(rec);
    this.indexed.delete(rec);
    if (key !== undefined) {
      if (this.byKey.get(key) === rec) this.byKey.delete(key);
      this.manager.unindexEndpoint(rec, key);
    } else if (rec.state.netnsId !== undefined) this.unkeyed--;
    for (const n of [rec.view.name, ...rec.view.aliases]) if (this.names.get(n.toLowerCase()) === rec) this.names.delete(n.toLowerCase());
  }

  private view(s: EndpointState, ports: PublishedPort[]): EndpointView {
    const t = s.tag;
    const ip = t.ip;
    const v: EndpointView = {
      id: t.id,
      name: t.name,
      network: this.name,
      networkId: this.id,
      driver: this.driver,
      ...this.impl.describe(this.rec, s),
      ...(ip !== undefined ? { ip } : {}),
      ...(ip !== undefined && this.rec.prefixLength !== undefined ? { prefixLength: this.rec.prefixLength, address: `${ip}/${this.rec.prefixLength}` } : {}),
      ...((s.gateway ?? this.gateway) !== undefined && !this.internal ? { gateway: s.gateway ?? this.gateway } : {}),
      defaultRoute: s.defaultRoute,
      aliases: [...t.aliases],
      resolvConf: this.dns ? embeddedResolvConf() : hostResolvConf(),
      ports,
    };
    Object.defineProperty(v, 'ns', { get: () => s.ns, enumerable: false });
    return v;
  }

  /** A view built before the driver answered, brought up to date with its answer (a gateway of its own: built again). */
  private refreshView(v: EndpointView, s: EndpointState): EndpointView {
    if (s.gateway !== undefined) return this.view(s, v.ports);
    (v as { defaultRoute: boolean }).defaultRoute = s.defaultRoute;
    return v;
  }

  /**
   * Disconnects endpoints: `docker network disconnect NET CONTAINER`. Their
   * published ports and DNS names go first, then the links — several at
   * once in one request and one interface-group delete (the kernel's
   * ~16 ms rcu_barrier paid once, not per link). Addresses go back to the
   * pool. Endpoints already gone (their namespace was deleted) are just
   * forgotten.
   */
  async disconnect(endpoints: Endpoint | string | readonly (Endpoint | string)[]): Promise<void> {
    const operation = 'disconnect';
    const list = Array.isArray(endpoints) ? endpoints : [endpoints];
    const recs: EndpointRecord[] = [];
    for (const [i, ref] of list.entries()) {
      const r = this.recordOf(ref as Endpoint | string);
      if (!r) throw new NetworkError('ENOENT', operation, `no endpoint ${typeof ref === 'string' ? ref : (ref as Endpoint)?.id ?? `#${i}`} on network ${this.name}`, { network: this.name });
      if (!recs.includes(r)) recs.push(r);
    }
    if (recs.length === 0) return;
    const all = recs.length === this.eps.size && this.inflightIds.size === 0;
    // Drivers whose endpoints live inside the containers need a handle there.
    if (this.impl.foreignEndpoints) for (const r of recs) await this.reopen(r);
    await this.unpublishAll(recs);
    for (const r of recs) this.eps.delete(r.state.tag.id);
    try {
      if (this.dns) await Promise.all(recs.map((r) => this.manager.dnsLeave(this, r)));
      await this.impl.disconnect(this.rec, recs.map((r) => r.state), { operation, all });
    } finally {
      for (const r of recs) this.forget(r);
    }
  }

  /** @internal Drops an endpoint's bookkeeping (address, namespace handle). */
  forget(r: EndpointRecord): void {
    this.eps.delete(r.state.tag.id);
    this.unindex(r);
    if (r.state.tag.ip && this.rec.pool?.has(r.state.tag.ip) && r.state.tag.ip !== this.gateway) this.rec.pool.release(r.state.tag.ip);
    if (r.state.ownsNs && r.state.ns && !this.manager.usesNs(r.state.ns)) r.state.ns.close();
  }

  private async unpublishAll(recs: EndpointRecord[]): Promise<void> {
    for (const r of recs) {
      for (const p of [...r.view.ports]) {
        await unpublishPort({ ns: this.ns, hostPort: p.hostPort, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) });
        r.view.ports.splice(r.view.ports.indexOf(p), 1);
      }
    }
  }

  /**
   * Publishes ports of an endpoint: `docker run -p …` / `docker port`.
   * Takes Docker's forms — "80" (a free host port), "8080:80",
   * "127.0.0.1:8080:80", "127.0.0.1::80", "8000-8010:80" (a free one of the
   * range), "53/udp" — one spec or several, all published or none.
   * Resolves what was published (host ports picked included); each port is
   * tagged with the network and endpoint ids in the kernel. Refused: a
   * host port already published or bound (FirewallError EADDRINUSE); sctp,
   * or a driver without NAT through the host (NetworkError EOPNOTSUPP).
   */
  async publish(endpoint: Endpoint | string, specs: string | readonly string[], opts: { portRange?: [number, number] } = {}): Promise<PublishedPort[]> {
    const operation = 'publish';
    const list = typeof specs === 'string' ? [specs] : specs;
    if (!Array.isArray(list) || list.length === 0) throw argType('publish: specs must be a port spec or a non-empty array of them');
    const mappings: PortMapping[] = list.flatMap((s, i) => parsePortSpec(s, Array.isArray(specs) ? `specs[${i}]` : 'spec'));
    const r = this.recordOf(endpoint);
    if (!r) throw new NetworkError('ENOENT', operation, `no endpoint ${typeof endpoint === 'string' ? endpoint : endpoint?.id} on network ${this.name}`, { network: this.name });
    if (!this.impl.features.publish) throw new NetworkError('EOPNOTSUPP', operation, `ports cannot be published on a ${this.driver} network (no NAT through this host)`, { network: this.name });
    if (this.internal) throw new NetworkError('EOPNOTSUPP', operation, `network ${this.name} is internal: nothing reaches it from outside`, { network: this.name });
    const ip = r.state.tag.ip!;
    const tag = firewallTags.port(this.id, r.state.tag.id);
    const requests = mappings.map((m) => {
      if (m.protocol === 'sctp') throw new NetworkError('EOPNOTSUPP', operation, 'sctp ports cannot be published (tcp and udp can)', { network: this.name });
      const hostIp = m.hostIp ?? this.options.hostip;
      return {
        protocol: m.protocol,
        to: `${ip}:${m.containerPort}`,
        tag,
        ...(hostIp !== undefined && hostIp !== '0.0.0.0' ? { hostIp } : {}),
        ...(m.hostPortEnd !== undefined ? { portRange: [m.hostPort!, m.hostPortEnd] as [number, number] } : m.hostPort !== undefined ? { hostPort: m.hostPort } : {}),
        ...(m.hostPort === undefined && opts.portRange ? { portRange: opts.portRange } : {}),
      };
    });
    const published = await publishPorts(requests, { ns: this.ns });
    r.view.ports.push(...published);
    return published;
  }

  /** Unpublishes an endpoint's ports (all, or those given): `nft delete element …`. Resolves how many went. */
  async unpublish(endpoint: Endpoint | string, ports?: readonly { hostPort: number; protocol: 'tcp' | 'udp'; hostIp?: string }[]): Promise<number> {
    const r = this.recordOf(endpoint);
    if (!r) throw new NetworkError('ENOENT', 'unpublish', `no endpoint ${typeof endpoint === 'string' ? endpoint : endpoint?.id} on network ${this.name}`, { network: this.name });
    const which = ports ?? [...r.view.ports];
    let n = 0;
    for (const p of which) {
      if (await unpublishPort({ ns: this.ns, hostPort: p.hostPort, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) })) n++;
      const i = r.view.ports.findIndex((q) => q.hostPort === p.hostPort && q.protocol === p.protocol && q.hostIp === p.hostIp);
      if (i >= 0) r.view.ports.splice(i, 1);
    }
    return n;
  }

  /**
   * `docker network inspect`, from the kernel: re-reads it (as loadNetworks
   * does), then checks the network's objects and each endpoint's — the host
   * end on the bridge and up, the container end up with its address (read
   * through the host's socket by namespace id), the default route when this
   * process has the namespace. Half-made endpoints are listed apart, never
   * as endpoints.
   */
  async inspect(): Promise<NetworkInspect> {
    const snap = await this.manager.refresh('inspect', { foreign: true });
    return this.inspectWith(snap);
  }

  /** @internal */
  async inspectWith(snap: Snapshot): Promise<NetworkInspect> {
    const problems = this.impl.features.predefined ? [] : await this.impl.verify(this.rec, snap);
    const endpoints = await Promise.all(
      [...this.eps.values()].map(async (r): Promise<EndpointInspect> => {
        const p = await this.impl.verifyEndpoint(this.rec, r.state, snap);
        const { ...fields } = r.view;
        return { ...fields, ports: [...r.view.ports], healthy: p.length === 0, problems: p };
      }),
    );
    const incomplete: IncompleteEndpoint[] = [];
    const underWay = this.underWay(snap.since);
    for (const t of this.impl.endpointsOf(this.rec, snap) as (Tagged<EndpointTag> & { ns?: Namespace })[]) {
      if (t.tag.kind === 'p' && !underWay.has(t.tag.id)) {
        incomplete.push({ link: t.link.name, name: t.tag.name, ...(t.tag.ip ? { ip: t.tag.ip } : {}), reason: 'connect did not finish (no commit tag)' });
      }
    }
    const underWayLinks = endpointLinkNames(underWay);
    for (const s of snap.strays) {
      const g = s.link.group;
      if ((g === this.group('endpoints') || g === this.group('scratch')) && !underWayLinks.has(s.link.name)) {
        incomplete.push({ link: s.link.name, ...(s.peerAddresses?.length ? { ip: s.peerAddresses[0] } : {}), reason: s.reason });
      }
    }
    const details = this.impl.details ? await this.impl.details(this.rec, snap) : undefined;
    return {
      name: this.name,
      id: this.id,
      driver: this.driver,
      scope: 'local',
      ...(this.subnet !== undefined ? { subnet: this.subnet } : {}),
      ...(this.gateway !== undefined ? { gateway: this.gateway } : {}),
      ...(this.ipRange !== undefined ? { ipRange: this.ipRange } : {}),
      internal: this.internal,
      default: this.isDefault,
      dns: this.dns,
      options: { ...this.options },
      ...(this.rec.link ? { interface: this.rec.link.name } : {}),
      ...(this.impl.features.predefined ? {} : { linkGroup: this.group('endpoints') }),
      healthy: problems.length === 0 && endpoints.every((e) => e.healthy),
      problems,
      endpoints,
      incomplete,
      ports: endpoints.flatMap((e) => e.ports),
      ...(details ? { details } : {}),
    };
  }

  /** @internal */
  group(role: 'endpoints' | 'infra' | 'scratch' | 'reap'): number {
    return groupOf(this.rec.slot, role);
  }

  /**
   * Sets the peer hosts of an overlay network (the VTEPs its VXLAN device
   * floods to): `bridge fdb append|del 00:00:00:00:00:00 dev <vxlan> dst <peer>`
   * for what changed. NetworkError EOPNOTSUPP for other drivers.
   */
  async setPeers(peers: readonly string[]): Promise<void> {
    if (!Array.isArray(peers)) throw argType('peers must be an array of IP addresses');
    if (!this.impl.setPeers) throw new NetworkError('EOPNOTSUPP', 'setPeers', `a ${this.driver} network has no peer hosts`, { network: this.name });
    await this.impl.setPeers(this.rec, [...peers]);
  }

  /** Removes the network: `docker network rm`. See removeNetwork. */
  remove(opts: { force?: boolean } = {}): Promise<void> {
    return this.manager.remove(this, opts);
  }

  /** Holds what the peers of this network's half-made endpoints hold (until prune removes them). */
  private reserveStrays(pool: AddressPool, snap: Snapshot): void {
    const group = this.group('endpoints');
    for (const s of snap.strays) if (s.link.group === group) for (const ip of s.peerAddresses ?? []) reserve(pool, ip);
  }

  /**
   * @internal Endpoint ids of the connects this process had under way while
   * a snapshot was read (started at the manager's clock `since`): in flight
   * now, or finished since. What such a snapshot shows of them — a host end
   * without its tag, or with a pending one — is work in progress, not a
   * leftover.
   */
  underWay(since: number): Set<string> {
    const ids = new Set(this.inflightIds);
    for (const r of this.eps.values()) if (r.born > since) ids.add(r.state.tag.id);
    return ids;
  }

  /** @internal Brings the endpoints in line with a snapshot: new ones adopted, vanished ones forgotten, ports attached. */
  reconcile(snap: Snapshot, since: number, foreignScanned: boolean): void {
    const link = snap.networks.get(this.id)?.link;
    if (link) this.rec.link = { name: link.name, index: link.index };
    if (this.impl.foreignEndpoints && !foreignScanned) {
      // Endpoints inside containers were not looked for this time: keep what is known.
      if (this.rec.subnet !== undefined) {
        const pool = newPool({ subnet: this.rec.subnet, gateway: this.gateway, ipRange: this.ipRange });
        for (const r of this.eps.values()) if (r.state.tag.ip) reserve(pool, r.state.tag.ip);
        for (const ip of this.inflightIps) reserve(pool, ip);
        this.reserveStrays(pool, snap);
        (this.rec as { pool?: AddressPool }).pool = pool;
      }
      return;
    }
    const found = this.impl.endpointsOf(this.rec, snap) as (Tagged<EndpointTag> & { ns?: Namespace })[];
    if (this.rec.subnet !== undefined) {
      const pool = newPool({ subnet: this.rec.subnet, gateway: this.gateway, ipRange: this.ipRange });
      for (const f of found) if (f.tag.ip) reserve(pool, f.tag.ip);
      for (const ip of this.inflightIps) reserve(pool, ip);
      for (const r of this.eps.values()) if (r.born > since && r.state.tag.ip) reserve(pool, r.state.tag.ip);
      this.reserveStrays(pool, snap);
      (this.rec as { pool?: AddressPool }).pool = pool;
    }
    const seen = new Set<string>();
    for (const f of found) {
      if (f.tag.kind !== 'e') continue;
      seen.add(f.tag.id);
      const ports = snap.ports.filter((p) => p.tag === firewallTags.port(this.id, f.tag.id));
      const have = this.eps.get(f.tag.id);
      if (have) {
        if (f.ns) {
          // Found inside a namespace (stacked drivers): keep our handle, or adopt the scan's.
          if (!have.state.ns || have.state.ns.fd < 0) {
            have.state.ns = f.ns;
            have.state.ownsNs = true;
            have.key = nsKey(f.ns);
            this.index(have);
          } else if (f.ns !== have.state.ns) f.ns.close();
          have.state.peerIndex = f.link.index;
        } else {
          have.state.hostIndex = f.link.index;
          have.state.peerIndex = f.link.link;
          if (f.link.linkNetnsId !== undefined && have.state.netnsId !== f.link.linkNetnsId) {
            this.unindex(have);
            have.state.netnsId = f.link.linkNetnsId;
            this.index(have);
          }
        }
        have.view.ports.splice(0, have.view.ports.length, ...ports);
        continue;
      }
      const state: EndpointState = f.ns
        ? { tag: f.tag, ns: f.ns, ownsNs: true, peerIndex: f.link.index, defaultRoute: false }
        : { tag: f.tag, ownsNs: false, hostIndex: f.link.index, peerIndex: f.link.link, defaultRoute: false, ...(f.link.linkNetnsId !== undefined ? { netnsId: f.link.linkNetnsId } : {}) };
      // The kernel does not say whether this endpoint added the namespace's default route; the first network's does.
      state.defaultRoute = !this.internal && this.gateway !== undefined;
      this.addRecord(state, f.ns ? nsKey(f.ns) : undefined, ports);
    }
    for (const r of [...this.eps.values()]) {
      if (!seen.has(r.state.tag.id) && r.born <= since && !this.impl.features.predefined) this.forget(r);
    }
  }

  /**
   * @internal Reopens the namespace of an endpoint found in the kernel, from
   * its tag (/run/netns name or pid), checking it is the same namespace
   * (same id in the host namespace). False when it cannot.
   */
  async reopen(r: EndpointRecord): Promise<boolean> {
    if (r.state.ns && r.state.ns.fd >= 0) return true;
    const t = r.state.tag;
    let ns: Namespace | undefined;
    try {
      if (t.nsName !== undefined) ns = Namespace.open(t.nsName);
      else if (t.pid !== undefined) ns = Namespace.open({ pid: t.pid });
    } catch {
      return false;
    }
    if (!ns) return false;
    // The same namespace? Known by id for a veth's peer; otherwise by the tagged link inside.
    const same =
      r.state.netnsId !== undefined
        ? (await namespaceId(this.ns, ns, 'reopen').catch(() => undefined)) === r.state.netnsId
        : (await listLinks({ ns }).catch(() => [])).some((l) => decodeTag(l.alias)?.kind === 'e' && (decodeTag(l.alias) as EndpointTag).id === t.id);
    if (!same) {
      ns.close();
      return false;
    }
    r.state.ns = ns;
    r.state.ownsNs = true;
    r.key = nsKey(ns);
    this.index(r);
    return true;
  }

  toJSON(): object {
    return {
      id: this.id,
      name: this.name,
      driver: this.driver,
      subnet: this.subnet,
      gateway: this.gateway,
      ipRange: this.ipRange,
      internal: this.internal,
      default: this.isDefault,
      options: this.options,
      interface: this.interface,
    };
  }
}

function newPool(t: { subnet?: string; gateway?: string; ipRange?: string }): AddressPool {
  return new AddressPool({ subnet: t.subnet!, gateway: t.gateway ?? null, strategy: 'lowest', ...(t.ipRange !== undefined ? { ipRange: t.ipRange } : {}) });
}

function reserve(pool: AddressPool, ip: string): void {
  try {
    pool.reserve(ip);
  } catch {
    // an address outside the pool (the kernel holds something odd): not ours to hand out anyway
  }
}

function checkAliases(v: unknown): string[] {
  if (!Array.isArray(v)) throw argType('aliases must be an array of names');
  const out = v.map((a, i) => checkDnsName(a, `aliases[${i}]`));
  if (new Set(out.map((a) => a.toLowerCase())).size !== out.length) throw argRange('aliases lists a name twice');
  return out;
}

let embedded: string | undefined;
let fromHost: string | undefined;

function embeddedResolvConf(): string {
  return (embedded ??= containerResolvConf());
}

/** resolv.conf for networks without the embedded DNS: the host's nameservers (read once), minus loopback ones a container cannot reach. */
function hostResolvConf(): string {
  if (fromHost === undefined) {
    const servers = hostNameservers().filter((s) => !s.startsWith('127.') && s !== '::1');
    // As dockerd: when the host only has resolvers on loopback, which a container cannot reach, Google's public ones.
    fromHost = servers.length
      ? servers.map((s) => `nameserver ${s}\n`).join('')
      : '# the host resolves through loopback only, unreachable from a container\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n';
  }
  return fromHost;
}
