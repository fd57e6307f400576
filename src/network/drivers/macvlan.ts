// macvlan networks (`docker network create -d macvlan -o parent=eth0`): each
// endpoint is a macvlan device on the parent interface, born inside the
// container's namespace with a MAC of its own, so containers appear on the
// parent's LAN as machines of their own. The gateway is the LAN's router
// (default: the subnet's first address), not an address of this host.
//
// The host cannot reach its own macvlan endpoints through the parent: the
// kernel delivers frames between a parent and its macvlans only from the
// wire, never from the parent's own stack (a macvlan of the host's on the
// same parent, with an address, is the usual way around).
//
// The network's tag lives on an anchor: a macvlan on the parent, down and
// without address, named nwm-<id>. Endpoints live only inside containers:
// a new process finds them by looking through the namespaces of the machine
// (/run/netns, /proc/<pid>/ns/net) for links tagged with the network's id.
import { createMacvlan } from '../../link-kinds/index.js';
import { deleteLink, getLink, listLinks, type Link } from '../../link.js';
import { listAddresses } from '../../address.js';
import * as validate from '../../validate.js';
import { configureInside, deleteGroups, setAlias } from '../kernel.js';
import type { Snapshot } from '../state.js';
import { decodeTag, groupOf, linkNames, macFromIp, pendingOf, type EndpointTag } from '../tags.js';
import { OptionReader, registerNetworkDriver } from './registry.js';
import type { CheckedOptions, ConnectRequest, DriverContext, DriverFeatures, EndpointState, NetworkDriver, NetworkRecord } from './types.js';
import type { Namespace } from '../../namespace.js';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru', 'source'] as const;

/** What a stacked kind (macvlan, ipvlan) needs from its link-kind module. */
export interface StackedKind {
  kind: 'macvlan' | 'ipvlan';
  /** Endpoints have a MAC of their own (macvlan) or share the parent's (ipvlan). */
  ownMac: boolean;
  readOptions(r: OptionReader): void;
  create(opts: {
    ns: Namespace;
    parentNs: Namespace;
    parent: string;
    name: string;
    mac?: string;
    linkGroup: number;
    up: boolean;
    alias?: string;
    options: Record<string, string>;
  }): Promise<Link>;
}

export class StackedDriver implements NetworkDriver {
  readonly foreignEndpoints = true;
  readonly features: DriverFeatures = { ipam: true, dns: true, publish: false, predefined: false, gateway: 'external', isolated: false };
  readonly name: string;

  constructor(private readonly k: StackedKind) {
    this.name = k.kind;
  }

  options(raw: Record<string, unknown>): CheckedOptions {
    const r = new OptionReader(raw, this.name);
    const parent = r.string(['parent'], (v, arg) => validate.ifname(v, arg));
    if (parent === undefined) throw Object.assign(new TypeError(`options.parent is required for a ${this.name} network (the interface it sits on)`), { code: 'ERR_INVALID_ARG_TYPE' });
    r.out.parent = parent;
    this.k.readOptions(r);
    return r.done();
  }

  linkName(net: NetworkRecord): string {
    return linkNames.anchor(net.id);
  }

  async create(net: NetworkRecord, tag: string, ctx: DriverContext): Promise<void> {
    await getLink(net.options.parent, { ns: net.ns }); // ENODEV naming the parent before anything is made
    const name = this.linkName(net);
    const anchor = await this.k.create({ ns: net.ns, parentNs: net.ns, parent: net.options.parent, name, linkGroup: groupOf(net.slot, 'infra'), up: false, options: net.options });
    net.link = { name, index: anchor.index };
    try {
      await setAlias(net.ns, anchor.index, tag, ctx.operation);
    } catch (e) {
      await deleteGroups(net.ns, [groupOf(net.slot, 'infra')], ctx.operation).catch(() => {});
      net.link = undefined;
      throw e;
    }
  }

  async remove(net: NetworkRecord, endpoints: EndpointState[], ctx: DriverContext): Promise<void> {
    await this.disconnect(net, endpoints, { operation: ctx.operation, all: true });
    await deleteGroups(net.ns, [groupOf(net.slot, 'infra')], ctx.operation);
  }

