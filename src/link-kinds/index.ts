// The link kinds' create functions, one file per kind. Their wire tables
// register themselves in src/wire/link-kinds/ (loaded by src/link.ts).
export { createVethPair, type VethPair, type VethPairOptions } from './veth.js';
export {
  attachToBridge,
  createBridge,
  detachFromBridge,
  listBridgePorts,
  type AttachOptions,
  type BridgeOptions,
  type BridgePort,
} from './bridge.js';
export { createMacvlan, type MacvlanOptions } from './macvlan.js';
export { createIpvlan, type IpvlanOptions } from './ipvlan.js';
export { createVxlan, type VxlanOptions } from './vxlan.js';
export { createVlan, type VlanOptions } from './vlan.js';
export { createDummy } from './dummy.js';
export { createTuntap, type TuntapOptions } from './tuntap.js';
export type {
  BridgeInfo,
  BridgePortInfo,
  BridgePortState,
  DummyInfo,
  IpvlanFlag,
  IpvlanInfo,
  IpvlanMode,
  MacvlanInfo,
  MacvlanMode,
  TunInfo,
  VethInfo,
  VlanInfo,
  VlanProtocol,
  VxlanInfo,
} from '../wire/link-kinds/index.js';
