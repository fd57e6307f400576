// veth pairs: `ip link add <name> type veth peer name <peer> [netns <ns>]`.
import { commonCreate, checkKeys, createLinkRequest, kindRequest, nsFdOf, setLink, type CreateLinkOptions, type Link } from '../link.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import type { LinkAttrs } from '../wire/link.js';

export interface VethPairOptions extends CreateLinkOptions {
  /** The other end: its name and the namespace it is born in (default: the same as the link's). */
  peer: { name: string; ns?: Namespace };
  /** MAC of the peer (the kernel picks a random one otherwise). */
  peerMac?: string;
}

export interface VethPair {
  /** The end created in `ns`, as the kernel reported it. */
  link: Link<'veth'>;
  /** The other end: index in its own namespace. */
  peer: { name: string; index: number; ns: Namespace };
}

/**
 * Creates a veth pair in ONE request: the peer's ifinfomsg, name and
 * namespace travel in VETH_INFO_PEER, so the peer is born inside another
 * namespace under its final name (say `eth0`, even if `ns` has an `eth0`).
 * `mtu`, `linkGroup`, `txQueues` and `rxQueues` apply to both ends. `up`
 * brings up both: the link in the create request, the peer right after in
 * its namespace (IFF_UP on the peer inside the create fails with
 * ENOTCONN); if that fails the pair is deleted. The kernel creates both
 * ends or neither.
 *
 * `ip link add <name> [mtu N] [address MAC] [numtxqueues N numrxqueues N] type veth peer name <peer> [netns <ns>] [address MAC] [numtxqueues N numrxqueues N]`
 */
export async function createVethPair(opts: VethPairOptions): Promise<VethPair> {
  checkKeys(opts, ['peer', 'peerMac'], 'createVethPair');
  const common = commonCreate(opts);
  if (!opts.peer || typeof opts.peer !== 'object') throw new TypeError('peer must be an object { name, ns? }');
  for (const k of Object.keys(opts.peer)) if (k !== 'name' && k !== 'ns') throw new TypeError(`peer: unknown option ${JSON.stringify(k)} (known: name, ns)`);
  const peerName = validate.ifname(opts.peer.name, 'peer.name');
  if (peerName === opts.name && !opts.peer.ns) throw new TypeError(`peer.name ${JSON.stringify(peerName)} is the link's own name in the same namespace`);
  if (opts.peer.ns !== undefined && !(opts.peer.ns instanceof Namespace)) throw new TypeError('peer.ns must be a Namespace');
  const ns = Namespace.of(opts?.ns);
  const peerNs = opts.peer.ns ?? ns;
  const peerAttrs: LinkAttrs = { ifname: peerName };
  if (common.attrs.mtu !== undefined) peerAttrs.mtu = common.attrs.mtu;
  if (opts.peerMac !== undefined) peerAttrs.address = validate.mac(opts.peerMac, 'peerMac');
  if (common.attrs.group !== undefined) peerAttrs.group = common.attrs.group;
  if (peerNs !== ns) peerAttrs.netNsFd = nsFdOf(peerNs);
  if (common.attrs.numTxQueues !== undefined) peerAttrs.numTxQueues = common.attrs.numTxQueues;
  if (common.attrs.numRxQueues !== undefined) peerAttrs.numRxQueues = common.attrs.numRxQueues;

  const link = await createLinkRequest({
    ns,
    ...kindRequest(common, opts.name, 'veth', { peer: { attrs: peerAttrs } }, 'createVethPair'),
    subject: `${opts.name} (peer ${peerName})`,
    // IFLA_LINK of the new link is the peer's index (in the peer's namespace).
    after: opts.up ? (l) => setLink(l.link || peerName, { up: true }, { ns: peerNs }, 'createVethPair') : undefined,
  });
  return { link: link as Link<'veth'>, peer: { name: peerName, index: link.link ?? 0, ns: peerNs } };
}
