// Argument checks that run before any syscall. Each throws a TypeError or
// RangeError that names the argument, so a caller sees what to fix.
import { isMac, parseCidr, ipFamily, type Cidr } from './wire/address.js';

/** IFNAMSIZ is 16 including the NUL: at most 15 bytes; no '/', ':' or whitespace (dev_valid_name). */
export function ifname(name: unknown, arg = 'name'): string {
  if (typeof name !== 'string') throw new TypeError(`${arg} must be an interface name string, got ${typeof name}`);
  if (name.length === 0) throw new TypeError(`${arg} must not be empty`);
  if (Buffer.byteLength(name) > 15) throw new RangeError(`${arg} ${JSON.stringify(name)} is longer than 15 bytes (IFNAMSIZ)`);
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw new TypeError(`${arg} ${JSON.stringify(name)} must not contain "/", ":" or whitespace, nor be "." or ".."`);
  }
  return name;
}

export function mac(value: unknown, arg = 'mac'): string {
  if (typeof value !== 'string' || !isMac(value)) {
    throw new TypeError(`${arg} must be a MAC address like 02:42:ac:11:00:02, got ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

export function cidr(value: unknown, arg = 'address'): Cidr {
  return parseCidr(value as string, arg);
}

export function ip(value: unknown, arg = 'address'): string {
  if (typeof value !== 'string' || !ipFamily(value)) throw new TypeError(`${arg} must be an IP address, got ${JSON.stringify(value)}`);
  return value;
}

export function uint(value: unknown, arg: string, max = 0xffffffff, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${arg} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

export function port(value: unknown, arg = 'port'): number {
  return uint(value, arg, 65535, 1);
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], arg: string): T {
  if (!allowed.includes(value as T)) throw new TypeError(`${arg} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/**
 * Rejects option keys a function does not know (a typo must not be silently
 * ignored). `undefined` options pass; anything else must be a plain object.
 */
export function options(opts: unknown, known: ReadonlySet<string> | readonly string[], fn: string): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new TypeError(`${fn}: options must be an object`);
  const has = Array.isArray(known) ? (k: string) => known.includes(k) : (k: string) => (known as ReadonlySet<string>).has(k);
  for (const k of Object.keys(opts)) {
    if (!has(k)) throw new TypeError(`${fn}: unknown option ${JSON.stringify(k)} (known: ${[...known].join(', ')})`);
  }
}
