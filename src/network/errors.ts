// Refusals of the network layer itself (not the kernel's, which stay
// NetlinkError; not IPAM's, which stay IpamError; not the firewall's, which
// stay FirewallError). Shaped like Node's system errors: `.code`.
//
//   EEXIST         a network of that name; an endpoint name on a network; the
//                  namespace is already connected to the network
//   ENOENT         no such network / endpoint
//   EBUSY          removing a network that still has endpoints (without force)
//   EADDRINUSE     a subnet overlapping another network's
//   EOPNOTSUPP     an unknown driver; what a driver cannot do (publish on a
//                  macvlan network, a second host network …)
//   EINVAL         a request that is well-formed but cannot be honoured
//                  (e.g. the facts to record exceed the 255 bytes of IFALIAS)

export type NetworkErrorCode = 'EEXIST' | 'ENOENT' | 'EBUSY' | 'EADDRINUSE' | 'EOPNOTSUPP' | 'EINVAL';

export class NetworkError extends Error {
  readonly code: NetworkErrorCode;
  readonly operation: string;
  /** The network (name) the refusal is about, when there is one. */
  readonly network?: string;

  constructor(code: NetworkErrorCode, operation: string, message: string, details: { network?: string; cause?: unknown } = {}) {
    super(`${operation}: ${code} ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'NetworkError';
    this.code = code;
    this.operation = operation;
    if (details.network !== undefined) this.network = details.network;
  }
}

/** A TypeError naming the argument, with Node's code for it. */
export function argType(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A RangeError naming the argument, with Node's code for it. */
export function argRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/** Rethrows a TypeError/RangeError from a lower layer with the Node code attached (its message already names the argument). */
export function withArgCode<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError && !('code' in e)) Object.assign(e, { code: 'ERR_OUT_OF_RANGE' });
    else if (e instanceof TypeError && !('code' in e)) Object.assign(e, { code: 'ERR_INVALID_ARG_TYPE' });
    throw e;
  }
}
