// Docker-style networks over netweave — `docker network create|ls|inspect|rm|
// connect|disconnect|prune` and `docker run -p` — done over rtnetlink and
// nftables, with the kernel as the only state:
//
//   const net = await createNetwork({ name: 'appnet' });          // bridge nw-<id>, 172.18.0.0/16
//   const ep = await net.connect(containerNs, { name: 'web' });    // veth, eth0 172.18.0.2, default route, DNS
//   await net.publish(ep, '8080:80');                              // host:8080 → 172.18.0.2:80
//   // …a new process, later:
//   const nets = await loadNetworks({ dns: true });                // everything found again
//
// Drivers (drivers/, one file each, a registry): bridge (the default network
// "bridge" on nw0 and user-defined ones), overlay (VXLAN across hosts),
// macvlan, ipvlan, and the predefined host and none. What is written into the
// kernel and how it is read back: tags.ts and state.ts. Errors: argument
// checks throw TypeError/RangeError (code ERR_INVALID_ARG_TYPE /
// ERR_OUT_OF_RANGE) before any syscall; refusals are NetworkError (EEXIST,
// ENOENT, EBUSY, EADDRINUSE, EOPNOTSUPP, EINVAL — see errors.ts), IpamError
// (EADDRINUSE, EADDRNOTAVAIL) or FirewallError (EADDRINUSE for a taken host
// port); the kernel's are NetlinkError.
//
// One process manages a host namespace's networks at a time (as dockerd
// does): another may read them any time (loadNetworks, inspect), and take
// over after the first is gone, running pruneNetworks() first if it crashed.
import type { Namespace } from '../namespace.js';
import type { DnsServerOptions } from './dns.js';
import { NetworkManager, type CreateNetworkOptions, type PruneReport } from './manager.js';
import type { Network, NetworkInspect } from './network.js';
import { NetworkError, argType } from './errors.js';
import { DEFAULT_NETWORK } from './drivers/bridge.js';

export { NetworkManager, type CreateNetworkOptions, type PruneReport } from './manager.js';
export { Network, type ConnectOptions, type ConnectTarget, type Endpoint, type EndpointInspect, type IncompleteEndpoint, type NetworkInspect } from './network.js';
export { NetworkError, type NetworkErrorCode } from './errors.js';
export { registerNetworkDriver, networkDriverNames, DEFAULT_NETWORK, OVERLAY_MTU, type NetworkDriver, type DriverFeatures } from './drivers/index.js';
export { encodeTag, decodeTag, type Tag, type NetworkTag, type EndpointTag } from './tags.js';
export type { PublishedPort } from '../firewall/index.js';

export interface NsOption {
  /** The namespace the networks live in (the "host"); default the one this process runs in. */
  ns?: Namespace;
}

/**
 * Creates a network: `docker network create [-d DRIVER] [--subnet S] [--gateway G] [--ip-range R] [--internal] [-o K=V] NAME`.
 * A bridge network is a bridge `nw-<id>` with the gateway address, routing
 * on, masquerade for its subnet, and isolation from the other bridge
 * networks; "bridge" is the default network (bridge nw0, 172.17.0.0/16, no
 * DNS). Refused before anything is made: an unknown driver (NetworkError
 * EOPNOTSUPP), a name in use (EEXIST), a subnet overlapping another
 * network's (EADDRINUSE), a gateway or ip range outside the subnet
 * (RangeError). A create cut short leaves only links pruneNetworks() removes.
 */
