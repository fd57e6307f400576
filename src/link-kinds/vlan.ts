// 802.1Q / 802.1ad vlans: `ip link add <name> link <parent> type vlan id <id> [protocol 802.1ad]`.
import { checkKeys, commonCreate, createStackedLink, linkTarget, type CreateLinkOptions, type Link, type LinkRef } from '../link.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { VLAN_PROTOCOL_IDS, type VlanProtocol } from '../wire/link-kinds/vlan.js';
import { stackNs } from './macvlan.js';

export interface VlanOptions extends CreateLinkOptions {
  parent: LinkRef;
  /** VLAN id 0..4095. */
  id: number;
  /** Default "802.1Q". */
  protocol?: VlanProtocol;
  parentNs?: Namespace;
}

/**
 * Creates a vlan sub-interface in one request (a parent given by name costs
 * one lookup first). Kernels without 8021q answer EOPNOTSUPP, reported as the
 * link kind missing.
 *
 * `ip link add <name> link <parent> type vlan id <id> [protocol 802.1Q|802.1ad]`
 */
export async function createVlan(opts: VlanOptions): Promise<Link<'vlan'>> {
  checkKeys(opts, ['parent', 'id', 'protocol', 'parentNs'], 'createVlan');
  const common = commonCreate(opts);
  const id = validate.uint(opts.id, 'id', 4095);
  const info: Record<string, number> = { id };
  if (opts.protocol !== undefined) info.protocol = VLAN_PROTOCOL_IDS[validate.oneOf(opts.protocol, ['802.1Q', '802.1ad'] as const, 'protocol')];
  const parentNs = stackNs(opts.parentNs, linkTarget(opts.parent, 'parent').ns);
  const link = await createStackedLink({
    parentNs,
    ns: opts.ns ?? parentNs,
    parent: opts.parent,
    operation: 'createVlan',
    subject: opts.name,
    req: { ifi: common.ifi, attrs: common.attrs, kind: 'vlan', info },
    masterName: common.masterName,
    alias: common.alias,
  });
  return link as Link<'vlan'>;
}
