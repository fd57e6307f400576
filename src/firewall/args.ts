// Argument checks of the firewall calls. Each throws a TypeError or
// RangeError naming the argument, before anything is read or written.
import { AF_INET, AF_INET6, bytesToIp, ipFamily, ipToBytes, networkBytes, parseCidr } from '../wire/address.js';
import * as validate from '../validate.js';
import type { IpFamily, Protocol } from './layout.js';

export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];

/** Docker's default range for ports picked by the daemon (libnetwork portallocator). */
export const DEFAULT_PORT_RANGE: readonly [number, number] = [49153, 60999];

export const TAG_MAX = 128;

export function checkTag(v: unknown, arg = 'tag'): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TypeError(`${arg} must be a string`);
  if (v.includes('\0')) throw new TypeError(`${arg} must not contain NUL`);
  if (Buffer.byteLength(v) > TAG_MAX) throw new RangeError(`${arg} is longer than ${TAG_MAX} bytes`);
  return v;
}

export function checkProtocol(v: unknown, arg = 'protocol'): Protocol {
  return validate.oneOf(v, PROTOCOLS, arg);
}

export function checkPort(v: unknown, arg: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new RangeError(`${arg} must be a port 1..65535, got ${JSON.stringify(v)}`);
  return v;
}

export const familyOf = (address: string): IpFamily => (ipFamily(address) === AF_INET6 ? 6 : 4);

/** An address in the text the kernel reads back (IPv6 compressed, lower case). */
export function canonicalIp(v: unknown, arg: string): string {
  const f = typeof v === 'string' ? ipFamily(v) : 0;
  if (!f) throw new TypeError(`${arg} must be an IP address, got ${JSON.stringify(v)}`);
  // Dotted quads that pass the check are already in the kernel's form.
  return f === AF_INET ? (v as string) : bytesToIp(ipToBytes(v as string));
}

/** A host address to match: undefined (or 0.0.0.0 / ::) is any. */
export function checkHostIp(v: unknown, arg = 'hostIp'): { family?: IpFamily; address?: string } {
  if (v === undefined) return {};
  const a = canonicalIp(v, arg);
  const family = familyOf(a);
  if (a === '0.0.0.0' || a === '::') return { family };
  return { family, address: a };
}

/** A source network, normalised to its network address ("172.18.0.5/16" → "172.18.0.0/16"). */
export function checkCidr(v: unknown, arg = 'source'): { family: IpFamily; cidr: string } {
  if (typeof v !== 'string') throw new TypeError(`${arg} must be a CIDR string like 172.18.0.0/16, got ${JSON.stringify(v)}`);
  const c = parseCidr(v, arg);
  const net = networkBytes(ipToBytes(c.address), c.prefix);
  return { family: c.family === AF_INET ? 4 : 6, cidr: `${bytesToIp(net)}/${c.prefix}` };
}

/** 'ip:port', '[v6]:port', or { address, port }. */
export function parseTarget(v: unknown, arg = 'to'): { family: IpFamily; address: string; port: number } {
  let address: unknown;
  let port: unknown;
  if (typeof v === 'string') {
    const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:[\]]+):(\d{1,5})$/.exec(v);
    if (!m) throw new TypeError(`${arg} must be "address:port" or "[ipv6]:port", got ${JSON.stringify(v)}`);
    address = m[1];
    port = Number(m[2]);
    if (v.startsWith('[') && ipFamily(m[1]) !== AF_INET6) throw new TypeError(`${arg}: ${JSON.stringify(m[1])} in brackets must be an IPv6 address`);
  } else if (typeof v === 'object' && v !== null) {
    validate.options(v, ['address', 'port'], arg);
    ({ address, port } = v as { address: unknown; port: unknown });
  } else {
    throw new TypeError(`${arg} must be "address:port" or "[ipv6]:port", got ${JSON.stringify(v)}`);
  }
  const a = canonicalIp(address, `${arg} address`);
  if (a === '0.0.0.0' || a === '::') throw new TypeError(`${arg}: the unspecified address is not a target`);
  return { family: familyOf(a), address: a, port: checkPort(port, `${arg} port`) };
}

export function checkRange(v: unknown, arg = 'portRange'): [number, number] {
  if (v === undefined) return [...DEFAULT_PORT_RANGE];
  if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`${arg} must be [first, last]`);
  const lo = checkPort(v[0], `${arg}[0]`);
  const hi = checkPort(v[1], `${arg}[1]`);
  if (hi < lo) throw new RangeError(`${arg} ends before it starts`);
  return [lo, hi];
}

/** An IPv4 address (already checked) as an unsigned 32-bit number. */
export function ipv4Number(a: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}

/** Prefixes to test many addresses against: IPv4 as numbers, IPv6 as bytes. */
export function prefixMatcher(prefixes: readonly { address: string; prefix: number }[]): (address: string) => boolean {
  const v4 = prefixes
    .filter((p) => ipFamily(p.address) === AF_INET)
    .map((p) => {
      const mask = p.prefix === 0 ? 0 : (0xffffffff << (32 - p.prefix)) >>> 0;
      return { mask, net: (ipv4Number(p.address) & mask) >>> 0 };
    });
  const v6 = prefixes.filter((p) => ipFamily(p.address) === AF_INET6);
  return (address) => {
    if (address.includes(':')) return v6.some((p) => inPrefix(address, p.address, p.prefix));
    const n = ipv4Number(address);
    return v4.some((p) => ((n & p.mask) >>> 0) === p.net);
  };
}

/** Whether address lies in prefix/len (same family). */
export function inPrefix(address: string, prefixAddress: string, len: number): boolean {
  const a = ipToBytes(address);
  const p = ipToBytes(prefixAddress);
  if (a.length !== p.length) return false;
  return networkBytes(a, len).equals(networkBytes(p, len));
}

/** An exact interface name (no "*": nft would read it as a wildcard). */
export function checkIfname(v: unknown, arg: string): string {
  const name = validate.ifname(v, arg);
  if (name.includes('*')) throw new TypeError(`${arg} ${JSON.stringify(name)} must be an exact interface name, without "*"`);
  return name;
}