export function createNetwork(opts: CreateNetworkOptions): Promise<Network> {
  try {
    return NetworkManager.for(opts?.ns).create(opts);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The default network `bridge` (Docker's docker0 network), created if missing: idempotent. */
export async function defaultNetwork(opts: NsOption & { bridgeName?: string; subnet?: string; gateway?: string } = {}): Promise<Network> {
  const m = NetworkManager.for(opts.ns);
  await m.refresh('defaultNetwork');
  const have = m.list().find((n) => n.isDefault);
  if (have) return have;
  try {
    return await m.create({
      name: DEFAULT_NETWORK.name,
      ...(opts.ns ? { ns: opts.ns } : {}),
      ...(opts.subnet ? { subnet: opts.subnet } : {}),
      ...(opts.gateway ? { gateway: opts.gateway } : {}),
      ...(opts.bridgeName ? { options: { bridgeName: opts.bridgeName } } : {}),
    });
  } catch (e) {
    const again = e instanceof NetworkError && e.code === 'EEXIST' ? m.list().find((n) => n.isDefault) : undefined;
    if (again) return again;
    throw e;
  }
}

/**
 * Finds every network of the namespace in the kernel — with its endpoints,
 * address allocations and published ports — as a new process must after a
 * restart: `docker network ls` as the daemon would rebuild it. With
 * `dns: true`, the embedded DNS is served again inside the namespaces of the
 * endpoints of user-defined networks (those this process can reopen: by
 * their /run/netns name or pid). Half-made things are not adopted:
 * inspect() lists them, pruneNetworks() removes them.
 */
export async function loadNetworks(opts: NsOption & { dns?: boolean | DnsServerOptions } = {}): Promise<Network[]> {
  const m = NetworkManager.for(opts.ns);
  if (typeof opts.dns === 'object' && opts.dns !== null) m.configureDns(opts.dns);
  else if (opts.dns !== undefined && typeof opts.dns !== 'boolean') throw argType('dns must be a boolean or DNS server options');
  await m.refresh('loadNetworks', { foreign: true });
  if (opts.dns) await m.reattachDns();
  return m.list();
}

/** `docker network ls`: every network (re-read from the kernel), predefined ones included. */
export async function listNetworks(opts: NsOption = {}): Promise<Network[]> {
  const m = NetworkManager.for(opts.ns);
  await m.refresh('listNetworks');
  return m.list();
}

/** A network by name, id or unique id prefix (re-read from the kernel if not known); NetworkError ENOENT if none. */
export async function getNetwork(ref: string, opts: NsOption = {}): Promise<Network> {
  const m = NetworkManager.for(opts.ns);
  let net = m.find(ref);
  if (!net) {
    await m.refresh('getNetwork');
    net = m.find(ref);
  }
  if (!net) throw new NetworkError('ENOENT', 'getNetwork', `no network ${ref}`);
  return net;
}

/** `docker network inspect NAME`, checked against the kernel (see Network.inspect). */
export async function inspectNetwork(ref: string, opts: NsOption = {}): Promise<NetworkInspect> {
  return (await getNetwork(ref, opts)).inspect();
}

/**
 * Removes a network: `docker network rm [--force]`. Refused while it has
 * endpoints (NetworkError EBUSY) unless force: then its published ports,
 * DNS names, masquerade and isolation go, and its links — endpoints,
 * bridge, vxlan — in one request of interface-group deletes.
 */
export function removeNetwork(ref: string | Network, opts: NsOption & { force?: boolean } = {}): Promise<void> {
  try {
    return NetworkManager.for(opts.ns).remove(ref, { ...(opts.force !== undefined ? { force: opts.force } : {}) });
  } catch (e) {
    return Promise.reject(e);
  }
}

/** `docker network prune` for what crashes leave (half-made endpoints and networks, orphaned firewall entries): see NetworkManager.prune. */
export function pruneNetworks(opts: NsOption = {}): Promise<PruneReport> {
  return NetworkManager.for(opts.ns).prune();
}

/** Options for the embedded DNS server (upstream servers …) of a namespace's networks; before first use. */
export function configureNetworkDns(opts: NsOption & DnsServerOptions): void {
  const { ns, ...dns } = opts;
  NetworkManager.for(ns).configureDns(dns);
}

/** Stops this process's part (DNS server, namespace handles); the kernel state stays for the next loadNetworks. */
export async function closeNetworks(opts: NsOption = {}): Promise<void> {
  await NetworkManager.for(opts.ns).close();
}
