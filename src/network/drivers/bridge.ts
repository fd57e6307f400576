// The bridge driver (`docker network create -d bridge`): a Linux bridge
// holding the gateway address, a veth per container with its host end on the
// bridge, masquerade for traffic leaving the subnet, routing on, isolation
// from the other bridge networks. The default network (`bridge`) is one of
// these whose bridge is named nw0 (Docker's docker0).
//
// Options (`-o`): bridgeName (com.docker.network.bridge.name), mtu
// (com.docker.network.driver.mtu), masquerade
// (com.docker.network.bridge.enable_ip_masquerade), hostBindingIpv4
// (com.docker.network.bridge.host_binding_ipv4), and queues: the transmit
// and receive queues of each endpoint's veth ends, 1 by default, 0 for the
// kernel's default of one per possible CPU. The kernel makes each queue's
// sysfs objects with the veth — most of what a veth costs to create (measured
// here: 1 instead of 2 queues saves ~140 µs of a ~500 µs host request), and
// more so on a host with many CPUs — while only XDP and NAPI GRO on the veth
// use more than one. Docker leaves the kernel's default.
//
// Kernel objects: the bridge (infra group, tagged `nw1n`), one veth pair per
// endpoint (endpoints group; host end tagged `nw1e`), and in the firewall
// the masquerade (tagged nw:<net id>) and isolation pairs.
import { addMasquerade, enableForwarding, isolateNetworks, removeIsolation, removeMasquerade } from '../../firewall/index.js';
import { addAddress } from '../../address.js';
import { createBridge } from '../../link-kinds/index.js';
import { MAX_LINK_QUEUES, type Link } from '../../link.js';
import type { Namespace } from '../../namespace.js';
import { listRoutes } from '../../route.js';
import * as validate from '../../validate.js';
import { addressesByNsid, connectVethEndpoint, deleteGroups, deleteLinks, linksByNsid, prepareAlias, prepareInside, setAlias, type NewNamespace, type VethEndpointLinks, type VethEndpointRequest } from '../kernel.js';
import type { Snapshot } from '../state.js';
import { decodeTag, firewallTags, groupOf, linkNames, macFromIp, randomMac } from '../tags.js';
import { OptionReader, registerNetworkDriver } from './registry.js';
import type { CheckedOptions, ConnectRequest, DriverContext, DriverFeatures, EndpointState, NetworkDriver, NetworkRecord, NewNamespaceConnectRequest } from './types.js';

/** An endpoint's state from what its connect made. */
function endpointState(req: Omit<ConnectRequest, 'ns'>, l: VethEndpointLinks & { defaultRoute: boolean }): EndpointState {
  return { tag: req.tag, ownsNs: false, hostIndex: l.hostIndex, peerIndex: l.peerIndex, netnsId: l.netnsId, defaultRoute: l.defaultRoute };
}

/** Queues per direction on an endpoint's veth ends unless the network's `queues` option says otherwise. */
export const DEFAULT_QUEUES = 1;

/** Docker's default bridge network: name, bridge and subnet. */
export const DEFAULT_NETWORK = { name: 'bridge', bridge: 'nw0', subnet: '172.17.0.0/16' } as const;

export class BridgeDriver implements NetworkDriver {
  readonly name: string = 'bridge';
  readonly foreignEndpoints = false;
  readonly features: DriverFeatures = { ipam: true, dns: true, publish: true, predefined: false, gateway: 'first', isolated: true };

  options(raw: Record<string, unknown>, facts: { isDefault: boolean }): CheckedOptions {
    const r = new OptionReader(raw, this.name);
    const bridge = r.string(['bridgeName', 'com.docker.network.bridge.name'], (v, arg) => validate.ifname(v, arg));
    if (bridge !== undefined) r.out.bridge = bridge;
    else if (facts.isDefault) r.out.bridge = DEFAULT_NETWORK.bridge;
    const mtu = r.int(['mtu', 'com.docker.network.driver.mtu'], 68, 65535);
    if (mtu !== undefined) r.out.mtu = String(mtu);
    const masq = r.bool(['masquerade', 'com.docker.network.bridge.enable_ip_masquerade']);
    if (masq === false) r.out.masq = '0';
    const hostIp = r.string(['hostBindingIpv4', 'com.docker.network.bridge.host_binding_ipv4'], (v, arg) => validate.ip(v, arg));
    if (hostIp !== undefined) r.out.hostip = hostIp;
    const queues = r.int(['queues'], 0, MAX_LINK_QUEUES);
    if (queues !== undefined && queues !== DEFAULT_QUEUES) r.out.queues = String(queues);
    this.moreOptions(r);
    return r.done();
  }

  /** Hook for drivers built on this one. */
  protected moreOptions(_r: OptionReader): void {}

  linkName(net: NetworkRecord): string {
    return net.options.bridge ?? linkNames.bridge(net.id);
  }

  protected mtu(net: NetworkRecord): number | undefined {
    return net.options.mtu === undefined ? undefined : Number(net.options.mtu);
  }

