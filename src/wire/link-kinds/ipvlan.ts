// ipvlan and ipvtap: IFLA_IPVLAN_* (linux/if_link.h).
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { IFLA_IPVLAN_UNSPEC, IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS }
export const IFLA_IPVLAN_MODE = 1;
export const IFLA_IPVLAN_FLAGS = 2;

// enum ipvlan_mode { IPVLAN_MODE_L2 = 0, IPVLAN_MODE_L3, IPVLAN_MODE_L3S }
export const IPVLAN_MODES = ['l2', 'l3', 'l3s'] as const;
export type IpvlanMode = (typeof IPVLAN_MODES)[number];
// IPVLAN_F_PRIVATE 0x01, IPVLAN_F_VEPA 0x02; neither = bridge
export const IPVLAN_FLAGS = { bridge: 0, private: 1, vepa: 2 } as const;
export type IpvlanFlag = keyof typeof IPVLAN_FLAGS;

export const ipvlanData = schema('ipvlan', {
  mode: [IFLA_IPVLAN_MODE, 'u16'],
  flags: [IFLA_IPVLAN_FLAGS, 'u16'],
} as const);

export interface IpvlanInfo {
  mode?: IpvlanMode | number;
  flags?: IpvlanFlag | number;
  unknown?: Decoded<typeof ipvlanData.defs>['unknown'];
}

declare module './registry.js' {
  interface LinkInfoByKind {
    ipvlan: IpvlanInfo;
    ipvtap: IpvlanInfo;
  }
}

const FLAG_NAMES = new Map<number, IpvlanFlag>(Object.entries(IPVLAN_FLAGS).map(([k, v]) => [v, k as IpvlanFlag]));

function decode(r: Decoded<typeof ipvlanData.defs>): IpvlanInfo {
  const out: IpvlanInfo = {};
  if (r.mode !== undefined) out.mode = IPVLAN_MODES[r.mode] ?? r.mode;
  if (r.flags !== undefined) out.flags = FLAG_NAMES.get(r.flags) ?? r.flags;
  if (r.unknown) out.unknown = r.unknown;
  return out;
}

registerLinkKind({ kind: 'ipvlan', data: ipvlanData, decode });
registerLinkKind({ kind: 'ipvtap', data: ipvlanData, decode });
