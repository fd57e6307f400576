// IP address management for Docker-style networks: one AddressPool per
// subnet (IPv4 or IPv6), subnet overlap checks, and Docker's default
// address pools. Pure bookkeeping, no kernel access: a new process rebuilds
// a pool from the addresses it finds in the kernel with reserve().
//
// Allocations are kept as a sorted list of disjoint, maximal runs of used
// offsets, so memory and time follow the number of runs, not the subnet
// size: a /64 is never iterated and a /16 filled in order is a single run.
import { AF_INET, bytesToIp, ipFamily, ipToBytes } from '../wire/address.js';

export type IpFamily = 4 | 6;

/** Allocation failures; `code` is 'EADDRINUSE' (taken) or 'EADDRNOTAVAIL' (not in the pool, or none left). */
export class IpamError extends Error {
  readonly code: 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINVAL';
  readonly address?: string;
  readonly subnet?: string;

  constructor(code: IpamError['code'], message: string, details: { address?: string; subnet?: string } = {}) {
    super(message);
    this.name = 'IpamError';
    this.code = code;
    if (details.address !== undefined) this.address = details.address;
    if (details.subnet !== undefined) this.subnet = details.subnet;
  }
}

/** A subnet in canonical form: host bits zero. */
export interface Subnet {
  readonly family: IpFamily;
  readonly prefix: number;
  /** The network address as an integer. */
  readonly network: bigint;
  /** "172.18.0.0/16" */
  readonly text: string;
}

const width = (family: IpFamily): number => (family === 4 ? 32 : 128);

