// The overlay driver: one L2 segment across hosts. Each host has a bridge
// for its containers (as the bridge driver) with a VXLAN device as one more
// port; the VXLAN device floods to every peer host through the FDB's
// all-zero entry (head-end replication: `bridge fdb append 00:00:00:00:00:00
// dev <vxlan> dst <peer>` per peer) and learns where each MAC lives. No
// multicast, no control plane: give each host the list of the others.
//
//   createNetwork({ name: 'ov', driver: 'overlay', subnet: '10.10.0.0/16', ipRange: '10.10.1.0/24',
//                   options: { vni: 42, peers: ['192.0.2.2'], local: '192.0.2.1' } })
//
// There is no shared IPAM: give each host its own ipRange of the subnet (or
// static addresses). The bridge has no address and traffic is not routed
// through the host (no masquerade, no published ports); a `gateway` given is
// a router on the segment that containers use as their default route.
// Endpoints get an MTU of 1450 (1500 minus the 50 bytes of VXLAN over IPv4)
// unless options.mtu says otherwise, and one queue pair per veth end unless
// options.queues does (as the bridge driver's).
import { appendFdb, deleteFdb, listFdb } from '../../neighbour.js';
import { createVxlan } from '../../link-kinds/index.js';
import type { Link } from '../../link.js';
import * as validate from '../../validate.js';
import type { Snapshot } from '../state.js';
import { encodeTag, groupOf, linkNames } from '../tags.js';
import { BridgeDriver } from './bridge.js';
import { OptionReader, registerNetworkDriver } from './registry.js';
import type { DriverFeatures, NetworkRecord } from './types.js';

const ZERO_MAC = '00:00:00:00:00:00';
export const OVERLAY_MTU = 1450;

export class OverlayDriver extends BridgeDriver {
  override readonly name = 'overlay';
  override readonly features: DriverFeatures = { ipam: true, dns: true, publish: false, predefined: false, gateway: 'none', isolated: false, subnetRequired: true };
  protected override moreOptions(r: OptionReader): void {
    const vni = r.int(['vni', 'com.docker.network.driver.overlay.vxlanid_list'], 1, 0xffffff);
    if (vni === undefined) throw Object.assign(new TypeError('options.vni is required for an overlay network (the same VNI on every host)'), { code: 'ERR_INVALID_ARG_TYPE' });
    r.out.vni = String(vni);
    const local = r.string(['local'], (v, arg) => validate.ip(v, arg));
    if (local !== undefined) r.out.local = local;
    const port = r.int(['dstport', 'port'], 1, 65535);
    if (port !== undefined) r.out.dstport = String(port);
    const peers = r.list(['peers']) ?? [];
    const checked = peers.map((p, i) => validate.ip(p, `options.peers[${i}]`));
    if (new Set(checked).size !== checked.length) throw Object.assign(new TypeError('options.peers lists a peer twice'), { code: 'ERR_INVALID_ARG_TYPE' });
    // Peers live in the kernel's FDB, not in the tag.
    r.extra.peers = checked;
    if (r.out.mtu === undefined) r.out.mtu = String(OVERLAY_MTU);
  }

  protected override async afterBridge(net: NetworkRecord, bridgeIndex: number): Promise<void> {
    const peers = (net.extra?.peers as string[] | undefined) ?? [];
    const vx = await createVxlan({
      ns: net.ns,
      name: linkNames.vxlan(net.id),
      vni: Number(net.options.vni),
      ...(net.options.local ? { local: net.options.local } : {}),
      ...(net.options.dstport ? { dstport: Number(net.options.dstport) } : {}),
      learning: true,
      mtu: Number(net.options.mtu),
      master: bridgeIndex,
      up: true,
      linkGroup: groupOf(net.slot, 'infra'),
      alias: encodeTag({ kind: 'x', network: net.id, role: 'vxlan' }),
    });
    await Promise.all(peers.map((dst) => appendFdb({ ns: net.ns, link: vx.index, mac: ZERO_MAC, dst })));
  }

  /** The peer hosts the VXLAN device floods to (its all-zero FDB entries). */
  async peers(net: NetworkRecord): Promise<string[]> {
    const fdb = await listFdb({ ns: net.ns, link: linkNames.vxlan(net.id) });
    return fdb.filter((e) => e.mac === ZERO_MAC && e.dst !== undefined).map((e) => e.dst!);
  }

  /** Adds and removes peer hosts: `bridge fdb append|del 00:00:00:00:00:00 dev <vxlan> dst <peer>`. */
  async setPeers(net: NetworkRecord, peers: string[]): Promise<void> {
    const want = peers.map((p, i) => validate.ip(p, `peers[${i}]`));
    const have = await this.peers(net);
    const link = linkNames.vxlan(net.id);
    await Promise.all([
      ...want.filter((p) => !have.includes(p)).map((dst) => appendFdb({ ns: net.ns, link, mac: ZERO_MAC, dst })),
      ...have.filter((p) => !want.includes(p)).map((dst) => deleteFdb({ ns: net.ns, link, mac: ZERO_MAC, dst })),
    ]);
  }

  async details(net: NetworkRecord, snap: Snapshot): Promise<Record<string, unknown>> {
    const vx = snap.aux.get(net.id)?.find((a) => a.tag.role === 'vxlan')?.link;
    return { vxlan: linkNames.vxlan(net.id), peers: vx ? await this.peers(net).catch(() => []) : [] };
  }

  protected override async verifyMore(net: NetworkRecord, snap: Snapshot, bridge: Link): Promise<string[]> {
    const vx = snap.aux.get(net.id)?.find((a) => a.tag.role === 'vxlan')?.link;
    if (!vx) return [`vxlan device ${linkNames.vxlan(net.id)} is missing`];
    const problems: string[] = [];
    if (vx.master !== bridge.index) problems.push(`vxlan device ${vx.name} is not a port of ${bridge.name}`);
    if (!vx.flags.up) problems.push(`vxlan device ${vx.name} is down`);
    const info = vx.info as { id?: number } | undefined;
    if (info?.id !== undefined && info.id !== Number(net.options.vni)) problems.push(`vxlan device ${vx.name} has VNI ${info.id}, not ${net.options.vni}`);
    return problems;
  }
}

registerNetworkDriver(new OverlayDriver());
