// tun/tap (decode only: creating one needs /dev/net/tun, not rtnetlink): IFLA_TUN_* (linux/if_link.h).
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { IFLA_TUN_UNSPEC, IFLA_TUN_OWNER, ... }
export const tunData = schema('tun', {
  owner: [1, 'u32'],
  group: [2, 'u32'],
  type: [3, 'u8'],
  pi: [4, 'u8'],
  vnetHdr: [5, 'u8'],
  persist: [6, 'u8'],
  multiQueue: [7, 'u8'],
  numQueues: [8, 'u32'],
  numDisabledQueues: [9, 'u32'],
} as const);

export interface TunInfo {
  /** IFF_TUN (1) → "tun", IFF_TAP (2) → "tap". */
  type?: 'tun' | 'tap' | number;
  owner?: number;
  group?: number;
  pi?: boolean;
  vnetHdr?: boolean;
  persist?: boolean;
  multiQueue?: boolean;
  numQueues?: number;
  numDisabledQueues?: number;
  unknown?: Decoded<typeof tunData.defs>['unknown'];
}

declare module './registry.js' {
  interface LinkInfoByKind {
    tun: TunInfo;
  }
}

registerLinkKind({
  kind: 'tun',
  data: tunData,
  decode(r: Decoded<typeof tunData.defs>): TunInfo {
    const out: TunInfo = {};
    if (r.type !== undefined) out.type = r.type === 1 ? 'tun' : r.type === 2 ? 'tap' : r.type;
    if (r.owner !== undefined) out.owner = r.owner;
    if (r.group !== undefined) out.group = r.group;
    for (const k of ['pi', 'vnetHdr', 'persist', 'multiQueue'] as const) if (r[k] !== undefined) out[k] = r[k] !== 0;
    if (r.numQueues !== undefined) out.numQueues = r.numQueues;
    if (r.numDisabledQueues !== undefined) out.numDisabledQueues = r.numDisabledQueues;
    if (r.unknown) out.unknown = r.unknown;
    return out;
  },
});
