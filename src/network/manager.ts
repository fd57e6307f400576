// One NetworkManager per host namespace per process: the networks found in
// (or made in) that namespace, the embedded DNS server for its containers,
// and the lock that orders creating and removing networks. The kernel is the
// source of truth; the manager is a cache that refresh() brings in line.
import { createHash } from 'node:crypto';
import { removeIsolation, removeMasquerade, unpublishPort, type PublishedPort } from '../firewall/index.js';
import { Namespace } from '../namespace.js';
import { DnsServer, type DnsServerOptions } from './dns.js';
import { networkDriver, networkDriverNames } from './drivers/index.js';
import type { NetworkDriver } from './drivers/types.js';
import { argRange, argType, NetworkError, withArgCode } from './errors.js';
import { AddressPool, canonicalIp, findOverlap, IpamError, nextFreeSubnet, parseSubnet } from './ipam.js';
import { deleteLinks } from './kernel.js';
import { checkDnsName, Network, type EndpointRecord } from './network.js';
import { scan, scanForeign, type Snapshot } from './state.js';
import { DEFAULT_NETWORK } from './drivers/bridge.js';
import { encodeTag, endpointLinkNames, firewallTags, groupOf, GROUP_SLOTS, preferredSlot, randomId, slotOfGroup, type NetworkTag } from './tags.js';

export interface CreateNetworkOptions {
  /** `docker network create NAME`: letters, digits, '_', '.', '-'. "bridge" makes the default network. */
  name: string;
  /** bridge (default), overlay, macvlan, ipvlan — or one registered with registerNetworkDriver. */
  driver?: string;
  /** `--subnet`; default: the first free one of Docker's pools (172.18.0.0/16, 172.19.0.0/16 …). */
  subnet?: string;
  /** `--gateway`; default the first address of the range (overlay: none). */
  gateway?: string;
  /** `--ip-range`: where dynamic addresses come from. */
  ipRange?: string;
  /** `--internal`: no route out (no masquerade; containers get no default route). */
  internal?: boolean;
  /** `-o key=value`: driver options (Docker's names accepted; see each driver). */
  options?: Record<string, unknown>;
  /** The namespace the network lives in (the "host"); default the current one. */
  ns?: Namespace;
}

const CREATE_KEYS = new Set(['name', 'driver', 'subnet', 'gateway', 'ipRange', 'internal', 'options', 'ns']);
const PREDEFINED = ['host', 'none'] as const;

/** What prune() removed. */
export interface PruneReport {
  /** Links deleted (half-made endpoints and networks, leftovers of removed networks). */
  links: { name: string; reason: string }[];
  /** Published ports whose endpoint no longer exists. */
  ports: PublishedPort[];
  /** Masquerades of networks that no longer exist. */
  masquerades: { source: string; exceptOutInterface?: string }[];
  /** Isolation pairs naming a netweave bridge that no longer exists. */
  isolations: { a: string; b: string }[];
}

/** A small FIFO lock. */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.then(
      () => {},
      () => {},
    );
    return p;
  }
}

interface DnsAttachment {
  ns: Namespace;
  zones: string[];
}

const managers = new Map<string, NetworkManager>();

export class NetworkManager {
  readonly ns: Namespace;
  /** @internal */ readonly networks = new Map<string, Network>();
  private clock = 0;
  private readonly lock = new Lock();
  /** Endpoint records by namespace identity, across networks. */
  private readonly byNs = new Map<string, Set<EndpointRecord>>();
  private dnsServer?: DnsServer;
  private dnsOptions: DnsServerOptions = {};
  private readonly dnsAttached = new Map<string, DnsAttachment>();
  /** Networks being created (their links carry no tag yet): id → interface-group slot. */
  private readonly creating = new Map<string, number>();
  private closed = false;

  private constructor(ns: Namespace) {
    this.ns = ns;
    const ident = ns.identity().join(':');
    for (const driver of PREDEFINED) {
      const id = createHash('sha256').update(`netweave:${driver}:${ident}`).digest('hex').slice(0, 16);
      const tag: NetworkTag = { kind: 'n', id, name: driver, driver, internal: false, isDefault: false, options: {} };
      this.networks.set(id, new Network(this, networkDriver(driver)!, tag, 0, 0));
    }
  }

