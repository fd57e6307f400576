// bridge: IFLA_BR_* (the bridge itself) and IFLA_BRPORT_* (a port's
// IFLA_INFO_SLAVE_DATA), linux/if_link.h. Times are in the kernel's clock_t
// (1/100 s, USER_HZ) exactly as `ip -d link` prints them.
import { schema, type Decoded } from '../schema.js';
import { registerLinkKind } from './registry.js';

// enum { IFLA_BR_UNSPEC, IFLA_BR_FORWARD_DELAY, ... }
export const IFLA_BR_FORWARD_DELAY = 1;
export const IFLA_BR_HELLO_TIME = 2;
export const IFLA_BR_MAX_AGE = 3;
export const IFLA_BR_AGEING_TIME = 4;
export const IFLA_BR_STP_STATE = 5;
export const IFLA_BR_PRIORITY = 6;
export const IFLA_BR_VLAN_FILTERING = 7;
export const IFLA_BR_VLAN_PROTOCOL = 8;
export const IFLA_BR_GROUP_FWD_MASK = 9;
export const IFLA_BR_ROOT_ID = 10;
export const IFLA_BR_BRIDGE_ID = 11;
export const IFLA_BR_ROOT_PORT = 12;
export const IFLA_BR_ROOT_PATH_COST = 13;
export const IFLA_BR_TOPOLOGY_CHANGE = 14;
export const IFLA_BR_TOPOLOGY_CHANGE_DETECTED = 15;
export const IFLA_BR_HELLO_TIMER = 16;
export const IFLA_BR_TCN_TIMER = 17;
export const IFLA_BR_TOPOLOGY_CHANGE_TIMER = 18;
export const IFLA_BR_GC_TIMER = 19;
export const IFLA_BR_GROUP_ADDR = 20;
export const IFLA_BR_FDB_FLUSH = 21;
export const IFLA_BR_MCAST_ROUTER = 22;
export const IFLA_BR_MCAST_SNOOPING = 23;
export const IFLA_BR_MCAST_QUERY_USE_IFADDR = 24;
export const IFLA_BR_MCAST_QUERIER = 25;
export const IFLA_BR_MCAST_HASH_ELASTICITY = 26;
export const IFLA_BR_MCAST_HASH_MAX = 27;
export const IFLA_BR_MCAST_LAST_MEMBER_CNT = 28;
export const IFLA_BR_MCAST_STARTUP_QUERY_CNT = 29;
export const IFLA_BR_MCAST_LAST_MEMBER_INTVL = 30;
export const IFLA_BR_MCAST_MEMBERSHIP_INTVL = 31;
export const IFLA_BR_MCAST_QUERIER_INTVL = 32;
export const IFLA_BR_MCAST_QUERY_INTVL = 33;
export const IFLA_BR_MCAST_QUERY_RESPONSE_INTVL = 34;
export const IFLA_BR_MCAST_STARTUP_QUERY_INTVL = 35;
export const IFLA_BR_NF_CALL_IPTABLES = 36;
export const IFLA_BR_NF_CALL_IP6TABLES = 37;
export const IFLA_BR_NF_CALL_ARPTABLES = 38;
export const IFLA_BR_VLAN_DEFAULT_PVID = 39;
export const IFLA_BR_PAD = 40;
export const IFLA_BR_VLAN_STATS_ENABLED = 41;
export const IFLA_BR_MCAST_STATS_ENABLED = 42;
export const IFLA_BR_MCAST_IGMP_VERSION = 43;
export const IFLA_BR_MCAST_MLD_VERSION = 44;
export const IFLA_BR_VLAN_STATS_PER_PORT = 45;
export const IFLA_BR_MULTI_BOOLOPT = 46;
export const IFLA_BR_MCAST_QUERIER_STATE = 47;

