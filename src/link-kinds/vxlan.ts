// vxlan: `ip link add <name> type vxlan id <vni> [local A] [remote B | group G dev D] [dstport P] ...`.
import { checkKeys, commonCreate, createLinkRequest, kindRequest, indexOf, linkTarget, type CreateLinkOptions, type Link, type LinkRef } from '../link.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { AF_INET, ipFamily } from '../wire/address.js';
import { isMulticast, VXLAN_DF } from '../wire/link-kinds/vxlan.js';

export interface VxlanOptions extends CreateLinkOptions {
  /** VXLAN network identifier, 0..16777215. */
  vni: number;
  /** Source address of the tunnel. */
  local?: string;
  /** Unicast remote endpoint (exclusive with group). */
  remote?: string;
  /** Multicast group (exclusive with remote); the kernel wants `parent` with it. */
  group?: string;
  /** UDP destination port; default 4789 (IANA; the kernel's own default is 8472). */
  dstport?: number;
  /** UDP source port range [low, high]. */
  srcPortRange?: [number, number];
  /** FDB learning (kernel default on). */
  learning?: boolean;
  /** Underlay device (IFLA_VXLAN_LINK); a name costs one lookup first. */
  parent?: LinkRef;
  /** Outer TTL 1..255, or "inherit" from the inner packet. */
  ttl?: number | 'inherit';
  tos?: number;
  /** FDB ageing in seconds. */
  ageing?: number;
  /** Maximum FDB entries (0 = unlimited). */
  limit?: number;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  udpCsum?: boolean;
  /** External control plane (collect metadata): `ip ... vxlan external`. */
  external?: boolean;
  df?: (typeof VXLAN_DF)[number];
  /** IPv6 flow label 0..0xfffff. */
  label?: number;
}

const OWN = ['vni', 'local', 'remote', 'group', 'dstport', 'srcPortRange', 'learning', 'parent', 'ttl', 'tos', 'ageing', 'limit', 'proxy', 'l2miss', 'l3miss', 'udpCsum', 'external', 'df', 'label'];

/**
 * Creates a vxlan device in one request (a parent given by name costs one
 * lookup first).
 *
 * `ip link add <name> type vxlan id <vni> [local A] [remote B | group G] [dev D] [dstport P] [srcport L H] [nolearning] [ttl N|inherit] ...`
 */
export async function createVxlan(opts: VxlanOptions): Promise<Link<'vxlan'>> {
  checkKeys(opts, OWN, 'createVxlan');
  const common = commonCreate(opts);
  const info: Record<string, unknown> = { id: validate.uint(opts.vni, 'vni', 0xffffff) };
  let family = 0;
  const addr = (v: unknown, arg: string): string => {
    const a = validate.ip(v, arg);
    const f = ipFamily(a);
    if (family && f !== family) throw new TypeError(`${arg} ${a} is not of the same address family as the other vxlan addresses`);
    family = f;
    return a;
  };
  if (opts.remote !== undefined && opts.group !== undefined) throw new TypeError('remote and group are exclusive: a vxlan has a unicast remote or a multicast group');
  if (opts.remote !== undefined) {
    const r = addr(opts.remote, 'remote');
    if (isMulticast(r)) throw new TypeError(`remote ${r} is a multicast address: use group`);
    info[family === AF_INET ? 'group' : 'group6'] = r;
  }
  if (opts.group !== undefined) {
    const g = addr(opts.group, 'group');
    if (!isMulticast(g)) throw new TypeError(`group ${g} is not a multicast address: use remote`);
    info[family === AF_INET ? 'group' : 'group6'] = g;
  }
  if (opts.local !== undefined) {
    const l = addr(opts.local, 'local');
    info[family === AF_INET ? 'local' : 'local6'] = l;
  }
  info.port = validate.port(opts.dstport ?? 4789, 'dstport');
  if (opts.srcPortRange !== undefined) {
    const r = opts.srcPortRange;
    if (!Array.isArray(r) || r.length !== 2) throw new TypeError('srcPortRange must be [low, high]');
    const low = validate.port(r[0], 'srcPortRange[0]');
    const high = validate.port(r[1], 'srcPortRange[1]');
    if (low > high) throw new RangeError(`srcPortRange [${low}, ${high}] is empty`);
    const b = Buffer.alloc(4);
    b.writeUInt16BE(low, 0);
    b.writeUInt16BE(high, 2);
    info.portRange = b;
  }
  if (opts.ttl === 'inherit') info.ttlInherit = Buffer.alloc(0);
  else if (opts.ttl !== undefined) info.ttl = validate.uint(opts.ttl, 'ttl', 255, 1);
  if (opts.tos !== undefined) info.tos = validate.uint(opts.tos, 'tos', 255);
  if (opts.ageing !== undefined) info.ageing = validate.uint(opts.ageing, 'ageing');
  if (opts.limit !== undefined) info.limit = validate.uint(opts.limit, 'limit');
  if (opts.label !== undefined) info.label = validate.uint(opts.label, 'label', 0xfffff);
  if (opts.df !== undefined) info.df = VXLAN_DF.indexOf(validate.oneOf(opts.df, VXLAN_DF, 'df'));
  const flags = { learning: 'learning', proxy: 'proxy', l2miss: 'l2miss', l3miss: 'l3miss', udpCsum: 'udpCsum', external: 'collectMetadata' } as const;
  for (const [opt, key] of Object.entries(flags)) {
    const v = (opts as unknown as Record<string, unknown>)[opt];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new TypeError(`${opt} must be a boolean`);
    info[key] = v ? 1 : 0;
  }
  const ns = Namespace.of(opts?.ns);
  const parent = opts.parent === undefined ? undefined : linkTarget(opts.parent, 'parent');
  if (parent) info.link = await indexOf(parent, ns, 'createVxlan');
  const link = await createLinkRequest({ ns, ...kindRequest(common, opts.name, 'vxlan', info, 'createVxlan') });
  return link as Link<'vxlan'>;
}
