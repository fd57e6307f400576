// netweave: Linux container networking for Node.js over rtnetlink and
// nftables. Every call is async and works in any network namespace.
export { NetlinkError, NetlinkParseError } from './errors.js';
export { Namespace, sysctlPath } from './namespace.js';
export { NamespaceServer, openSocketIn, type ConnectOptions, type DgramOptions, type ListenOptions } from './ns-socket.js';
export { NetlinkSocket, Subscription, checkAcks, type Reply, type RequestOptions } from './engine.js';
export * as wire from './wire/index.js';