  /** The manager of a namespace (default: the current one) in this process. */
  static for(ns?: Namespace): NetworkManager {
    if (ns !== undefined && !(ns instanceof Namespace)) throw argType('ns must be a Namespace');
    const target = ns ?? Namespace.current();
    const key = target.identity().join(':');
    let m = managers.get(key);
    if (!m || m.closed) managers.set(key, (m = new NetworkManager(target)));
    return m;
  }

  /** @internal Whether close() was called: Network objects from before are stale. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */
  tick(): number {
    return ++this.clock;
  }

  /** @internal Endpoints this process has in a namespace (any network). */
  endpointsIn(key: string): EndpointRecord[] {
    return [...(this.byNs.get(key) ?? [])];
  }

  /** @internal */
  indexEndpoint(rec: EndpointRecord): void {
    let set = this.byNs.get(rec.key!);
    if (!set) this.byNs.set(rec.key!, (set = new Set()));
    set.add(rec);
  }

  /** @internal */
  unindexEndpoint(rec: EndpointRecord, key: string): void {
    const set = this.byNs.get(key);
    set?.delete(rec);
    if (set?.size === 0) this.byNs.delete(key);
  }

  /** @internal Whether any endpoint still holds this namespace handle. */
  usesNs(ns: Namespace): boolean {
    for (const net of this.networks.values()) for (const r of net.eps.values()) if (r.state.ns === ns) return true;
    return false;
  }

