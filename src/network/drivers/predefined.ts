// The two networks every host has and nobody creates (`docker network ls`
// shows them beside `bridge`):
//   host  the container shares the host's namespace: connect makes nothing
//         and reports the host's own view (its first global IPv4 address,
//         its default gateway);
//   none  the container keeps a namespace of its own with only loopback,
//         which connect brings up.
// Neither leaves anything in the kernel to find again: their endpoints are
// known to the process that connected them only.
import { listAddresses } from '../../address.js';
import { setLinkUp, type Link } from '../../link.js';
import { listRoutes } from '../../route.js';
import { LOOPBACK_IFINDEX } from '../kernel.js';
import { NetworkError } from '../errors.js';
import type { Snapshot } from '../state.js';
import type { EndpointTag } from '../tags.js';
import { OptionReader, registerNetworkDriver } from './registry.js';
import type { CheckedOptions, ConnectRequest, DriverFeatures, EndpointState, NetworkDriver, NetworkRecord } from './types.js';
import type { Namespace } from '../../namespace.js';

abstract class PredefinedDriver implements NetworkDriver {
  abstract readonly name: string;
  readonly foreignEndpoints = false;
  readonly features: DriverFeatures = { ipam: false, dns: false, publish: false, predefined: true, gateway: 'none', isolated: false };

  options(raw: Record<string, unknown>): CheckedOptions {
    return new OptionReader(raw, this.name).done();
  }

  linkName(): string {
    return '';
  }

  async create(): Promise<void> {
    throw new NetworkError('EOPNOTSUPP', 'createNetwork', `only one instance of the "${this.name}" network is allowed, and it always exists`);
  }

  async remove(): Promise<void> {
    throw new NetworkError('EOPNOTSUPP', 'removeNetwork', `the "${this.name}" network is predefined and cannot be removed`);
  }

  abstract connect(net: NetworkRecord, req: ConnectRequest): Promise<EndpointState>;

  async disconnect(): Promise<void> {}

  describe(): Record<string, never> {
    return {};
  }

  endpointsOf(): { tag: EndpointTag; link: Link; ns?: Namespace }[] {
    return [];
  }

  async verify(): Promise<string[]> {
    return [];
  }

  async verifyEndpoint(_net: NetworkRecord, ep: EndpointState, _snap: Snapshot): Promise<string[]> {
    return ep.ns && ep.ns.fd >= 0 ? [] : ['the namespace handle was closed'];
  }
}

class HostDriver extends PredefinedDriver {
  readonly name = 'host';

  async connect(net: NetworkRecord, req: ConnectRequest): Promise<EndpointState> {
    if (!req.ns.equals(net.ns)) {
      throw new NetworkError('EINVAL', req.operation, 'the host network is the host\'s own namespace: run the container in it (connect without a namespace, or with the host\'s)', { network: net.name });
    }
    const [addrs, routes] = await Promise.all([listAddresses({ ns: net.ns, family: 'inet' }), listRoutes({ ns: net.ns, family: 'inet' })]);
    const ip = addrs.find((a) => a.scope === 'global')?.address;
    const gw = routes.find((r) => r.dst === 'default' && r.gateway)?.gateway;
    const tag: EndpointTag = { ...req.tag, ifname: req.tag.ifname };
    if (ip) tag.ip = ip;
    return { tag, ns: req.ns, ownsNs: false, defaultRoute: gw !== undefined, ...(gw ? { gateway: gw } : {}) };
  }
}

class NoneDriver extends PredefinedDriver {
  readonly name = 'none';

  async connect(_net: NetworkRecord, req: ConnectRequest): Promise<EndpointState> {
    await setLinkUp(LOOPBACK_IFINDEX, { ns: req.ns });
    return { tag: req.tag, ns: req.ns, ownsNs: false, defaultRoute: false };
  }
}

registerNetworkDriver(new HostDriver());
registerNetworkDriver(new NoneDriver());
