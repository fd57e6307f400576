// What a network driver is: how a network of its kind is made in the kernel,
// how a namespace joins it, and how both are found and checked again from
// the kernel alone. The common work (IPAM, DNS, published ports, tags,
// validation) is the network layer's; a driver does the links.
import type { Link } from '../../link.js';
import type { NewNamespace } from '../kernel.js';
import type { Namespace } from '../../namespace.js';
import type { AddressPool } from '../ipam.js';
import type { EndpointTag, NetworkTag } from '../tags.js';
import type { Snapshot } from '../state.js';

/** What the network layer knows about a network, as drivers see it. */
export interface NetworkRecord {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly subnet?: string;
  readonly prefixLength?: number;
  readonly gateway?: string;
  readonly ipRange?: string;
  readonly internal: boolean;
  readonly isDefault: boolean;
  /** Driver options as stored in the tag. */
  readonly options: Record<string, string>;
  /** The namespace the network lives in ("the host"). */
  readonly ns: Namespace;
  /** Interface-group slot (see tags.ts): groups slot*4 + role. */
  readonly slot: number;
  readonly pool?: AddressPool;
  /** The network's own link (bridge / anchor): name and, once created or found, index. */
  link?: { name: string; index: number };
  /** Create-time facts from the options that the tag does not hold (see CheckedOptions). */
  extra?: Record<string, unknown>;
}

/** Driver options checked: `stored` goes into the network's tag, `extra` only to create. */
export interface CheckedOptions {
  stored: Record<string, string>;
  extra: Record<string, unknown>;
}

/** An endpoint as the layer keeps it; drivers fill in the kernel facts. */
export interface EndpointState {
  tag: EndpointTag;
  /** The container's namespace, when this process has a handle on it. */
  ns?: Namespace;
  /** Whether this process opened ns itself (and closes it when done). */
  ownsNs: boolean;
  /** Host-side link (veth end) index, for drivers that have one. */
  hostIndex?: number;
  /** The container-side link's index in its namespace. */
  peerIndex?: number;
  /** The container namespace's id in the host namespace (IFLA_LINK_NETNSID of the host end). */
  netnsId?: number;
  defaultRoute: boolean;
  /** The gateway the endpoint uses when not the network's (the host network reports the host's). */
  gateway?: string;
}

export interface ConnectRequest {
  operation: string;
  /** The container's namespace (the host's own for the host driver). */
  ns: Namespace;
  /** The endpoint's tag, complete; connect writes it (the `p` variant first if it can) and commits it last. */
  tag: EndpointTag;
  /** encodeTag(tag), already checked to fit. */
  tagText: string;
  ip?: string;
  mac?: string;
  ifname: string;
  /** Bring lo up in the namespace (Docker does). */
  loopback: boolean;
  /** Add a default route via the gateway (first network of a namespace, not internal). */
  defaultRoute: boolean;
}

/**
 * A connect into a namespace created in the same pass (Network.connectNew):
 * the namespace in the making stands for it (its chain's first part runs
 * while the driver writes the rest). The driver ends that chain, or — if it
 * fails before it does — the caller drops the namespace.
 */
export interface NewNamespaceConnectRequest extends Omit<ConnectRequest, 'ns'> {
  fresh: NewNamespace;
}

export interface DriverFeatures {
  /** Addresses come from the network's subnet. */
  ipam: boolean;
  /** Names resolve through the embedded DNS (user-defined networks). */
  dns: boolean;
  /** Ports can be published to endpoints (NAT through the host). */
  publish: boolean;
  /** One network per host namespace, always present, never created or removed (host, none). */
  predefined: boolean;
  /**
   * The network's gateway: 'first' — the first address of the range unless
   * given, configured on the host side (bridge); 'external' — the same
   * default, but a router elsewhere (macvlan's LAN router); 'none' — none
   * unless given, and then elsewhere (overlay).
   */
  gateway: 'first' | 'external' | 'none';
  /** A subnet must be given (overlay: every host must use the same). */
  subnetRequired?: boolean;
  /** Other networks of such drivers are isolated from this one (firewall isolateNetworks between bridges). */
  isolated: boolean;
}

/** What create and remove need to know about the other networks. */
export interface DriverContext {
  operation: string;
  /** Link names of the other networks this one is isolated from (bridges of isolated drivers). */
  isolatedFrom: string[];
}

export interface NetworkDriver {
  readonly name: string;
  readonly features: DriverFeatures;
  /**
   * Checks and normalises driver options (before any syscall); TypeError or
   * RangeError naming the option. Docker's option names are accepted beside
   * netweave's. Returns what goes into the network tag.
   */
  options(raw: Record<string, unknown>, facts: { name: string; isDefault: boolean; id: string }): CheckedOptions;
  /** The name of the network's own link (bridge / anchor). */
  linkName(net: NetworkRecord): string;
  /** Makes the kernel objects; the network tag (given) is written last, as the commit marker. Leaves nothing behind on failure. */
  create(net: NetworkRecord, tag: string, ctx: DriverContext): Promise<void>;
  /** Removes the network's kernel objects and its endpoints. */
  remove(net: NetworkRecord, endpoints: EndpointState[], ctx: DriverContext): Promise<void>;
  /** Joins a namespace; when this resolves the endpoint's tag is committed in the kernel. Leaves nothing behind on failure. */
  connect(net: NetworkRecord, req: ConnectRequest): Promise<EndpointState>;
  /**
   * Creates the container's namespace and connects it, in one pass where the
   * driver can (veth drivers: the namespace is the first step of the
   * chain). The state has no ns yet: the caller makes it from nsFd (and
   * nsIdentity, the [st_dev, st_ino] the engine read of it). Absent:
   * the caller creates the namespace, then connects.
   */
  connectNew?(net: NetworkRecord, req: NewNamespaceConnectRequest): Promise<EndpointState & { nsFd: number; nsIdentity?: Buffer }>;
  /** Removes endpoints (one request where possible); `all` when they are every endpoint of the network. */
  disconnect(net: NetworkRecord, endpoints: EndpointState[], opts: { operation: string; all: boolean }): Promise<void>;
  /** The endpoint links a snapshot holds for the network (complete and pending). */
  endpointsOf(net: NetworkRecord, snap: Snapshot): { tag: EndpointTag; link: Link; ns?: Namespace }[];
  /** What is wrong with the network's own objects (empty: healthy). */
  verify(net: NetworkRecord, snap: Snapshot): Promise<string[]>;
  /** What an endpoint's view shows of its links: the container interface, the host end, the MAC. */
  describe(net: NetworkRecord, ep: EndpointState): { interface?: string; hostInterface?: string; mac?: string };
  /** Changes the hosts an overlay floods to (drivers with peers only). */
  setPeers?(net: NetworkRecord, peers: string[]): Promise<void>;
  /** Driver-specific facts for inspect (e.g. the overlay's peers). */
  details?(net: NetworkRecord, snap: Snapshot): Promise<Record<string, unknown>>;
  /** What is wrong with one endpoint as the kernel has it (empty: healthy). */
  verifyEndpoint(net: NetworkRecord, ep: EndpointState, snap: Snapshot): Promise<string[]>;
  /** The driver's endpoints live only inside container namespaces (found by scanning namespaces). */
  readonly foreignEndpoints: boolean;
}

export type { NetworkTag };