  /** The networks this process knows, predefined ones included (refresh() re-reads the kernel). */
  list(): Network[] {
    return [...this.networks.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A network by name, id or id prefix (≥ 4 digits) among those known. */
  find(ref: string): Network | undefined {
    if (typeof ref !== 'string' || ref === '') throw argType('network must be a name or an id');
    const byId = this.networks.get(ref);
    if (byId) return byId;
    for (const n of this.networks.values()) if (n.name === ref) return n;
    if (/^[0-9a-f]{4,}$/.test(ref)) {
      const m = [...this.networks.values()].filter((n) => n.id.startsWith(ref));
      if (m.length === 1) return m[0];
    }
    return undefined;
  }

  /**
   * Re-reads the kernel and brings the cache in line: networks and
   * endpoints found are adopted (with their published ports), those gone
   * are forgotten (their addresses back in the pool). Things made by this
   * process while the read ran are kept.
   */
  async refresh(operation = 'loadNetworks', opts: { foreign?: boolean } = {}): Promise<Snapshot> {
    const since = this.clock;
    const snap = await scan(this.ns, { operation, since });
    // Endpoints that live only inside containers (macvlan, ipvlan) are looked for in every
    // namespace of the machine: only when asked (load, inspect, prune, remove), not for listing.
    const foreign = new Set<string>();
    if (opts.foreign) for (const [id, t] of snap.networks) if (networkDriver(t.tag.driver)?.foreignEndpoints) foreign.add(id);
    await scanForeign(snap, foreign);
    for (const [id, t] of snap.networks) {
      const driver = networkDriver(t.tag.driver);
      if (!driver) continue; // a driver this program has not registered: not ours to manage
      let net = this.networks.get(id);
      if (!net) {
        const slot = slotOfGroup(t.link.group)?.slot ?? preferredSlot(id);
        net = new Network(this, driver, t.tag, slot, this.tick());
        this.networks.set(id, net);
      }
      net.reconcile(snap, since, opts.foreign === true);
    }
    for (const [id, net] of this.networks) {
      if (net.impl.features.predefined || snap.networks.has(id) || this.creating.has(id) || net.born > since) continue;
      for (const r of [...net.eps.values()]) net.forget(r);
      if (this.dnsServer) this.dnsServer.deleteZone(id);
      this.networks.delete(id);
    }
    // Foreign scans open namespaces; close those no endpoint adopted.
    for (const list of snap.foreign.values()) for (const f of list) if (f.ns.fd >= 0 && !this.usesNs(f.ns)) f.ns.close();
    if (this.dnsServer) for (const net of this.networks.values()) if (net.dns) this.dnsServer.setRecords(net.id, dnsRecords(net));
    return snap;
  }

  /** See createNetwork. */
  async create(opts: CreateNetworkOptions): Promise<Network> {
    const operation = 'createNetwork';
    if (typeof opts !== 'object' || opts === null) throw argType('createNetwork: options { name, … } are required');
    for (const k of Object.keys(opts)) if (!CREATE_KEYS.has(k)) throw argType(`createNetwork: unknown option ${JSON.stringify(k)} (known: ${[...CREATE_KEYS].join(', ')})`);
    const name = checkNetworkName(opts.name);
    const driverName = opts.driver ?? 'bridge';
    if (typeof driverName !== 'string') throw argType('driver must be a string');
    const driver = networkDriver(driverName);
    if (!driver) throw new NetworkError('EOPNOTSUPP', operation, `unknown network driver ${JSON.stringify(driverName)} (known: ${networkDriverNames().join(', ')})`, { network: name });
    if ((PREDEFINED as readonly string[]).includes(name)) throw new NetworkError('EEXIST', operation, `network ${name} already exists (it is predefined)`, { network: name });
    if (driver.features.predefined) throw new NetworkError('EOPNOTSUPP', operation, `only one instance of the "${driver.name}" network is allowed, and it always exists`, { network: name });
    const isDefault = name === DEFAULT_NETWORK.name;
    if (isDefault && driver.name !== 'bridge') throw new NetworkError('EOPNOTSUPP', operation, 'the default network "bridge" must use the bridge driver', { network: name });
    if (opts.internal !== undefined && typeof opts.internal !== 'boolean') throw argType('internal must be a boolean');
    const internal = opts.internal ?? false;
    let subnet = opts.subnet === undefined ? undefined : withArgCode(() => parseSubnet(opts.subnet!, 'subnet'));
    if (subnet && subnet.family !== 4) throw argRange(`subnet ${opts.subnet}: IPv4 subnets only (containers get one IPv4 address per network)`);
    if (subnet === undefined && isDefault) subnet = parseSubnet(DEFAULT_NETWORK.subnet);
    if (subnet === undefined && driver.features.subnetRequired) throw argType(`subnet is required for a ${driver.name} network (every host must use the same)`);
    const gateway = opts.gateway === undefined ? undefined : withArgCode(() => canonicalIp(opts.gateway!, 'gateway'));
    const ipRange = opts.ipRange === undefined ? undefined : withArgCode(() => parseSubnet(opts.ipRange!, 'ipRange').text);
    if ((gateway !== undefined || ipRange !== undefined) && subnet === undefined) throw argType('gateway and ipRange need the subnet they belong to: give subnet too');
    const id = randomId();
    const checked = withArgCode(() => driver.options(opts.options ?? {}, { name, isDefault, id }));
    // The pool checks gateway and ipRange against the subnet (RangeError naming them).
    const wantGw = gateway ?? (driver.features.gateway === 'none' ? null : undefined);
    if (subnet) withArgCode(() => new AddressPool({ subnet: subnet!.text, gateway: wantGw, ...(ipRange ? { ipRange } : {}) }));

    return this.lock.run(async () => {
      if (this.closed) throw new NetworkError('EINVAL', operation, 'the network manager was closed');
      const snap = await this.refresh(operation);
      if ([...this.networks.values()].some((n) => n.name === name)) throw new NetworkError('EEXIST', operation, `network ${name} already exists`, { network: name });
      const others = [...this.networks.values()].filter((n) => n.subnet !== undefined);
      let text: string;
      if (subnet) {
        const clash = findOverlap(subnet.text, others.map((n) => n.subnet!));
        if (clash) {
          const owner = others.find((n) => n.subnet === clash)!;
          throw new NetworkError('EADDRINUSE', operation, `subnet ${subnet.text} overlaps ${clash} of network ${owner.name}`, { network: name });
        }
        text = subnet.text;
      } else {
        // Keep clear of other networks and of the host's own addresses.
        const hostNets = snap.addresses.filter((a) => !a.address.startsWith('127.')).map((a) => netOf(a.address, a.prefix));
        try {
          text = nextFreeSubnet([...others.map((n) => n.subnet!), ...hostNets]);
        } catch (e) {
          if (e instanceof IpamError) throw new NetworkError('EADDRINUSE', operation, e.message, { network: name, cause: e });
          throw e;
        }
      }
      const pool = new AddressPool({ subnet: text, gateway: wantGw, ...(ipRange ? { ipRange } : {}) });
      const tag: NetworkTag = {
        kind: 'n',
        id,
        name,
        driver: driver.name,
        subnet: text,
        ...(pool.gateway !== undefined ? { gateway: pool.gateway } : {}),
        ...(ipRange ? { ipRange: pool.ipRange } : {}),
        internal,
        isDefault,
        options: checked.stored,
      };
      const encoded = encodeTag(tag, operation);
      const slot = this.freeSlot(id, snap);
      const net = new Network(this, driver, tag, slot, this.tick());
      net.rec.extra = checked.extra;
      const linkName = driver.linkName(net.rec);
      if (snap.byName.has(linkName)) throw new NetworkError('EEXIST', operation, `an interface named ${linkName} already exists`, { network: name });
      this.creating.set(id, slot);
      try {
        await driver.create(net.rec, encoded, { operation, isolatedFrom: this.isolationPeers(driver, net) });
      } finally {
        this.creating.delete(id);
        net.rec.extra = undefined;
      }
      this.networks.set(id, net);
      if (this.dnsServer && net.dns) this.dnsServer.setRecords(net.id, []);
      return net;
    });
  }

  /** Link names of the networks an isolated network is isolated from. */
  private isolationPeers(driver: NetworkDriver, self: Network): string[] {
    if (!driver.features.isolated) return [];
    const out: string[] = [];
    for (const n of this.networks.values()) {
      if (n.id === self.id || !n.impl.features.isolated || !n.rec.link) continue;
      out.push(n.rec.link.name);
    }
    return out;
  }

  private freeSlot(id: string, snap: Snapshot): number {
    const used = new Set<number>();
    for (const n of this.networks.values()) if (!n.impl.features.predefined) used.add(n.rec.slot);
    for (const l of snap.links) {
      const s = slotOfGroup(l.group);
      if (s) used.add(s.slot);
    }
    const start = preferredSlot(id);
    for (let i = 0; i < GROUP_SLOTS; i++) {
      const slot = (start + i) % GROUP_SLOTS;
      if (!used.has(slot)) return slot;
    }
    throw new NetworkError('EADDRINUSE', 'createNetwork', `all ${GROUP_SLOTS} interface-group slots are in use`);
  }

  /** See removeNetwork. */
  async remove(ref: string | Network, opts: { force?: boolean } = {}): Promise<void> {
    const operation = 'removeNetwork';
    if (opts.force !== undefined && typeof opts.force !== 'boolean') throw argType('force must be a boolean');
    return this.lock.run(async () => {
      const snap = await this.refresh(operation, { foreign: true });
      const net = typeof ref === 'string' ? this.find(ref) : this.networks.get(ref.id);
      if (!net) throw new NetworkError('ENOENT', operation, `no network ${typeof ref === 'string' ? ref : ref.name}`);
      if (net.impl.features.predefined) throw new NetworkError('EOPNOTSUPP', operation, `the "${net.name}" network is predefined and cannot be removed`, { network: net.name });
      const eps = [...net.eps.values()];
      if (eps.length && !opts.force) {
        throw new NetworkError('EBUSY', operation, `network ${net.name} has active endpoints (${eps.map((r) => r.view.name).join(', ')}): disconnect them or use force`, { network: net.name });
      }
      net.removing = true;
      // Endpoints inside containers (macvlan, ipvlan) are removed from there: get handles on them.
      if (net.impl.foreignEndpoints) for (const r of eps) await net.reopen(r);
      try {
        for (const p of snap.ports) {
          if (firewallTags.parse(p.tag)?.network !== net.id) continue;
          await unpublishPort({ ns: this.ns, hostPort: p.hostPort, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) });
        }
        if (net.dns) for (const r of eps) await this.dnsLeave(net, r);
        await net.impl.remove(
          net.rec,
          eps.map((r) => r.state),
          { operation, isolatedFrom: this.isolationPeers(net.impl, net) },
        );
      } catch (e) {
        net.removing = false;
        throw e;
      }
      for (const r of eps) net.forget(r);
      this.dnsServer?.deleteZone(net.id);
      this.networks.delete(net.id);
    });
  }

  /**
   * Removes what belongs to nothing: half-made endpoints and networks (links
   * in netweave's interface groups without a committed tag), links of
   * networks that no longer exist, published ports whose endpoint is gone,
   * masquerades of removed networks, isolation pairs naming a removed
   * bridge. Things this process is making right now are left alone; another
   * live process's are not known — run it when no other process is
   * changing the same networks (after a crash).
   */
  async prune(): Promise<PruneReport> {
    const operation = 'prune';
    return this.lock.run(async () => {
      const snap = await this.refresh(operation, { foreign: true });
      const report: PruneReport = { links: [], ports: [], masquerades: [], isolations: [] };
      // Connects under way while the snapshot was read (or since) are work in progress, not leftovers.
      const inflight = new Set<string>();
      for (const n of this.networks.values()) for (const id of n.underWay(snap.since)) inflight.add(id);
      const underWayLinks = endpointLinkNames(inflight);
      const busySlots = new Set(this.creating.values());
      const doomed = snap.strays.filter((s) => !busySlots.has(slotOfGroup(s.link.group)?.slot ?? -1) && !underWayLinks.has(s.link.name));
      for (const [, list] of snap.endpoints) {
        for (const t of list) if (t.tag.kind === 'p' && !inflight.has(t.tag.id) && snap.networks.has(t.tag.network)) doomed.push({ link: t.link, reason: 'connect did not finish (no commit tag)' });
      }
      if (doomed.length) {
        await deleteLinks(this.ns, doomed.map((s) => s.link.index), operation, groupOf(0, 'reap'));
        for (const s of doomed) report.links.push({ name: s.link.name, reason: s.reason });
      }
      for (const [, list] of snap.foreign) {
        for (const f of list) {
          if (f.tag.kind !== 'p' || inflight.has(f.tag.id)) continue;
          await deleteLinks(f.ns, [f.link.index], operation).catch(() => {});
          report.links.push({ name: f.link.name, reason: 'connect did not finish (no commit tag)' });
        }
      }
      const complete = new Set<string>();
      for (const n of this.networks.values()) for (const id of n.eps.keys()) complete.add(`${n.id}:${id}`);
      for (const p of snap.ports) {
        const t = firewallTags.parse(p.tag);
        if (!t || !t.endpoint || complete.has(`${t.network}:${t.endpoint}`) || inflight.has(t.endpoint)) continue;
        // A network of a driver this program has not registered: its endpoints are not known here.
        if (snap.networks.has(t.network) && !this.networks.has(t.network)) continue;
        await unpublishPort({ ns: this.ns, hostPort: p.hostPort, protocol: p.protocol, ...(p.hostIp ? { hostIp: p.hostIp } : {}) });
        report.ports.push(p);
      }
      for (const m of snap.masquerades) {
        const t = firewallTags.parse(m.tag);
        if (!t || t.endpoint || snap.networks.has(t.network) || this.networks.has(t.network) || this.creating.has(t.network)) continue;
        await removeMasquerade({ ns: this.ns, source: m.source, ...(m.exceptOutInterface ? { exceptOutInterface: m.exceptOutInterface } : {}) });
        report.masquerades.push({ source: m.source, ...(m.exceptOutInterface ? { exceptOutInterface: m.exceptOutInterface } : {}) });
      }
      const ours = (n: string) => /^nw-[0-9a-f]{12}$/.test(n) || n === DEFAULT_NETWORK.bridge;
      const live = new Set(snap.links.map((l) => l.name));
      const seen = new Set<string>();
      for (const i of snap.isolations) {
        const k = [i.a, i.b].sort().join(' ');
        if (seen.has(k)) continue;
        seen.add(k);
        if ((ours(i.a) && !live.has(i.a)) || (ours(i.b) && !live.has(i.b))) {
          await removeIsolation(i.a, i.b, { ns: this.ns });
          report.isolations.push({ a: i.a, b: i.b });
        }
      }
      return report;
    });
  }

  // ---- DNS ----

  /** Options for the embedded DNS server (upstream servers, timeouts); before it is first used. */
  configureDns(opts: DnsServerOptions): void {
    if (this.dnsServer) throw new NetworkError('EINVAL', 'configureDns', 'the DNS server is running already: configure it before connecting to a user-defined network');
    this.dnsOptions = { ...opts };
    new DnsServer(this.dnsOptions).close(); // validates now, not at first use
  }

  private dns(): DnsServer {
    if (!this.dnsServer) {
      this.dnsServer = new DnsServer(this.dnsOptions);
      for (const net of this.networks.values()) if (net.dns) this.dnsServer.setRecords(net.id, dnsRecords(net));
    }
    return this.dnsServer;
  }

  private zonesOf(key: string): string[] {
    const zones: string[] = [];
    for (const r of this.byNs.get(key) ?? []) {
      const net = this.networks.get(r.view.networkId);
      if (net?.dns && net.eps.get(r.view.id) === r) zones.push(net.id);
    }
    return zones;
  }

  /** @internal Publishes an endpoint's names and serves DNS inside its namespace. */
  async dnsJoin(net: Network, r: EndpointRecord, serve = true): Promise<void> {
    const dns = this.dns();
    if (r.view.ip) {
      dns.removeRecord(net.id, r.view.name);
      dns.addRecord(net.id, { name: r.view.name, aliases: [...r.view.aliases], addresses: [r.view.ip] });
    }
    if (!serve || !r.state.ns || r.key === undefined) return;
    const zones = this.zonesOf(r.key);
    const att = this.dnsAttached.get(r.key);
    if (att) {
      att.zones = zones;
      dns.setZones(att.ns, zones);
      return;
    }
    this.dnsAttached.set(r.key, { ns: r.state.ns, zones });
    try {
      await dns.attach(r.state.ns, { zones });
    } catch (e) {
      this.dnsAttached.delete(r.key);
      throw e;
    }
  }

  /** @internal Whether this process serves DNS inside the namespace with this identity. */
  servesDnsIn(key: string): boolean {
    return this.dnsAttached.has(key);
  }

  /** @internal Withdraws an endpoint's names; stops serving its namespace when no DNS network is left there. */
  async dnsLeave(net: Network, r: EndpointRecord): Promise<void> {
    if (!this.dnsServer) return;
    this.dnsServer.removeRecord(net.id, r.view.name);
    if (r.key === undefined) return;
    const att = this.dnsAttached.get(r.key);
    if (!att) return;
    // A namespace has one endpoint per network: leaving this network drops its zone.
    const left = this.zonesOf(r.key).filter((z) => z !== net.id);
    if (left.length === 0) {
      this.dnsAttached.delete(r.key);
      await this.dnsServer.detach(att.ns);
    } else {
      att.zones = left;
      this.dnsServer.setZones(att.ns, left);
    }
  }

  /** @internal Serves DNS again in the namespaces of found endpoints (after a restart). */
  async reattachDns(): Promise<{ attached: number; unreachable: string[] }> {
    let attached = 0;
    const unreachable: string[] = [];
    for (const net of this.networks.values()) {
      if (!net.dns) continue;
      for (const r of net.eps.values()) {
        if (!(await net.reopen(r))) {
          unreachable.push(`${net.name}/${r.view.name}`);
          continue;
        }
        if (this.dnsAttached.has(r.key!)) {
          await this.dnsJoin(net, r);
          continue;
        }
        try {
          await this.dnsJoin(net, r);
          attached++;
        } catch {
          unreachable.push(`${net.name}/${r.view.name}`);
        }
      }
    }
    return { attached, unreachable };
  }

  /**
   * Stops this process's part: the DNS server and the namespace handles it
   * opened. The kernel state stays; a later loadNetworks finds it again.
   */
  async close(): Promise<void> {
    this.closed = true;
    managers.delete(this.ns.identity().join(':'));
    this.dnsAttached.clear();
    await this.dnsServer?.close();
    this.dnsServer = undefined;
    for (const net of this.networks.values()) for (const r of net.eps.values()) if (r.state.ownsNs && r.state.ns && r.state.ns.fd >= 0) r.state.ns.close();
  }
}

function dnsRecords(net: Network): { name: string; aliases: string[]; addresses: string[] }[] {
  const out: { name: string; aliases: string[]; addresses: string[] }[] = [];
  for (const r of net.eps.values()) {
    if (!r.view.ip) continue;
    out.push({ name: r.view.name, aliases: [...r.view.aliases], addresses: [r.view.ip] });
  }
  return out;
}

function checkNetworkName(v: unknown): string {
  if (typeof v !== 'string') throw argType('name must be a string');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v) || v.length > 64) {
    throw argType(`name ${JSON.stringify(v)} must be 1..64 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return v;
}

function netOf(address: string, prefix: number): string {
  const n = address.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(n / size) * size;
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${prefix}`;
}

export { checkDnsName };
