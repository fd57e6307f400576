// tun/tap: `ip tuntap add dev <name> mode tun|tap [user U] [group G] [pi] [vnet_hdr] [multi_queue]`.
// Not an rtnetlink create: the device is made through /dev/net/tun (TUNSETIFF),
// opened inside the target namespace on the engine thread, and made
// persistent; everything else (mtu, up, master, …) is one RTM_NEWLINK after.
import { runTask } from '../engine.js';
import { NetlinkError } from '../errors.js';
import { checkKeys, commonCreate, deleteLink, getLink, setLink, type CreateLinkOptions, type Link, type LinkChanges } from '../link.js';
import { native } from '../native.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';

// linux/if_tun.h
const IFF_TUN = 0x0001;
const IFF_TAP = 0x0002;
const IFF_MULTI_QUEUE = 0x0100;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;

export interface TuntapOptions extends CreateLinkOptions {
  /** "tun" (IP packets, no link layer) or "tap" (Ethernet frames). */
  mode: 'tun' | 'tap';
  /** The uid allowed to attach without CAP_NET_ADMIN (TUNSETOWNER); default: anyone with CAP_NET_ADMIN only. */
  owner?: number;
  /** The gid allowed to attach (TUNSETGROUP). */
  group?: number;
  /** Prefix packets with struct tun_pi (iproute2's `pi`); default off (IFF_NO_PI). */
  packetInfo?: boolean;
  /** struct virtio_net_hdr before each packet (IFF_VNET_HDR). */
  vnetHdr?: boolean;
  /** Several queues, each attached by its own descriptor (IFF_MULTI_QUEUE). */
  multiQueue?: boolean;
}

/**
 * Creates a persistent tun or tap device (`ip tuntap add`), in `ns` or the
 * current namespace. A name already in use is EEXIST. The common options
 * (mtu, mac, up, linkGroup, master, txqlen, alias) are applied in one
 * request after; if that fails the device is deleted again.
 */
export async function createTuntap(opts: TuntapOptions): Promise<Link<'tun'>> {
  const operation = 'createTuntap';
  checkKeys(opts, ['mode', 'owner', 'group', 'packetInfo', 'vnetHdr', 'multiQueue'], operation);
  const common = commonCreate(opts);
  const mode = validate.oneOf(opts.mode, ['tun', 'tap'] as const, 'mode');
  let flags = mode === 'tun' ? IFF_TUN : IFF_TAP;
  for (const [k, bit] of [['vnetHdr', IFF_VNET_HDR], ['multiQueue', IFF_MULTI_QUEUE]] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new TypeError(`${k} must be a boolean`);
    if (opts[k]) flags |= bit;
  }
  if (opts.packetInfo !== undefined && typeof opts.packetInfo !== 'boolean') throw new TypeError('packetInfo must be a boolean');
  if (!opts.packetInfo) flags |= IFF_NO_PI;
  const owner = opts.owner === undefined ? -1 : validate.uint(opts.owner, 'owner', 0xfffffffe);
  const group = opts.group === undefined ? -1 : validate.uint(opts.group, 'group', 0xfffffffe);
  const ns = Namespace.of(opts.ns);
  const name = opts.name;
  try {
    await runTask(operation, (id) => native.tuntapCreate(id, ns.nsFd, name, flags, owner, group), name);
  } catch (e) {
    if (e instanceof NetlinkError && e.code === 'ENOENT') {
      throw new NetlinkError(e.errno, operation, { subject: name, kernelMessage: '/dev/net/tun is missing: this kernel lacks tun/tap, or the device node was not created' });
    }
    if (e instanceof NetlinkError && e.code === 'EEXIST') throw new NetlinkError(e.errno, operation, { subject: name, kernelMessage: `a link named ${name} exists` });
    throw e;
  }
  const changes: LinkChanges = {};
  if (common.attrs.mtu !== undefined) changes.mtu = common.attrs.mtu;
  if (opts.mac !== undefined) changes.mac = opts.mac;
  if (common.attrs.txqlen !== undefined) changes.txqlen = common.attrs.txqlen;
  if (common.attrs.group !== undefined) changes.group = common.attrs.group;
  if (opts.master !== undefined) changes.master = opts.master;
  if (common.alias !== undefined) changes.alias = common.alias;
  if (opts.up) changes.up = true;
  try {
    if (Object.keys(changes).length) await setLink(name, changes, { ns }, operation);
    return (await getLink(name, { ns })) as Link<'tun'>;
  } catch (e) {
    await deleteLink(name, { ns }).catch(() => {});
    throw e;
  }
}
