// Loads every link kind's wire table into the registry. Adding a kind is one
// file plus one line here.
import './veth.js';
import './bridge.js';
import './macvlan.js';
import './ipvlan.js';
import './vxlan.js';
import './vlan.js';
import './tun.js';
import './dummy.js';

export { linkKind, registeredLinkKinds, registerLinkKind, type LinkInfoByKind, type LinkKindWire, type PortInfoByKind } from './registry.js';
export type { VethInfo, VethPeerRequest } from './veth.js';
export type { BridgeInfo, BridgePortInfo, BridgePortState } from './bridge.js';
export type { MacvlanInfo, MacvlanMode } from './macvlan.js';
export type { IpvlanInfo, IpvlanMode, IpvlanFlag } from './ipvlan.js';
export type { VxlanInfo } from './vxlan.js';
export type { VlanInfo, VlanProtocol } from './vlan.js';
export type { TunInfo } from './tun.js';
export type { DummyInfo } from './dummy.js';