function bytesToBigint(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigintToIp(n: bigint, family: IpFamily): string {
  if (family === 4) {
    const v = Number(n);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const b = Buffer.alloc(16);
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return bytesToIp(b);
}

function parseIp(value: unknown, arg: string): { family: IpFamily; value: bigint } {
  if (typeof value !== 'string' || !ipFamily(value)) throw new TypeError(`${arg} must be an IP address, got ${JSON.stringify(value)}`);
  if (value.includes('%')) throw new TypeError(`${arg} must not carry a zone index, got ${JSON.stringify(value)}`);
  return { family: ipFamily(value) === AF_INET ? 4 : 6, value: bytesToBigint(ipToBytes(value)) };
}

/** The canonical text of an IP address ("::ffff:0:1" style, lowercase). */
export function canonicalIp(value: string, arg = 'address'): string {
  const ip = parseIp(value, arg);
  return bigintToIp(ip.value, ip.family);
}

/**
 * Parses "172.18.0.0/16" or "fd00:1::/64". Host bits must be zero (as
 * `docker network create --subnet` requires); the error names the network.
 */
export function parseSubnet(value: string | Subnet, arg = 'subnet'): Subnet {
  if (typeof value === 'object' && value !== null && typeof value.text === 'string') return value;
  if (typeof value !== 'string') throw new TypeError(`${arg} must be a CIDR string like 172.18.0.0/16, got ${JSON.stringify(value)}`);
  const slash = value.indexOf('/');
  if (slash < 0) throw new TypeError(`${arg} must be in CIDR form (address/prefix), got ${JSON.stringify(value)}`);
  const ip = parseIp(value.slice(0, slash), arg);
  const p = value.slice(slash + 1);
  const max = width(ip.family);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new RangeError(`${arg}: prefix length in ${JSON.stringify(value)} must be 0..${max}`);
  const prefix = Number(p);
  const hostBits = BigInt(max - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  const text = `${bigintToIp(network, ip.family)}/${prefix}`;
  if (network !== ip.value) throw new RangeError(`${arg} ${value} has host bits set: the network is ${text}`);
  return { family: ip.family, prefix, network, text };
}

function lastAddress(s: Subnet): bigint {
  return s.network + (1n << BigInt(width(s.family) - s.prefix)) - 1n;
}

/** Whether two subnets share any address. Different families never overlap. */
export function subnetsOverlap(a: string | Subnet, b: string | Subnet): boolean {
  const x = parseSubnet(a, 'a');
  const y = parseSubnet(b, 'b');
  if (x.family !== y.family) return false;
  return x.network <= lastAddress(y) && y.network <= lastAddress(x);
}

/** The first of `others` that overlaps `subnet`, for "overlaps with network X" errors. */
export function findOverlap<T extends string | Subnet>(subnet: string | Subnet, others: Iterable<T>): T | undefined {
  const s = parseSubnet(subnet);
  for (const o of others) if (subnetsOverlap(s, parseSubnet(o, 'others[]'))) return o;
  return undefined;
}

/** A range of the address space cut into subnets of one size, like dockerd's `--default-address-pool base=…,size=…`. */
export interface PredefinedPool {
  base: string;
  size: number;
}

/** dockerd's default local-scope pools: 172.17–172.31 as /16s, then 192.168.0.0/16 as /20s. */
export const DEFAULT_ADDRESS_POOLS: readonly PredefinedPool[] = Object.freeze([
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
]);

/** dockerd's default IPv6 pool: /64s out of the ULA fd00::/48. */
export const DEFAULT_ADDRESS_POOLS_V6: readonly PredefinedPool[] = Object.freeze([{ base: 'fd00::/48', size: 64 }]);

/**
 * The first subnet of the predefined pools that overlaps none of `existing`
 * (the subnets of other networks, and any host routes to keep clear of), as
 * dockerd picks one for `docker network create` without `--subnet`. With the
 * defaults and the default bridge on 172.17.0.0/16, that is 172.18.0.0/16.
 * Work grows with the number of existing subnets, not the pool size.
 */
export function nextFreeSubnet(existing: Iterable<string | Subnet>, opts: { family?: IpFamily; pools?: readonly PredefinedPool[] } = {}): string {
  const family = opts.family ?? 4;
  if (family !== 4 && family !== 6) throw new TypeError(`family must be 4 or 6, got ${JSON.stringify(opts.family)}`);
  const pools = opts.pools ?? (family === 4 ? DEFAULT_ADDRESS_POOLS : DEFAULT_ADDRESS_POOLS_V6);
  const taken = [...existing].map((e) => parseSubnet(e, 'existing[]')).filter((e) => e.family === family);
  for (const [i, pool] of pools.entries()) {
    const base = parseSubnet(pool.base, `pools[${i}].base`);
    if (base.family !== family) continue;
    if (!Number.isInteger(pool.size) || pool.size < base.prefix || pool.size > width(family)) {
      throw new RangeError(`pools[${i}].size must be an integer in ${base.prefix}..${width(family)}, got ${String(pool.size)}`);
    }
    const step = 1n << BigInt(width(family) - pool.size);
    const end = lastAddress(base);
    let candidate = base.network;
    while (candidate <= end) {
      const last = candidate + step - 1n;
      const clash = taken.find((t) => t.network <= last && candidate <= lastAddress(t));
      if (!clash) return `${bigintToIp(candidate, family)}/${pool.size}`;
      // Skip to the first aligned candidate after the clashing subnet.
      const after = lastAddress(clash) + 1n;
      const aligned = base.network + ((after - base.network + step - 1n) / step) * step;
      candidate = aligned > candidate ? aligned : candidate + step;
    }
  }
  throw new IpamError('EADDRNOTAVAIL', `no free IPv${family} subnet left in the predefined address pools (${pools.map((p) => `${p.base} size ${p.size}`).join(', ')})`);
}

/** Sorted, disjoint, maximal runs [start, end] of used offsets. */
class RunSet {
  private readonly starts: bigint[] = [];
  private readonly ends: bigint[] = [];
  size = 0n;

  /** Index of the last run starting at or before x, or -1. */
  private floor(x: bigint): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let r = -1;
    while (lo <= hi) {
      const m = (lo + hi) >>> 1;
      if (this.starts[m] <= x) {
        r = m;
        lo = m + 1;
      } else hi = m - 1;
    }
    return r;
  }

  has(x: bigint): boolean {
    const i = this.floor(x);
    return i >= 0 && this.ends[i] >= x;
  }

  add(x: bigint): boolean {
    const i = this.floor(x);
    if (i >= 0 && this.ends[i] >= x) return false;
    const joinsLeft = i >= 0 && this.ends[i] === x - 1n;
    const joinsRight = i + 1 < this.starts.length && this.starts[i + 1] === x + 1n;
    if (joinsLeft && joinsRight) {
      this.ends[i] = this.ends[i + 1];
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
    } else if (joinsLeft) this.ends[i] = x;
    else if (joinsRight) this.starts[i + 1] = x;
    else {
      this.starts.splice(i + 1, 0, x);
      this.ends.splice(i + 1, 0, x);
    }
    this.size++;
    return true;
  }

  delete(x: bigint): boolean {
    const i = this.floor(x);
    if (i < 0 || this.ends[i] < x) return false;
    const s = this.starts[i];
    const e = this.ends[i];
    if (s === e) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (x === s) this.starts[i] = x + 1n;
    else if (x === e) this.ends[i] = x - 1n;
    else {
      this.ends[i] = x - 1n;
      this.starts.splice(i + 1, 0, x + 1n);
      this.ends.splice(i + 1, 0, e);
    }
    this.size--;
    return true;
  }

  /** The lowest unused offset in [lo, hi]. Runs are maximal, so the end of the run holding lo is followed by a free offset. */
  firstFree(lo: bigint, hi: bigint): bigint | undefined {
    if (lo > hi) return undefined;
    const i = this.floor(lo);
    const x = i >= 0 && this.ends[i] >= lo ? this.ends[i] + 1n : lo;
    return x <= hi ? x : undefined;
  }

  countIn(lo: bigint, hi: bigint): bigint {
    let n = 0n;
    for (let i = Math.max(0, this.floor(lo)); i < this.starts.length && this.starts[i] <= hi; i++) {
      const s = this.starts[i] > lo ? this.starts[i] : lo;
      const e = this.ends[i] < hi ? this.ends[i] : hi;
      if (e >= s) n += e - s + 1n;
    }
    return n;
  }

  *values(): IterableIterator<bigint> {
    for (let i = 0; i < this.starts.length; i++) for (let x = this.starts[i]; x <= this.ends[i]; x++) yield x;
  }
}

export interface AddressPoolOptions {
  /** The network's subnet, like `--subnet`: "172.18.0.0/16", "fd00:1::/64". */
  subnet: string;
  /** Sub-range that dynamic allocation draws from, like `--ip-range`; static addresses may lie anywhere in the subnet. */
  ipRange?: string;
  /** Like `--gateway`. Default: the first address dynamic allocation would hand out. null: the network has none. */
  gateway?: string | null;
  /**
   * 'serial' (default): continue after the last dynamically allocated
   * address and wrap around at the end of the range, so a released address
   * is reused only after the rest of the range has been handed out.
   * 'lowest': always the lowest free address, as dockerd does for local
   * networks (released addresses are reused at once).
   */
  strategy?: 'serial' | 'lowest';
}

/**
 * The addresses of one network. IPv4 subnets keep the network and broadcast
 * addresses out of use (except /31 and /32, RFC 3021); IPv6 subnets keep the
 * subnet-router anycast address (offset 0) out of use (except /127 and
 * /128, RFC 6164), as libnetwork does.
 */
export class AddressPool {
  readonly family: IpFamily;
  /** Canonical subnet, "172.18.0.0/16". */
  readonly subnet: string;
  readonly prefix: number;
  /** Canonical range dynamic allocation draws from (the subnet unless ipRange was given). */
  readonly ipRange: string;
  readonly gateway?: string;
  readonly strategy: 'serial' | 'lowest';

  private readonly net: Subnet;
  /** Usable offsets of the subnet. */
  private readonly first: bigint;
  private readonly last: bigint;
  /** Offsets dynamic allocation draws from. */
  private readonly rangeFirst: bigint;
  private readonly rangeLast: bigint;
  private readonly used = new RunSet();
  private cursor: bigint;
  private readonly gatewayOffset?: bigint;

  constructor(opts: AddressPoolOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object with a subnet');
    this.net = parseSubnet(opts.subnet, 'subnet');
    this.family = this.net.family;
    this.subnet = this.net.text;
    this.prefix = this.net.prefix;
    const size = 1n << BigInt(width(this.family) - this.prefix);
    const pointToPoint = width(this.family) - this.prefix <= 1;
    this.first = pointToPoint ? 0n : 1n;
    this.last = this.family === 4 && !pointToPoint ? size - 2n : size - 1n;

    this.strategy = opts.strategy ?? 'serial';
    if (this.strategy !== 'serial' && this.strategy !== 'lowest') {
      throw new TypeError(`strategy must be 'serial' or 'lowest', got ${JSON.stringify(opts.strategy)}`);
    }

    if (opts.ipRange !== undefined) {
      const range = parseSubnet(opts.ipRange, 'ipRange');
      if (range.family !== this.family || range.prefix < this.prefix || !subnetsOverlap(range, this.net)) {
        throw new RangeError(`ipRange ${range.text} is not inside subnet ${this.subnet}`);
      }
      const lo = range.network - this.net.network;
      const hi = lastAddress(range) - this.net.network;
      this.rangeFirst = lo > this.first ? lo : this.first;
      this.rangeLast = hi < this.last ? hi : this.last;
      if (this.rangeFirst > this.rangeLast) throw new RangeError(`ipRange ${range.text} holds no usable address of subnet ${this.subnet}`);
      this.ipRange = range.text;
    } else {
      this.rangeFirst = this.first;
      this.rangeLast = this.last;
      this.ipRange = this.subnet;
    }
    this.cursor = this.rangeFirst;

    if (opts.gateway === null) return;
    if (opts.gateway === undefined) {
      this.gatewayOffset = this.rangeFirst;
    } else {
      const gw = this.offsetOf(opts.gateway, 'gateway');
      if (gw === undefined) throw new RangeError(`gateway ${opts.gateway} is outside subnet ${this.subnet}`);
      const why = this.unusable(gw);
      if (why) throw new RangeError(`gateway ${opts.gateway} is ${why} of ${this.subnet}`);
      this.gatewayOffset = gw;
    }
    this.used.add(this.gatewayOffset);
    this.gateway = this.text(this.gatewayOffset);
  }

  /** Addresses dynamic allocation can hand out in all (range minus network/broadcast). */
  get capacity(): bigint {
    return this.rangeLast - this.rangeFirst + 1n;
  }

  /** Addresses in use anywhere in the subnet, the gateway included. */
  get usedCount(): bigint {
    return this.used.size;
  }

  /** Addresses dynamic allocation can still hand out. */
  get available(): bigint {
    return this.capacity - this.used.countIn(this.rangeFirst, this.rangeLast);
  }

  /** Whether address lies in the subnet. */
  contains(address: string): boolean {
    return this.offsetOf(address, 'address') !== undefined;
  }

  /** Whether address is in use (allocated, reserved or the gateway). */
  has(address: string): boolean {
    const off = this.offsetOf(address, 'address');
    return off !== undefined && this.used.has(off);
  }

  /**
   * Hands out an address, like `docker run --network … [--ip …]`: the next
   * free one of the range, or the requested one. A requested address must
   * be in the subnet (not necessarily the range), be free, and not be the
   * network, broadcast or IPv6 subnet-router address.
   */
  allocate(requested?: string): string {
    if (requested !== undefined) {
      const off = this.checkStatic(requested, 'requested');
      if (!this.used.add(off)) {
        const what = off === this.gatewayOffset ? 'the gateway' : 'already in use';
        throw new IpamError('EADDRINUSE', `address ${requested} is ${what} in ${this.subnet}`, { address: this.text(off), subnet: this.subnet });
      }
      return this.text(off);
    }
    let off: bigint | undefined;
    if (this.strategy === 'serial') {
      off = this.used.firstFree(this.cursor, this.rangeLast) ?? this.used.firstFree(this.rangeFirst, this.cursor - 1n);
    } else {
      off = this.used.firstFree(this.rangeFirst, this.rangeLast);
    }
    if (off === undefined) {
      const where = this.ipRange === this.subnet ? this.subnet : `ip range ${this.ipRange} of ${this.subnet}`;
      throw new IpamError('EADDRNOTAVAIL', `no free address left in ${where}`, { subnet: this.subnet });
    }
    this.used.add(off);
    this.cursor = off + 1n > this.rangeLast ? this.rangeFirst : off + 1n;
    return this.text(off);
  }

  /**
   * Marks an address found in use (in the kernel, or an auxiliary address)
   * so it is not handed out. Returns false if it was already held. Does not
   * move the serial cursor.
   */
  reserve(address: string): boolean {
    return this.used.add(this.checkStatic(address, 'address'));
  }

  /** Gives an address back; returns false if it was not in use. The gateway is held for the pool's lifetime. */
  release(address: string): boolean {
    const off = this.offsetOf(address, 'address');
    if (off === undefined) return false;
    if (off === this.gatewayOffset) {
      throw new IpamError('EINVAL', `${address} is the gateway of ${this.subnet} and is held as long as the pool`, { address, subnet: this.subnet });
    }
    return this.used.delete(off);
  }

  /** Addresses in use, ascending. */
  *addresses(): IterableIterator<string> {
    for (const off of this.used.values()) yield this.text(off);
  }

  private text(offset: bigint): string {
    return bigintToIp(this.net.network + offset, this.family);
  }

  /** Offset of address in the subnet, or undefined if outside; TypeError for non-addresses and the other family. */
  private offsetOf(address: string, arg: string): bigint | undefined {
    const ip = parseIp(address, arg);
    if (ip.family !== this.family) throw new TypeError(`${arg} ${address} is IPv${ip.family} but subnet ${this.subnet} is IPv${this.family}`);
    const off = ip.value - this.net.network;
    return off >= 0n && ip.value <= lastAddress(this.net) ? off : undefined;
  }

  private unusable(off: bigint): string | undefined {
    if (off >= this.first && off <= this.last) return undefined;
    if (off === 0n) return this.family === 4 ? 'the network address' : 'the subnet-router anycast address';
    return 'the broadcast address';
  }

  private checkStatic(address: string, arg: string): bigint {
    const off = this.offsetOf(address, arg);
    if (off === undefined) throw new IpamError('EADDRNOTAVAIL', `address ${address} is outside subnet ${this.subnet}`, { address, subnet: this.subnet });
    const why = this.unusable(off);
    if (why) throw new IpamError('EADDRNOTAVAIL', `address ${address} is ${why} of ${this.subnet}`, { address, subnet: this.subnet });
    return off;
  }
}
