// Table families, hooks, chain types and named priorities, as nft names them.
import * as validate from '../validate.js';
import {
  NF_INET_FORWARD,
  NF_INET_INGRESS,
  NF_INET_LOCAL_IN,
  NF_INET_LOCAL_OUT,
  NF_INET_POST_ROUTING,
  NF_INET_PRE_ROUTING,
  NF_NETDEV_EGRESS,
  NF_NETDEV_INGRESS,
  NFPROTO_ARP,
  NFPROTO_BRIDGE,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFPROTO_NETDEV,
  NFT_NAME_MAXLEN,
} from '../wire/nfnetlink.js';

export type Family = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export const FAMILIES: Record<Family, number> = {
  ip: NFPROTO_IPV4,
  ip6: NFPROTO_IPV6,
  inet: NFPROTO_INET,
  arp: NFPROTO_ARP,
  bridge: NFPROTO_BRIDGE,
  netdev: NFPROTO_NETDEV,
};
const FAMILY_NAMES = new Map(Object.entries(FAMILIES).map(([k, v]) => [v, k as Family]));

export function familyNumber(f: unknown, arg = 'family'): number {
  const n = FAMILIES[f as Family];
  if (n === undefined) throw new TypeError(`${arg} must be one of ${Object.keys(FAMILIES).join(', ')}, got ${JSON.stringify(f)}`);
  return n;
}

/** The family name of an nfgen_family; unknown numbers stay numbers. */
export function familyName(n: number): Family {
  return (FAMILY_NAMES.get(n) ?? n) as Family;
}

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
const INET_HOOKS: Partial<Record<Hook, number>> = {
  prerouting: NF_INET_PRE_ROUTING,
  input: NF_INET_LOCAL_IN,
  forward: NF_INET_FORWARD,
  output: NF_INET_LOCAL_OUT,
  postrouting: NF_INET_POST_ROUTING,
  ingress: NF_INET_INGRESS,
};
const NETDEV_HOOKS: Partial<Record<Hook, number>> = { ingress: NF_NETDEV_INGRESS, egress: NF_NETDEV_EGRESS };

export function hookNumber(family: Family, hook: unknown, arg = 'hook'): number {
  const table = family === 'netdev' ? NETDEV_HOOKS : INET_HOOKS;
  const n = table[hook as Hook];
  if (n === undefined) throw new TypeError(`${arg} must be one of ${Object.keys(table).join(', ')} for family ${family}, got ${JSON.stringify(hook)}`);
  return n;
}

export function hookName(family: Family, n: number): Hook | number {
  const table = family === 'netdev' ? NETDEV_HOOKS : INET_HOOKS;
  for (const [k, v] of Object.entries(table)) if (v === n) return k as Hook;
  return n;
}

export type ChainType = 'filter' | 'nat' | 'route';
export const CHAIN_TYPES: readonly ChainType[] = ['filter', 'nat', 'route'];

export type PriorityName = 'raw' | 'mangle' | 'dstnat' | 'filter' | 'security' | 'srcnat' | 'out';
// nft's standard priorities (doc: CHAINS, "Table 6/7").
const PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIORITIES: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

export function priorityNumber(family: Family, p: unknown, arg = 'priority'): number {
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < -0x80000000 || p > 0x7fffffff) throw new RangeError(`${arg} must be a 32-bit integer, got ${p}`);
    return p;
  }
  const table = family === 'bridge' ? BRIDGE_PRIORITIES : PRIORITIES;
  const n = table[p as string];
  if (n === undefined) throw new TypeError(`${arg} must be an integer or one of ${Object.keys(table).join(', ')}, got ${JSON.stringify(p)}`);
  return n;
}

/** Names of tables, chains and sets: 1..255 bytes, no NUL. */
export function checkName(v: unknown, arg: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${arg} must be a non-empty string`);
  if (v.includes('\0')) throw new TypeError(`${arg} must not contain NUL`);
  if (Buffer.byteLength(v) >= NFT_NAME_MAXLEN) throw new RangeError(`${arg} is longer than ${NFT_NAME_MAXLEN - 1} bytes`);
  return v;
}

/** Kernel object handles (be64) fit a JS number for the life of any namespace. */
export function checkHandle(v: unknown, arg = 'handle'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${arg} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Rejects keys an argument object does not have (a typo would otherwise be ignored). */
export function knownKeys(o: unknown, known: readonly string[], arg: string): void {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${arg} must be an object`);
  validate.options(o, known, arg);
}

/** A comment as nft stores it in userdata (NUL-terminated, the whole blob at most 256 bytes). */
export function checkComment(v: unknown, arg = 'comment'): string {
  if (typeof v !== 'string') throw new TypeError(`${arg} must be a string`);
  if (v.includes('\0')) throw new TypeError(`${arg} must not contain NUL`);
  if (Buffer.byteLength(v) > 252) throw new RangeError(`${arg} is longer than 252 bytes (userdata holds 256)`);
  return v;
}
