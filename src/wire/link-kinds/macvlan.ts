// macvlan and macvtap share one table: IFLA_MACVLAN_* (linux/if_link.h).
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { IFLA_MACVLAN_UNSPEC, IFLA_MACVLAN_MODE, ... }
export const IFLA_MACVLAN_MODE = 1;
export const IFLA_MACVLAN_FLAGS = 2;
export const IFLA_MACVLAN_MACADDR_MODE = 3;
export const IFLA_MACVLAN_MACADDR = 4;
export const IFLA_MACVLAN_MACADDR_DATA = 5;
export const IFLA_MACVLAN_MACADDR_COUNT = 6;
export const IFLA_MACVLAN_BC_QUEUE_LEN = 7;
export const IFLA_MACVLAN_BC_QUEUE_LEN_USED = 8;
export const IFLA_MACVLAN_BC_CUTOFF = 9;

// enum macvlan_mode
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;
// MACVLAN_FLAG_*
export const MACVLAN_FLAG_NOPROMISC = 1;
export const MACVLAN_FLAG_NODST = 2;

export const macvlanData = schema('macvlan', {
  mode: [IFLA_MACVLAN_MODE, 'u32'],
  flags: [IFLA_MACVLAN_FLAGS, 'u16'],
  macaddrMode: [IFLA_MACVLAN_MACADDR_MODE, 'u32'],
  macaddr: [IFLA_MACVLAN_MACADDR, 'mac'],
  macaddrData: [IFLA_MACVLAN_MACADDR_DATA, 'binary'],
  macaddrCount: [IFLA_MACVLAN_MACADDR_COUNT, 'u32'],
  bcQueueLen: [IFLA_MACVLAN_BC_QUEUE_LEN, 'u32'],
  bcQueueLenUsed: [IFLA_MACVLAN_BC_QUEUE_LEN_USED, 'u32'],
  bcCutoff: [IFLA_MACVLAN_BC_CUTOFF, 's32'],
} as const);

export interface MacvlanInfo {
  mode?: MacvlanMode | number;
  /** MACVLAN_FLAG_NOPROMISC (passthru without promiscuous mode), MACVLAN_FLAG_NODST. */
  flags?: number;
  macaddrCount?: number;
  bcQueueLen?: number;
  bcQueueLenUsed?: number;
  bcCutoff?: number;
  unknown?: Decoded<typeof macvlanData.defs>['unknown'];
}

declare module './registry.js' {
  interface LinkInfoByKind {
    macvlan: MacvlanInfo;
    macvtap: MacvlanInfo;
  }
}

const MODE_NAMES = new Map<number, MacvlanMode>(Object.entries(MACVLAN_MODES).map(([k, v]) => [v, k as MacvlanMode]));

function decode(r: Decoded<typeof macvlanData.defs>): MacvlanInfo {
  const out: MacvlanInfo = {};
  if (r.mode !== undefined) out.mode = MODE_NAMES.get(r.mode) ?? r.mode;
  if (r.flags !== undefined) out.flags = r.flags;
  if (r.macaddrCount !== undefined) out.macaddrCount = r.macaddrCount;
  if (r.bcQueueLen !== undefined) out.bcQueueLen = r.bcQueueLen;
  if (r.bcQueueLenUsed !== undefined) out.bcQueueLenUsed = r.bcQueueLenUsed;
  if (r.bcCutoff !== undefined) out.bcCutoff = r.bcCutoff;
  if (r.unknown) out.unknown = r.unknown;
  return out;
}

registerLinkKind({ kind: 'macvlan', data: macvlanData, decode });
registerLinkKind({ kind: 'macvtap', data: macvlanData, decode });
