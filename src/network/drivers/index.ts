// The built-in network drivers; each file registers itself.
import './bridge.js';
import './overlay.js';
import './macvlan.js';
import './ipvlan.js';
import './predefined.js';

export { networkDriver, networkDriverNames, registerNetworkDriver, OptionReader } from './registry.js';
export { DEFAULT_NETWORK, BridgeDriver } from './bridge.js';
export { OverlayDriver, OVERLAY_MTU } from './overlay.js';
export { StackedDriver, type StackedKind } from './macvlan.js';
export type * from './types.js';
