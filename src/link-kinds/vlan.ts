// 802.1Q / 802.1ad vlans: `ip link add <name> link <parent> type vlan id <id> [protocol 802.1ad]`.
import { checkKeys, commonCreate, createStackedKind, type CreateLinkOptions, type Link, type LinkRef } from '../link.js';
import { Namespace } from '../namespace.js';
import * as validate from '../validate.js';
import { VLAN_PROTOCOL_IDS, type VlanProtocol } from '../wire/link-kinds/vlan.js';

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
  const link = await createStackedKind(opts, common, 'vlan', info, 'createVlan');
  return link as Link<'vlan'>;
}