  /** Queues of each direction on each endpoint's veth ends; undefined: the kernel's default. */
  protected queues(net: NetworkRecord): number | undefined {
    const n = net.options.queues === undefined ? DEFAULT_QUEUES : Number(net.options.queues);
    return n === 0 ? undefined : n;
  }

  protected masquerades(net: NetworkRecord): boolean {
    return !net.internal && net.options.masq !== '0' && net.subnet !== undefined && net.gateway !== undefined && this.features.gateway === 'first';
  }

  async create(net: NetworkRecord, tag: string, ctx: DriverContext): Promise<void> {
    const { ns } = net;
    const name = this.linkName(net);
    const mtu = this.mtu(net);
    const br = await createBridge({ ns, name, linkGroup: groupOf(net.slot, 'infra'), mac: randomMac(), up: true, ...(mtu ? { mtu } : {}) });
    net.link = { name, index: br.index };
    const isolated: string[] = [];
    let masq = false;
    try {
      if (net.gateway !== undefined && this.features.gateway === 'first') await addAddress(br.index, `${net.gateway}/${net.prefixLength}`, { ns });
      await this.afterBridge(net, br.index);
      if (!net.internal) await enableForwarding({ ns });
      if (this.masquerades(net)) {
        await addMasquerade({ ns, source: net.subnet!, exceptOutInterface: name, tag: firewallTags.network(net.id) });
        masq = true;
      }
      for (const other of ctx.isolatedFrom) {
        await isolateNetworks(name, other, { ns });
        isolated.push(other);
      }
      await setAlias(ns, br.index, tag, ctx.operation);
    } catch (e) {
      if (masq) await removeMasquerade({ ns, source: net.subnet!, exceptOutInterface: name }).catch(() => {});
      for (const other of isolated) await removeIsolation(name, other, { ns }).catch(() => {});
      await deleteGroups(ns, [groupOf(net.slot, 'infra')], ctx.operation).catch(() => {});
      net.link = undefined;
      throw e;
    }
  }

  /** Hook: more links on the bridge before the network is committed (overlay's vxlan). */
  protected async afterBridge(_net: NetworkRecord, _bridgeIndex: number): Promise<void> {}

  async remove(net: NetworkRecord, _endpoints: EndpointState[], ctx: DriverContext): Promise<void> {
    const { ns } = net;
    const name = this.linkName(net);
    if (net.subnet) await removeMasquerade({ ns, source: net.subnet, exceptOutInterface: name });
    for (const other of ctx.isolatedFrom) await removeIsolation(name, other, { ns });
    // Endpoints first, then the bridge and its companions: one request, three group deletes.
    await deleteGroups(ns, [groupOf(net.slot, 'endpoints'), groupOf(net.slot, 'scratch'), groupOf(net.slot, 'infra')], ctx.operation);
  }

  async connect(net: NetworkRecord, req: ConnectRequest): Promise<EndpointState> {
    const state = endpointState(req, await this.connectVeth(net, req, req.ns));
    state.ns = req.ns;
    return state;
  }

  /** The namespace is the chain's first part (made while this writes the rest): one pass of the engine thread for the whole container. */
  async connectNew(net: NetworkRecord, req: NewNamespaceConnectRequest): Promise<EndpointState & { nsFd: number; nsIdentity?: Buffer }> {
    const l = await this.connectVeth(net, req, req.fresh);
    return Object.assign(endpointState(req, l), { nsFd: l.nsFd!, nsIdentity: l.nsIdentity });
  }

  /** Host end, inside configuration and tag in one pass of the engine thread (connectVethEndpoint). */
  private connectVeth(net: NetworkRecord, req: Omit<ConnectRequest, 'ns'>, container: Namespace | NewNamespace): ReturnType<typeof connectVethEndpoint> {
    const { ns } = net;
    const { operation, tag } = req;
    if (!net.link) throw new Error(`${operation}: network ${net.name} has no bridge`);
    const host: VethEndpointRequest = {
      host: ns,
      container,
      hostName: linkNames.hostVeth(tag.id),
      ifname: req.ifname,
      mac: req.mac ?? macFromIp(req.ip!),
      group: groupOf(net.slot, 'endpoints'),
      master: net.link.index,
    };
    const mtu = this.mtu(net);
    if (mtu) host.mtu = mtu;
    const queues = this.queues(net);
    if (queues !== undefined) host.queues = queues;
    const cidr = `${req.ip}/${net.prefixLength}`;
    const gateway = req.defaultRoute && net.gateway !== undefined && !net.internal ? net.gateway : undefined;
    const inside = prepareInside('sock' in container ? { sock: container.sock, cidr, gateway, loopback: req.loopback, up: true } : { ns: container, cidr, gateway, loopback: req.loopback, up: true }, operation);
    return connectVethEndpoint(host, inside, prepareAlias(ns, req.tagText, operation), operation);
  }