export const bridgeData = schema('bridge', {
  forwardDelay: [IFLA_BR_FORWARD_DELAY, 'u32'],
  helloTime: [IFLA_BR_HELLO_TIME, 'u32'],
  maxAge: [IFLA_BR_MAX_AGE, 'u32'],
  ageingTime: [IFLA_BR_AGEING_TIME, 'u32'],
  stpState: [IFLA_BR_STP_STATE, 'u32'],
  priority: [IFLA_BR_PRIORITY, 'u16'],
  vlanFiltering: [IFLA_BR_VLAN_FILTERING, 'u8'],
  vlanProtocol: [IFLA_BR_VLAN_PROTOCOL, 'be16'],
  groupFwdMask: [IFLA_BR_GROUP_FWD_MASK, 'u16'],
  // struct ifla_bridge_id { __u8 prio[2]; __u8 addr[6]; }
  rootId: [IFLA_BR_ROOT_ID, 'binary'],
  bridgeId: [IFLA_BR_BRIDGE_ID, 'binary'],
  rootPort: [IFLA_BR_ROOT_PORT, 'u16'],
  rootPathCost: [IFLA_BR_ROOT_PATH_COST, 'u32'],
  topologyChange: [IFLA_BR_TOPOLOGY_CHANGE, 'u8'],
  topologyChangeDetected: [IFLA_BR_TOPOLOGY_CHANGE_DETECTED, 'u8'],
  helloTimer: [IFLA_BR_HELLO_TIMER, 'u64'],
  tcnTimer: [IFLA_BR_TCN_TIMER, 'u64'],
  topologyChangeTimer: [IFLA_BR_TOPOLOGY_CHANGE_TIMER, 'u64'],
  gcTimer: [IFLA_BR_GC_TIMER, 'u64'],
  groupAddr: [IFLA_BR_GROUP_ADDR, 'mac'],
  fdbFlush: [IFLA_BR_FDB_FLUSH, 'flag'],
  mcastRouter: [IFLA_BR_MCAST_ROUTER, 'u8'],
  mcastSnooping: [IFLA_BR_MCAST_SNOOPING, 'u8'],
  mcastQueryUseIfaddr: [IFLA_BR_MCAST_QUERY_USE_IFADDR, 'u8'],
  mcastQuerier: [IFLA_BR_MCAST_QUERIER, 'u8'],
  mcastHashElasticity: [IFLA_BR_MCAST_HASH_ELASTICITY, 'u32'],
  mcastHashMax: [IFLA_BR_MCAST_HASH_MAX, 'u32'],
  mcastLastMemberCnt: [IFLA_BR_MCAST_LAST_MEMBER_CNT, 'u32'],
  mcastStartupQueryCnt: [IFLA_BR_MCAST_STARTUP_QUERY_CNT, 'u32'],
  mcastLastMemberIntvl: [IFLA_BR_MCAST_LAST_MEMBER_INTVL, 'u64'],
  mcastMembershipIntvl: [IFLA_BR_MCAST_MEMBERSHIP_INTVL, 'u64'],
  mcastQuerierIntvl: [IFLA_BR_MCAST_QUERIER_INTVL, 'u64'],
  mcastQueryIntvl: [IFLA_BR_MCAST_QUERY_INTVL, 'u64'],
  mcastQueryResponseIntvl: [IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, 'u64'],
  mcastStartupQueryIntvl: [IFLA_BR_MCAST_STARTUP_QUERY_INTVL, 'u64'],
  nfCallIptables: [IFLA_BR_NF_CALL_IPTABLES, 'u8'],
  nfCallIp6tables: [IFLA_BR_NF_CALL_IP6TABLES, 'u8'],
  nfCallArptables: [IFLA_BR_NF_CALL_ARPTABLES, 'u8'],
  vlanDefaultPvid: [IFLA_BR_VLAN_DEFAULT_PVID, 'u16'],
  pad: [IFLA_BR_PAD, 'binary'],
  vlanStatsEnabled: [IFLA_BR_VLAN_STATS_ENABLED, 'u8'],
  mcastStatsEnabled: [IFLA_BR_MCAST_STATS_ENABLED, 'u8'],
  mcastIgmpVersion: [IFLA_BR_MCAST_IGMP_VERSION, 'u8'],
  mcastMldVersion: [IFLA_BR_MCAST_MLD_VERSION, 'u8'],
  vlanStatsPerPort: [IFLA_BR_VLAN_STATS_PER_PORT, 'u8'],
  // struct br_boolopt_multi { __u32 optval; __u32 optmask; }
  multiBoolopt: [IFLA_BR_MULTI_BOOLOPT, 'binary'],
  mcastQuerierState: [IFLA_BR_MCAST_QUERIER_STATE, 'binary'],
} as const);

