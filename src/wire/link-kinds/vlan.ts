// 802.1Q / 802.1ad vlan: IFLA_VLAN_* (linux/if_link.h).
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { IFLA_VLAN_UNSPEC, IFLA_VLAN_ID, IFLA_VLAN_FLAGS, IFLA_VLAN_EGRESS_QOS, IFLA_VLAN_INGRESS_QOS, IFLA_VLAN_PROTOCOL }
export const IFLA_VLAN_ID = 1;
export const IFLA_VLAN_FLAGS = 2;
export const IFLA_VLAN_EGRESS_QOS = 3;
export const IFLA_VLAN_INGRESS_QOS = 4;
export const IFLA_VLAN_PROTOCOL = 5;

export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const VLAN_PROTOCOL_IDS = { '802.1Q': ETH_P_8021Q, '802.1ad': ETH_P_8021AD } as const;
export type VlanProtocol = keyof typeof VLAN_PROTOCOL_IDS;

export const vlanData = schema('vlan', {
  id: [IFLA_VLAN_ID, 'u16'],
  // struct ifla_vlan_flags { __u32 flags; __u32 mask; }
  flags: [IFLA_VLAN_FLAGS, 'binary'],
  egressQos: [IFLA_VLAN_EGRESS_QOS, 'binary'],
  ingressQos: [IFLA_VLAN_INGRESS_QOS, 'binary'],
  protocol: [IFLA_VLAN_PROTOCOL, 'be16'],
} as const);

export interface VlanInfo {
  id?: number;
  protocol?: VlanProtocol | number;
  /** VLAN_FLAG_* (reorder_hdr 1, gvrp 2, loose_binding 4, mvrp 8, bridge_binding 16). */
  flags?: number;
  unknown?: Decoded<typeof vlanData.defs>['unknown'];
}

declare module './registry.js' {
  interface LinkInfoByKind {
    vlan: VlanInfo;
  }
}

registerLinkKind({
  kind: 'vlan',
  data: vlanData,
  decode(r: Decoded<typeof vlanData.defs>): VlanInfo {
    const out: VlanInfo = {};
    if (r.id !== undefined) out.id = r.id;
    if (r.protocol !== undefined) out.protocol = r.protocol === ETH_P_8021Q ? '802.1Q' : r.protocol === ETH_P_8021AD ? '802.1ad' : r.protocol;
    if (r.flags && r.flags.length >= 4) out.flags = r.flags.readUInt32LE(0);
    if (r.unknown) out.unknown = r.unknown;
    return out;
  },
});