  async disconnect(net: NetworkRecord, endpoints: EndpointState[], opts: { operation: string; all: boolean }): Promise<void> {
    if (opts.all) {
      await deleteGroups(net.ns, [groupOf(net.slot, 'endpoints'), groupOf(net.slot, 'scratch')], opts.operation);
      return;
    }
    const refs = endpoints.map((e) => e.hostIndex ?? linkNames.hostVeth(e.tag.id));
    await deleteLinks(net.ns, refs, opts.operation, groupOf(net.slot, 'scratch'));
  }

  describe(_net: NetworkRecord, ep: EndpointState): { interface: string; hostInterface: string; mac?: string } {
    const t = ep.tag;
    return { interface: t.ifname, hostInterface: linkNames.hostVeth(t.id), ...(t.mac || t.ip ? { mac: t.mac ?? macFromIp(t.ip!) } : {}) };
  }

  endpointsOf(net: NetworkRecord, snap: Snapshot): { tag: import('../tags.js').EndpointTag; link: Link }[] {
    return snap.endpoints.get(net.id) ?? [];
  }

  async verify(net: NetworkRecord, snap: Snapshot): Promise<string[]> {
    const problems: string[] = [];
    const br = snap.networks.get(net.id)?.link;
    if (!br) return [`bridge ${this.linkName(net)} is missing`];
    if (br.kind !== 'bridge') problems.push(`${br.name} is a ${br.kind ?? 'device'}, not a bridge`);
    if (!br.flags.up) problems.push(`bridge ${br.name} is down`);
    if (net.gateway !== undefined && this.features.gateway === 'first') {
      const has = snap.addresses.some((a) => a.ifindex === br.index && a.address === net.gateway && a.prefix === net.prefixLength);
      if (!has) problems.push(`bridge ${br.name} lacks the gateway address ${net.gateway}/${net.prefixLength}`);
    }
    if (this.masquerades(net) && !snap.masquerades.some((m) => m.source === net.subnet && m.exceptOutInterface === br.name)) {
      problems.push(`no masquerade for ${net.subnet} leaving through other interfaces than ${br.name}`);
    }
    problems.push(...(await this.verifyMore(net, snap, br)));
    return problems;
  }

  protected async verifyMore(_net: NetworkRecord, _snap: Snapshot, _bridge: Link): Promise<string[]> {
    return [];
  }

  async verifyEndpoint(net: NetworkRecord, ep: EndpointState, snap: Snapshot): Promise<string[]> {
    const problems: string[] = [];
    const link = (ep.hostIndex !== undefined ? snap.byIndex.get(ep.hostIndex) : undefined) ?? snap.byName.get(linkNames.hostVeth(ep.tag.id));
    if (!link) return [`host end ${linkNames.hostVeth(ep.tag.id)} is gone (the container's namespace was deleted?)`];
    const tag = decodeTag(link.alias);
    if (!tag || tag.kind !== 'e' || tag.id !== ep.tag.id) problems.push(`host end ${link.name} does not carry the endpoint's committed tag`);
    const br = snap.networks.get(net.id)?.link;
    if (!br || link.master !== br.index) problems.push(`host end ${link.name} is not a port of ${br?.name ?? 'the bridge'}`);
    if (!link.flags.up) problems.push(`host end ${link.name} is down`);
    if (!link.link || link.linkNetnsId === undefined) {
      problems.push(`host end ${link.name} has no peer in another namespace`);
      return problems;
    }
    if (!link.flags.lowerUp) problems.push(`container end ${ep.tag.ifname} is down (no carrier on ${link.name})`);
    // The container side, read through the host's socket by namespace id.
    try {
      const [links, addrs] = await Promise.all([linksByNsid(snap.ns, link.linkNetnsId, 'inspect'), addressesByNsid(snap.ns, link.linkNetnsId, 'inspect')]);
      const peer = links.find((l) => l.index === link.link);
      if (!peer) problems.push(`container end #${link.link} not found`);
      else {
        if (peer.name !== ep.tag.ifname) problems.push(`container end is named ${peer.name}, not ${ep.tag.ifname}`);
        if (ep.tag.ip && !addrs.some((a) => a.ifindex === peer.index && a.address === ep.tag.ip && a.prefix === net.prefixLength)) {
          problems.push(`container end ${peer.name} lacks ${ep.tag.ip}/${net.prefixLength}`);
        }
      }
    } catch (e) {
      problems.push(`cannot read the container's namespace: ${(e as Error).message}`);
    }
    if (ep.defaultRoute && ep.ns && ep.ns.fd >= 0 && net.gateway) {
      try {
        const routes = await listRoutes({ ns: ep.ns, family: 'inet' });
        if (!routes.some((r) => r.dst === 'default' && r.gateway === net.gateway)) problems.push(`no default route via ${net.gateway} in the container`);
      } catch {
        // namespace handle closed meanwhile: nothing more to check
      }
    }
    return problems;
  }
}

registerNetworkDriver(new BridgeDriver());