// enum { IFLA_BRPORT_UNSPEC, IFLA_BRPORT_STATE, ... }
export const IFLA_BRPORT_STATE = 1;
export const IFLA_BRPORT_PRIORITY = 2;
export const IFLA_BRPORT_COST = 3;
export const IFLA_BRPORT_MODE = 4;
export const IFLA_BRPORT_GUARD = 5;
export const IFLA_BRPORT_PROTECT = 6;
export const IFLA_BRPORT_FAST_LEAVE = 7;
export const IFLA_BRPORT_LEARNING = 8;
export const IFLA_BRPORT_UNICAST_FLOOD = 9;
export const IFLA_BRPORT_PROXYARP = 10;
export const IFLA_BRPORT_LEARNING_SYNC = 11;
export const IFLA_BRPORT_PROXYARP_WIFI = 12;
export const IFLA_BRPORT_ROOT_ID = 13;
export const IFLA_BRPORT_BRIDGE_ID = 14;
export const IFLA_BRPORT_DESIGNATED_PORT = 15;
export const IFLA_BRPORT_DESIGNATED_COST = 16;
export const IFLA_BRPORT_ID = 17;
export const IFLA_BRPORT_NO = 18;
export const IFLA_BRPORT_TOPOLOGY_CHANGE_ACK = 19;
export const IFLA_BRPORT_CONFIG_PENDING = 20;
export const IFLA_BRPORT_MESSAGE_AGE_TIMER = 21;
export const IFLA_BRPORT_FORWARD_DELAY_TIMER = 22;
export const IFLA_BRPORT_HOLD_TIMER = 23;
export const IFLA_BRPORT_FLUSH = 24;
export const IFLA_BRPORT_MULTICAST_ROUTER = 25;
export const IFLA_BRPORT_PAD = 26;
export const IFLA_BRPORT_MCAST_FLOOD = 27;
export const IFLA_BRPORT_MCAST_TO_UCAST = 28;
export const IFLA_BRPORT_VLAN_TUNNEL = 29;
export const IFLA_BRPORT_BCAST_FLOOD = 30;
export const IFLA_BRPORT_GROUP_FWD_MASK = 31;
export const IFLA_BRPORT_NEIGH_SUPPRESS = 32;
export const IFLA_BRPORT_ISOLATED = 33;
export const IFLA_BRPORT_BACKUP_PORT = 34;
export const IFLA_BRPORT_MRP_RING_OPEN = 35;
export const IFLA_BRPORT_MRP_IN_OPEN = 36;
export const IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT = 37;
export const IFLA_BRPORT_MCAST_EHT_HOSTS_CNT = 38;
export const IFLA_BRPORT_LOCKED = 39;
// Newer than these uapi headers; seen from kernel 6.18.
export const IFLA_BRPORT_MAB = 40;
export const IFLA_BRPORT_MCAST_N_GROUPS = 41;
export const IFLA_BRPORT_MCAST_MAX_GROUPS = 42;
export const IFLA_BRPORT_NEIGH_VLAN_SUPPRESS = 43;
export const IFLA_BRPORT_BACKUP_NHID = 44;

export const bridgePortData = schema('bridge port', {
  state: [IFLA_BRPORT_STATE, 'u8'],
  priority: [IFLA_BRPORT_PRIORITY, 'u16'],
  cost: [IFLA_BRPORT_COST, 'u32'],
  hairpin: [IFLA_BRPORT_MODE, 'u8'],
  guard: [IFLA_BRPORT_GUARD, 'u8'],
  protect: [IFLA_BRPORT_PROTECT, 'u8'],
  fastLeave: [IFLA_BRPORT_FAST_LEAVE, 'u8'],
  learning: [IFLA_BRPORT_LEARNING, 'u8'],
  unicastFlood: [IFLA_BRPORT_UNICAST_FLOOD, 'u8'],
  proxyArp: [IFLA_BRPORT_PROXYARP, 'u8'],
  learningSync: [IFLA_BRPORT_LEARNING_SYNC, 'u8'],
  proxyArpWifi: [IFLA_BRPORT_PROXYARP_WIFI, 'u8'],
  rootId: [IFLA_BRPORT_ROOT_ID, 'binary'],
  bridgeId: [IFLA_BRPORT_BRIDGE_ID, 'binary'],
  designatedPort: [IFLA_BRPORT_DESIGNATED_PORT, 'u16'],
  designatedCost: [IFLA_BRPORT_DESIGNATED_COST, 'u16'],
  id: [IFLA_BRPORT_ID, 'u16'],
  no: [IFLA_BRPORT_NO, 'u16'],
  topologyChangeAck: [IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, 'u8'],
  configPending: [IFLA_BRPORT_CONFIG_PENDING, 'u8'],
  messageAgeTimer: [IFLA_BRPORT_MESSAGE_AGE_TIMER, 'u64'],
  forwardDelayTimer: [IFLA_BRPORT_FORWARD_DELAY_TIMER, 'u64'],
  holdTimer: [IFLA_BRPORT_HOLD_TIMER, 'u64'],
  flush: [IFLA_BRPORT_FLUSH, 'flag'],
  multicastRouter: [IFLA_BRPORT_MULTICAST_ROUTER, 'u8'],
  pad: [IFLA_BRPORT_PAD, 'binary'],
  mcastFlood: [IFLA_BRPORT_MCAST_FLOOD, 'u8'],
  mcastToUcast: [IFLA_BRPORT_MCAST_TO_UCAST, 'u8'],
  vlanTunnel: [IFLA_BRPORT_VLAN_TUNNEL, 'u8'],
  bcastFlood: [IFLA_BRPORT_BCAST_FLOOD, 'u8'],
  groupFwdMask: [IFLA_BRPORT_GROUP_FWD_MASK, 'u16'],
  neighSuppress: [IFLA_BRPORT_NEIGH_SUPPRESS, 'u8'],
  isolated: [IFLA_BRPORT_ISOLATED, 'u8'],
  backupPort: [IFLA_BRPORT_BACKUP_PORT, 'u32'],
  mrpRingOpen: [IFLA_BRPORT_MRP_RING_OPEN, 'u8'],
  mrpInOpen: [IFLA_BRPORT_MRP_IN_OPEN, 'u8'],
  mcastEhtHostsLimit: [IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT, 'u32'],
  mcastEhtHostsCnt: [IFLA_BRPORT_MCAST_EHT_HOSTS_CNT, 'u32'],
  locked: [IFLA_BRPORT_LOCKED, 'u8'],
  mab: [IFLA_BRPORT_MAB, 'u8'],
  mcastNGroups: [IFLA_BRPORT_MCAST_N_GROUPS, 'u32'],
  mcastMaxGroups: [IFLA_BRPORT_MCAST_MAX_GROUPS, 'u32'],
  neighVlanSuppress: [IFLA_BRPORT_NEIGH_VLAN_SUPPRESS, 'u8'],
  backupNhid: [IFLA_BRPORT_BACKUP_NHID, 'u32'],
} as const);