  async connect(net: NetworkRecord, req: ConnectRequest): Promise<EndpointState> {
    const { operation, tag } = req;
    const link = await this.k.create({
      ns: req.ns,
      parentNs: net.ns,
      parent: net.options.parent,
      name: req.ifname,
      ...(this.k.ownMac ? { mac: req.mac ?? macFromIp(req.ip!) } : {}),
      linkGroup: groupOf(net.slot, 'endpoints'),
      up: true,
      alias: pendingOf(req.tagText),
      options: net.options,
    });
    try {
      const inside = await configureInside(
        {
          ns: req.ns,
          index: link.index,
          cidr: `${req.ip}/${net.prefixLength}`,
          gateway: req.defaultRoute && net.gateway !== undefined && !net.internal ? net.gateway : undefined,
          loopback: req.loopback,
          up: false,
        },
        operation,
      );
      await setAlias(req.ns, link.index, req.tagText, operation);
      return { tag, ns: req.ns, ownsNs: false, peerIndex: link.index, defaultRoute: inside.defaultRoute };
    } catch (e) {
      await deleteLink(link.index, { ns: req.ns }).catch(() => {});
      throw e;
    }
  }

  /** Endpoints whose namespace cannot be opened any more are skipped: their link went with it. */
  async disconnect(_net: NetworkRecord, endpoints: EndpointState[], _opts: { operation: string; all?: boolean }): Promise<void> {
    const results = await Promise.allSettled(
      endpoints.map(async (ep) => {
        if (!ep.ns || ep.ns.fd < 0) return;
        await deleteLink(ep.peerIndex ?? ep.tag.ifname, { ns: ep.ns }).catch((e: { code?: string }) => {
          if (e.code !== 'ENODEV') throw e;
        });
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  describe(_net: NetworkRecord, ep: EndpointState): { interface: string; mac?: string } {
    const t = ep.tag;
    // ipvlan endpoints use the parent's MAC.
    return { interface: t.ifname, ...(this.k.ownMac && (t.mac || t.ip) ? { mac: t.mac ?? macFromIp(t.ip!) } : {}) };
  }

  endpointsOf(net: NetworkRecord, snap: Snapshot): { tag: EndpointTag; link: Link; ns?: Namespace }[] {
    return snap.foreign.get(net.id) ?? [];
  }

  async verify(net: NetworkRecord, snap: Snapshot): Promise<string[]> {
    const anchor = snap.networks.get(net.id)?.link;
    if (!anchor) return [`anchor ${this.linkName(net)} is missing`];
    const parent = anchor.link === undefined ? undefined : snap.byIndex.get(anchor.link);
    if (!parent) return [`parent interface ${net.options.parent} is gone`];
    const problems: string[] = [];
    if (parent.name !== net.options.parent) problems.push(`the anchor sits on ${parent.name}, not ${net.options.parent}`);
    if (!parent.flags.up) problems.push(`parent interface ${parent.name} is down`);
    return problems;
  }

  async verifyEndpoint(net: NetworkRecord, ep: EndpointState): Promise<string[]> {
    if (!ep.ns || ep.ns.fd < 0) return ['no handle on the container namespace: cannot check it'];
    try {
      const [links, addrs] = await Promise.all([listLinks({ ns: ep.ns }), listAddresses({ ns: ep.ns, family: 'inet' })]);
      const link = links.find((l) => l.index === ep.peerIndex) ?? links.find((l) => l.name === ep.tag.ifname);
      if (!link) return [`${ep.tag.ifname} is gone from the container`];
      const problems: string[] = [];
      const tag = decodeTag(link.alias);
      if (!tag || tag.kind !== 'e' || tag.id !== ep.tag.id) problems.push(`${link.name} does not carry the endpoint's committed tag`);
      if (link.kind !== this.name) problems.push(`${link.name} is a ${link.kind ?? 'device'}, not a ${this.name}`);
      if (!link.flags.up) problems.push(`${link.name} is down`);
      if (ep.tag.ip && !addrs.some((a) => a.ifindex === link.index && a.address === ep.tag.ip && a.prefix === net.prefixLength)) {
        problems.push(`${link.name} lacks ${ep.tag.ip}/${net.prefixLength}`);
      }
      return problems;
    } catch (e) {
      return [`cannot read the container's namespace: ${(e as Error).message}`];
    }
  }
}

registerNetworkDriver(
  new StackedDriver({
    kind: 'macvlan',
    ownMac: true,
    readOptions(r) {
      const mode = r.string(['mode', 'macvlan_mode'], (v, arg) => validate.oneOf(v, MACVLAN_MODES, arg));
      r.out.mode = mode ?? 'bridge';
    },
    create: (o) =>
      createMacvlan({
        ns: o.ns,
        parentNs: o.parentNs,
        parent: o.parent,
        name: o.name,
        mode: o.options.mode as (typeof MACVLAN_MODES)[number],
        linkGroup: o.linkGroup,
        up: o.up,
        ...(o.mac ? { mac: o.mac } : {}),
        ...(o.alias !== undefined ? { alias: o.alias } : {}),
      }),
  }),
);
