// netweave: Linux container networking for Node.js over rtnetlink and
// nftables. Every call is async and works in any network namespace.

// Foundation: errors, namespaces, in-namespace sockets, the raw engine.
export { NetlinkError, NetlinkParseError } from './errors.js';
export { Namespace, sysctlPath } from './namespace.js';
export { NamespaceServer, openSocketIn, probeBind, probeBindStep, type ConnectOptions, type DgramOptions, type ListenOptions } from './ns-socket.js';
export { ChainInParts, NetlinkSocket, Subscription, checkAcks, requestChain, requestChainSettled, setPollBudget, withoutPolling, type ChainNamespace, type ChainPatch, type ChainStep, type ChainTask, type Reply, type RequestOptions } from './engine.js';

// Links (`ip link`), one module per kind.
export {
  getLink,
  findLink,
  listLinks,
  isLinkKind,
  deleteLink,
  deleteLinkGroup,
  setLink,
  setLinkUp,
  setLinkDown,
  setLinkMtu,
  setLinkMac,
  setLinkName,
  setLinkAlias,
  setLinkGroup,
  setLinkMaster,
  setLinkNamespace,
  createLink,
  type Link,
  type LinkRef,
  type NsOption,
  type GetLinkOptions,
  type ListLinksOptions,
  type LinkChanges,
  type SetNamespaceOptions,
  type CreateLinkOptions,
  type GenericCreateOptions,
  type LinkFlags,
  type LinkStats,
  type Operstate,
} from './link.js';
export * from './link-kinds/index.js';
export { linkAttr } from './wire/link.js';
export { registerLinkKind } from './wire/link-kinds/index.js';

// Addresses (`ip addr`), routes (`ip route`), neighbours and FDB (`ip neigh`, `bridge fdb`), events (`ip monitor`).
export {
  addAddress,
  replaceAddress,
  deleteAddress,
  listAddresses,
  decodeAddress,
  type Address,
  type AddressFlag,
  type AddAddressOptions,
  type ListAddressesOptions,
} from './address.js';
export type { Family, ScopeName } from './rtnl.js';
export {
  addRoute,
  replaceRoute,
  deleteRoute,
  listRoutes,
  getRoute,
  decodeRoute,
  type Route,
  type RouteSpec,
  type RouteType,
  type Nexthop,
  type NexthopSpec,
  type TableRef,
  type ListRoutesOptions,
  type GetRouteOptions,
  type RouteMetricsSpec,
  type Protocol as RouteProtocol,
} from './route.js';
export {
  addNeighbour,
  replaceNeighbour,
  deleteNeighbour,
  listNeighbours,
  addFdb,
  appendFdb,
  replaceFdb,
  deleteFdb,
  listFdb,
  decodeNeighbour,
  decodeFdb,
  type Neighbour,
  type NeighbourSpec,
  type NeighbourState,
  type FdbEntry,
  type FdbSpec,
  type FdbState,
} from './neighbour.js';
export { watch, Watcher, decodeEvent, type EventAction, type NetEvent, type WatchOptions, type LinkEvent, type AddressEvent, type RouteEvent, type NeighbourEvent, type FdbEvent, type ResyncEvent } from './events.js';

// The firewall: masquerade, port publishing, isolation, restore after a reload.
export {
  enableForwarding,
  addMasquerade,
  removeMasquerade,
  listMasquerades,
  publishPort,
  publishPorts,
  unpublishPort,
  listPublishedPorts,
  isolateNetworks,
  removeIsolation,
  listIsolations,
  watchFirewall,
  removeFirewall,
  FirewallError,
  DEFAULT_PORT_RANGE,
  FIREWALL_FAMILY,
  FIREWALL_TABLE,
  type PublishedPort,
  type Masquerade,
  type Isolation,
  type PublishOptions,
  type FirewallWatcher,
  type Reapplied,
} from './firewall/index.js';

// nftables over nfnetlink (`nft`).
export * as nft from './nft/index.js';
export * as nftExpr from './wire/nft-expr/index.js';

// Docker-style networks (`docker network …`).
export {
  createNetwork,
  defaultNetwork,
  loadNetworks,
  listNetworks,
  getNetwork,
  inspectNetwork,
  removeNetwork,
  pruneNetworks,
  configureNetworkDns,
  closeNetworks,
  Network,
  NetworkManager,
  NetworkError,
  registerNetworkDriver,
  networkDriverNames,
  DEFAULT_NETWORK,
  OVERLAY_MTU,
  type CreateNetworkOptions,
  type PruneReport,
  type ConnectOptions as NetworkConnectOptions,
  type ConnectTarget,
  type Endpoint,
  type EndpointInspect,
  type IncompleteEndpoint,
  type NetworkInspect,
  type NetworkErrorCode,
  type NetworkDriver,
  type DriverFeatures,
} from './network/index.js';

// The network layer's building blocks.
export { AddressPool, IpamError, nextFreeSubnet, findOverlap, subnetsOverlap, parseSubnet, DEFAULT_ADDRESS_POOLS, DEFAULT_ADDRESS_POOLS_V6 } from './network/ipam.js';
export { parsePortSpec, parsePortSpecs, formatPortMapping, type PortMapping } from './network/portspec.js';
export { DnsServer, DnsError, containerResolvConf, type DnsRecord, type DnsServerOptions } from './network/dns.js';

// The wire format, for callers who build their own messages.
export * as wire from './wire/index.js';