// BR_STATE_* (linux/if_bridge.h)
export const BRIDGE_PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'] as const;
export type BridgePortState = (typeof BRIDGE_PORT_STATES)[number];

/** ETH_P_8021Q / ETH_P_8021AD */
export const VLAN_PROTOCOLS: Record<number, '802.1Q' | '802.1ad'> = { 0x8100: '802.1Q', 0x88a8: '802.1ad' };

type NumbersFor64<T> = { [K in keyof T]: T[K] extends bigint | undefined ? number | undefined : T[K] };

export interface BridgeInfo {
  /** clock_t (1/100 s): 1500 = 15 s. */
  forwardDelay?: number;
  helloTime?: number;
  maxAge?: number;
  ageingTime?: number;
  /** 0 off, 1 kernel STP, 2 user-space STP. */
  stpState?: number;
  priority?: number;
  vlanFiltering?: boolean;
  vlanProtocol?: '802.1Q' | '802.1ad' | number;
  vlanDefaultPvid?: number;
  groupFwdMask?: number;
  /** "8000.aa:bb:cc:dd:ee:ff" (priority.address), as ip prints it. */
  rootId?: string;
  bridgeId?: string;
  rootPort?: number;
  rootPathCost?: number;
  topologyChange?: boolean;
  topologyChangeDetected?: boolean;
  helloTimer?: number;
  tcnTimer?: number;
  topologyChangeTimer?: number;
  gcTimer?: number;
  groupAddr?: string;
  mcastSnooping?: boolean;
  mcastRouter?: number;
  mcastQuerier?: boolean;
  mcastStatsEnabled?: boolean;
  nfCallIptables?: boolean;
  nfCallIp6tables?: boolean;
  nfCallArptables?: boolean;
  vlanStatsEnabled?: boolean;
  /** The rest of the table as decoded (multicast tunables, ...). */
  other: NumbersFor64<Omit<Decoded<typeof bridgeData.defs>, keyof BridgeInfo | 'pad'>>;
}

export interface BridgePortInfo {
  state?: BridgePortState | number;
  priority?: number;
  cost?: number;
  hairpin?: boolean;
  guard?: boolean;
  learning?: boolean;
  unicastFlood?: boolean;
  mcastFlood?: boolean;
  bcastFlood?: boolean;
  isolated?: boolean;
  neighSuppress?: boolean;
  /** Port number (IFLA_BRPORT_NO) and STP port id. */
  no?: number;
  id?: number;
  other: NumbersFor64<Omit<Decoded<typeof bridgePortData.defs>, keyof BridgePortInfo | 'pad'>>;
}

declare module './registry.js' {
  interface LinkInfoByKind {
    bridge: BridgeInfo;
  }
  interface PortInfoByKind {
    bridge: BridgePortInfo;
  }
}

/** struct ifla_bridge_id → "8000.02:42:ac:11:00:02" */
function bridgeId(b: Buffer | undefined): string | undefined {
  if (!b || b.length < 8) return undefined;
  return `${b.toString('hex', 0, 2)}.${[...b.subarray(2, 8)].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

const bool = (v: number | undefined): boolean | undefined => (v === undefined ? undefined : v !== 0);
const num = (v: bigint | undefined): number | undefined => (v === undefined ? undefined : Number(v));

/** The attributes not lifted into named fields; u64 clock_t values become numbers (far below 2^53). */
function take<T extends object>(raw: T, used: readonly string[]): any {
  const other: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!used.includes(k) && k !== 'pad') other[k] = typeof v === 'bigint' ? Number(v) : v;
  }
  return other;
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o)) if ((o as Record<string, unknown>)[k] === undefined) delete (o as Record<string, unknown>)[k];
  return o;
}

const BRIDGE_USED = [
  'forwardDelay', 'helloTime', 'maxAge', 'ageingTime', 'stpState', 'priority', 'vlanFiltering', 'vlanProtocol',
  'vlanDefaultPvid', 'groupFwdMask', 'rootId', 'bridgeId', 'rootPort', 'rootPathCost', 'topologyChange',
  'topologyChangeDetected', 'helloTimer', 'tcnTimer', 'topologyChangeTimer', 'gcTimer', 'groupAddr',
  'mcastSnooping', 'mcastRouter', 'mcastQuerier', 'mcastStatsEnabled', 'nfCallIptables', 'nfCallIp6tables',
  'nfCallArptables', 'vlanStatsEnabled',
] as const;

const PORT_USED = [
  'state', 'priority', 'cost', 'hairpin', 'guard', 'learning', 'unicastFlood', 'mcastFlood', 'bcastFlood',
  'isolated', 'neighSuppress', 'no', 'id',
] as const;

registerLinkKind({
  kind: 'bridge',
  data: bridgeData,
  decode(r: Decoded<typeof bridgeData.defs>): BridgeInfo {
    return strip({
      forwardDelay: r.forwardDelay,
      helloTime: r.helloTime,
      maxAge: r.maxAge,
      ageingTime: r.ageingTime,
      stpState: r.stpState,
      priority: r.priority,
      vlanFiltering: bool(r.vlanFiltering),
      vlanProtocol: r.vlanProtocol === undefined ? undefined : (VLAN_PROTOCOLS[r.vlanProtocol] ?? r.vlanProtocol),
      vlanDefaultPvid: r.vlanDefaultPvid,
      groupFwdMask: r.groupFwdMask,
      rootId: bridgeId(r.rootId),
      bridgeId: bridgeId(r.bridgeId),
      rootPort: r.rootPort,
      rootPathCost: r.rootPathCost,
      topologyChange: bool(r.topologyChange),
      topologyChangeDetected: bool(r.topologyChangeDetected),
      helloTimer: num(r.helloTimer),
      tcnTimer: num(r.tcnTimer),
      topologyChangeTimer: num(r.topologyChangeTimer),
      gcTimer: num(r.gcTimer),
      groupAddr: r.groupAddr,
      mcastSnooping: bool(r.mcastSnooping),
      mcastRouter: r.mcastRouter,
      mcastQuerier: bool(r.mcastQuerier),
      mcastStatsEnabled: bool(r.mcastStatsEnabled),
      nfCallIptables: bool(r.nfCallIptables),
      nfCallIp6tables: bool(r.nfCallIp6tables),
      nfCallArptables: bool(r.nfCallArptables),
      vlanStatsEnabled: bool(r.vlanStatsEnabled),
      other: take(r, BRIDGE_USED),
    });
  },
  portData: bridgePortData,
  decodePort(r: Decoded<typeof bridgePortData.defs>): BridgePortInfo {
    return strip({
      state: r.state === undefined ? undefined : (BRIDGE_PORT_STATES[r.state] ?? r.state),
      priority: r.priority,
      cost: r.cost,
      hairpin: bool(r.hairpin),
      guard: bool(r.guard),
      learning: bool(r.learning),
      unicastFlood: bool(r.unicastFlood),
      mcastFlood: bool(r.mcastFlood),
      bcastFlood: bool(r.bcastFlood),
      isolated: bool(r.isolated),
      neighSuppress: bool(r.neighSuppress),
      no: r.no,
      id: r.id,
      other: take(r, PORT_USED),
    });
  },
});
