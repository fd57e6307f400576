// nft's data types (nftables include/datatype.h): how a value sits in a
// register or a set key, and the type id nft stores in NFTA_SET_KEY_TYPE /
// NFTA_SET_DATA_TYPE so `nft list` prints elements right. A concatenation's id
// is its parts' ids, 6 bits each (first part highest), and each part takes a
// whole number of 4-byte register slots.
import { AF_INET6, bytesToIpv4, bytesToIpv6, bytesToMac, ipFamily, ipv6ToBytes, isMac, macToBytes } from '../wire/address.js';
import { BYTEORDER_BIG_ENDIAN, BYTEORDER_HOST_ENDIAN, BYTEORDER_INVALID, checkVerdict, NFT_DATA_VERDICT, type Verdict } from '../wire/nfnetlink.js';
import { cString } from '../wire/netlink.js';

// enum datatypes (nftables include/datatype.h)
export const TYPE_VERDICT = 1;
export const TYPE_NFPROTO = 2;
export const TYPE_INTEGER = 4;
export const TYPE_STRING = 5;
export const TYPE_IPADDR = 7;
export const TYPE_IP6ADDR = 8;
export const TYPE_ETHERADDR = 9;
export const TYPE_ETHERTYPE = 10;
export const TYPE_INET_PROTOCOL = 12;
export const TYPE_INET_SERVICE = 13;
export const TYPE_MARK = 19;
export const TYPE_IFINDEX = 20;
export const TYPE_CT_STATE = 26;
export const TYPE_CT_DIR = 27;
export const TYPE_CT_STATUS = 28;
export const TYPE_FIB_ADDR = 38;
export const TYPE_IFNAME = 41;
export const TYPE_BITS = 6;
export const TYPE_MASK = (1 << TYPE_BITS) - 1;

export interface DataType<V = unknown> {
  /** nft's name ("ipv4_addr"). */
  readonly name: string;
  /** enum datatypes id; a concatenation's combined id. */
  readonly id: number;
  /** Bytes of the value (a concatenation: the sum of its parts' 4-byte-padded sizes). */
  readonly len: number;
  /** nft's enum byteorder, written to the set's userdata as a hint for nft. */
  readonly byteorder: number;
  /** Writes exactly `len` bytes at off (validating v; `arg` names it in errors). */
  write(buf: Buffer, off: number, v: V, arg: string): void;
  read(buf: Buffer, off: number): V;
  /** Parts of a concatenation. */
  readonly parts?: readonly DataType[];
  /** Addresses: "10.0.0.0/8" spans a range. */
  readonly prefixes?: boolean;
  /** Integers compared as big-endian numbers (lt/gt and ranges work on the raw bytes). */
  readonly bigEndian?: boolean;
}

const pad4 = (n: number) => (n + 3) & ~3;

function u8Type<V extends number | string>(name: string, id: number, names?: Record<string, number>): DataType<V> {
  const byValue = names ? new Map(Object.entries(names).map(([k, v]) => [v, k])) : undefined;
  return {
    name,
    id,
    len: 1,
    byteorder: BYTEORDER_HOST_ENDIAN,
    bigEndian: true,
    write(buf, off, v, arg) {
      const n = typeof v === 'string' ? names?.[v] : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) {
        throw new TypeError(`${arg} must be ${names ? `one of ${Object.keys(names).join(', ')} or ` : ''}an integer 0..255, got ${JSON.stringify(v)}`);
      }
      buf[off] = n;
    },
    read(buf, off) {
      return (byValue?.get(buf[off]) ?? buf[off]) as V;
    },
  };
}

function u32HostType<V>(name: string, id: number, names?: Record<string, number>, bitmask = false): DataType<V> {
  const byValue = names ? new Map(Object.entries(names).map(([k, v]) => [v, k])) : undefined;
  return {
    name,
    id,
    len: 4,
    byteorder: BYTEORDER_HOST_ENDIAN,
    write(buf, off, v, arg) {
      let n: unknown = v;
      if (bitmask && Array.isArray(v)) {
        n = 0;
        for (const f of v) {
          const bit = names?.[f as string];
          if (bit === undefined) throw new TypeError(`${arg}: unknown ${name} ${JSON.stringify(f)} (known: ${Object.keys(names!).join(', ')})`);
          n = ((n as number) | bit) >>> 0;
        }
      } else if (typeof v === 'string' && names) {
        n = names[v];
      }
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
        throw new TypeError(`${arg} must be ${names ? `${bitmask ? 'a list of' : 'one of'} ${Object.keys(names).join(', ')} or ` : ''}a u32, got ${JSON.stringify(v)}`);
      }
      buf.writeUInt32LE(n, off);
    },
    read(buf, off) {
      const n = buf.readUInt32LE(off);
      if (bitmask && names) {
        const out: (string | number)[] = [];
        let rest = n;
        for (const [k, bit] of Object.entries(names)) {
          if (rest & bit) {
            out.push(k);
            rest &= ~bit;
          }
        }
        if (rest) out.push(rest >>> 0);
        return out as V;
      }
      return (byValue?.get(n) ?? n) as V;
    },
  };
}

export type InetProto = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | 'udplite' | 'gre' | 'esp' | 'ah' | 'igmp' | 'dccp' | number;
export type NfProto = 'ipv4' | 'ipv6' | number;
export type CtState = 'invalid' | 'established' | 'related' | 'new' | 'untracked';
export type CtStatus = 'expected' | 'seen-reply' | 'assured' | 'confirmed' | 'snat' | 'dnat' | 'dying';
export type FibAddrType =
  | 'unspec'
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'anycast'
  | 'multicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | number;

// /etc/protocols numbers nft knows by name.
export const INET_PROTOCOLS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, dccp: 33, gre: 47, esp: 50, ah: 51, icmpv6: 58, sctp: 132, udplite: 136 };
export const CT_STATES: Record<CtState, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
// enum ip_conntrack_status bits
export const CT_STATUSES: Record<CtStatus, number> = { expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512 };
// RTN_* (linux/rtnetlink.h)
export const FIB_ADDR_TYPES: Record<string, number> = {
  unspec: 0,
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
};

/**
 * Parses dotted-quad IPv4 text straight into buf (what net.isIPv4 accepts:
 * four decimal octets, no leading zeros). False when it is not one.
 */
function writeIpv4(buf: Buffer, off: number, s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let octet = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 3) return false;
      buf[off + part++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return false;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

export const ipv4Addr: DataType<string> = {
  name: 'ipv4_addr',
  id: TYPE_IPADDR,
  len: 4,
  byteorder: BYTEORDER_BIG_ENDIAN,
  prefixes: true,
  bigEndian: true,
  write(buf, off, v, arg) {
    if (typeof v !== 'string' || !writeIpv4(buf, off, v)) throw new TypeError(`${arg} must be an IPv4 address, got ${JSON.stringify(v)}`);
  },
  read: (buf, off) => bytesToIpv4(buf.subarray(off, off + 4)),
};

export const ipv6Addr: DataType<string> = {
  name: 'ipv6_addr',
  id: TYPE_IP6ADDR,
  len: 16,
  byteorder: BYTEORDER_BIG_ENDIAN,
  prefixes: true,
  bigEndian: true,
  write(buf, off, v, arg) {
    if (typeof v !== 'string' || ipFamily(v) !== AF_INET6) throw new TypeError(`${arg} must be an IPv6 address, got ${JSON.stringify(v)}`);
    buf.set(ipv6ToBytes(v), off);
  },
  read: (buf, off) => bytesToIpv6(buf.subarray(off, off + 16)),
};

export const etherAddr: DataType<string> = {
  name: 'ether_addr',
  id: TYPE_ETHERADDR,
  len: 6,
  byteorder: BYTEORDER_BIG_ENDIAN,
  bigEndian: true,
  write(buf, off, v, arg) {
    if (typeof v !== 'string' || !isMac(v)) throw new TypeError(`${arg} must be a MAC address like 02:42:ac:11:00:02, got ${JSON.stringify(v)}`);
    buf.set(macToBytes(v), off);
  },
  read: (buf, off) => bytesToMac(buf.subarray(off, off + 6)),
};

export const inetProto = u8Type<InetProto>('inet_proto', TYPE_INET_PROTOCOL, INET_PROTOCOLS);
// nft marks inet_proto big-endian (a single byte either way).
(inetProto as { byteorder: number }).byteorder = BYTEORDER_BIG_ENDIAN;

export const inetService: DataType<number> = {
  name: 'inet_service',
  id: TYPE_INET_SERVICE,
  len: 2,
  byteorder: BYTEORDER_BIG_ENDIAN,
  bigEndian: true,
  write(buf, off, v, arg) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) throw new RangeError(`${arg} must be a port 0..65535, got ${JSON.stringify(v)}`);
    buf.writeUInt16BE(v, off);
  },
  read: (buf, off) => buf.readUInt16BE(off),
};

export const nfProto = u8Type<NfProto>('nf_proto', TYPE_NFPROTO, { ipv4: 2, ipv6: 10 });
export const mark = u32HostType<number>('mark', TYPE_MARK);
export const ifaceIndex = u32HostType<number>('iface_index', TYPE_IFINDEX);
export const ctState = u32HostType<CtState[] | (CtState | number)[]>('ct_state', TYPE_CT_STATE, CT_STATES, true);
export const ctStatus = u32HostType<(CtStatus | number)[]>('ct_status', TYPE_CT_STATUS, CT_STATUSES, true);
export const fibAddrType = u32HostType<FibAddrType>('fib_addrtype', TYPE_FIB_ADDR, FIB_ADDR_TYPES);
export const ctDir = u8Type<'original' | 'reply' | number>('ct_dir', TYPE_CT_DIR, { original: 0, reply: 1 });

export const IFNAMSIZ = 16;

export const ifname: DataType<string> = {
  name: 'ifname',
  id: TYPE_IFNAME,
  len: IFNAMSIZ,
  byteorder: BYTEORDER_HOST_ENDIAN,
  write(buf, off, v, arg) {
    if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${arg} must be an interface name, got ${JSON.stringify(v)}`);
    const n = Buffer.byteLength(v);
    if (n >= IFNAMSIZ) throw new RangeError(`${arg} ${JSON.stringify(v)} is longer than ${IFNAMSIZ - 1} bytes`);
    buf.fill(0, off, off + IFNAMSIZ);
    buf.write(v, off, 'utf8');
  },
  read: (buf, off) => cString(buf.subarray(off, off + IFNAMSIZ)),
};

/** Map data of a verdict map (NFTA_SET_DATA_TYPE = NFT_DATA_VERDICT, no length). */
export const verdictType: DataType<Verdict> = {
  name: 'verdict',
  id: NFT_DATA_VERDICT,
  len: 0,
  byteorder: BYTEORDER_INVALID,
  write(_buf, _off, v, arg) {
    checkVerdict(v, arg);
  },
  read() {
    throw new TypeError('verdicts are read from NFTA_DATA_VERDICT');
  },
};

/** Values of a type this library has no codec for: raw bytes. */
export function rawType(id: number, len: number, name = `type ${id}`): DataType<Buffer> {
  return {
    name,
    id,
    len,
    byteorder: BYTEORDER_INVALID,
    write(buf, off, v, arg) {
      if (!(v instanceof Uint8Array) || v.length !== len) throw new TypeError(`${arg} must be a Buffer of ${len} bytes`);
      buf.set(v, off);
    },
    read: (buf, off) => Buffer.from(buf.subarray(off, off + len)),
  };
}

const TYPES: DataType<any>[] = [ipv4Addr, ipv6Addr, etherAddr, inetProto, inetService, nfProto, mark, ifaceIndex, ifname, ctState, ctStatus, ctDir, fibAddrType];
const byName = new Map<string, DataType<any>>(TYPES.map((t) => [t.name, t]));
const byId = new Map<number, DataType<any>>(TYPES.map((t) => [t.id, t]));

/** Value types of the data types, by name, for typed elements. */
export interface TypeValues {
  ipv4_addr: string;
  ipv6_addr: string;
  ether_addr: string;
  inet_proto: InetProto;
  inet_service: number;
  nf_proto: NfProto;
  mark: number;
  iface_index: number;
  ifname: string;
  ct_state: (CtState | number)[];
  ct_status: (CtStatus | number)[];
  ct_dir: 'original' | 'reply' | number;
  fib_addrtype: FibAddrType;
}
export type TypeName = keyof TypeValues;
export const TYPE_NAMES = TYPES.map((t) => t.name) as TypeName[];

export function dataTypeByName(name: string, arg = 'type'): DataType<any> {
  const t = byName.get(name);
  if (!t) throw new TypeError(`${arg}: unknown data type ${JSON.stringify(name)} (known: ${TYPE_NAMES.join(', ')})`);
  return t;
}

/** A concatenation of types (`ipv4_addr . inet_service`): values are arrays, one per part. */
export function concatType(parts: readonly DataType<any>[]): DataType<unknown[]> {
  if (parts.length < 2) throw new RangeError('a concatenation needs at least two types');
  if (parts.length > Math.floor(32 / TYPE_BITS)) throw new RangeError(`a concatenation holds at most ${Math.floor(32 / TYPE_BITS)} types`);
  let id = 0;
  let len = 0;
  const offsets: number[] = [];
  for (const p of parts) {
    if (p.id > TYPE_MASK) throw new TypeError(`${p.name} cannot be part of a concatenation`);
    id = (id << TYPE_BITS) | p.id;
    offsets.push(len);
    len += pad4(p.len);
  }
  if (len > 64) throw new RangeError(`the concatenation is ${len} bytes; registers hold 64`);
  return {
    name: parts.map((p) => p.name).join(' . '),
    id: id >>> 0,
    len,
    byteorder: BYTEORDER_INVALID,
    parts,
    write(buf, off, v, arg) {
      if (!Array.isArray(v) || v.length !== parts.length) throw new TypeError(`${arg} must be an array of ${parts.length} values (${this.name})`);
      for (let i = 0; i < parts.length; i++) {
        const at = off + offsets[i];
        const p = parts[i];
        p.write(buf, at, v[i], `${arg}[${i}]`);
        for (let j = p.len; j < pad4(p.len); j++) buf[at + j] = 0;
      }
    },
    read(buf, off) {
      return parts.map((p, i) => p.read(buf, off + offsets[i]));
    },
  };
}

/** A key or data type given by name, or a concatenation as a list of names. */
export type TypeSpec = TypeName | readonly TypeName[];

export function resolveType(spec: TypeSpec | string | readonly string[], arg = 'type'): DataType<any> {
  if (typeof spec === 'string') return dataTypeByName(spec, arg);
  if (Array.isArray(spec)) {
    if (spec.length === 1) return dataTypeByName(spec[0], arg);
    return concatType(spec.map((s, i) => dataTypeByName(s, `${arg}[${i}]`)));
  }
  throw new TypeError(`${arg} must be a type name or a list of type names (a concatenation)`);
}

/**
 * The type behind a set's NFTA_SET_{KEY,DATA}_TYPE and length. Unknown ids
 * (and concatenations with unknown parts) come back as raw bytes.
 */
export function typeFromKernel(id: number, len: number): DataType<any> {
  const single = byId.get(id);
  if (single && single.len === len) return single;
  if (id > TYPE_MASK) {
    const ids: number[] = [];
    for (let rest = id >>> 0; rest; rest = Math.floor(rest / (1 << TYPE_BITS))) ids.unshift(rest & TYPE_MASK);
    const parts = ids.map((i) => byId.get(i));
    if (parts.every((p): p is DataType<any> => p !== undefined)) {
      const t = concatType(parts);
      if (t.len === len) return t;
    }
  }
  return rawType(id, len);
}

/** The name (or part names) of a type, as a set reports it. */
export function typeSpecOf(t: DataType<any>): string | string[] {
  return t.parts ? t.parts.map((p) => p.name) : t.name;
}

/** Encodes a value of type t into a fresh buffer. */
export function encodeValue<V>(t: DataType<V>, v: V, arg: string): Buffer {
  const b = Buffer.alloc(t.len);
  t.write(b, 0, v, arg);
  return b;
}

/** Field lengths for NFTA_SET_DESC_CONCAT (unpadded sizes of the parts). */
export function concatFieldLens(t: DataType<any>): number[] | undefined {
  return t.parts?.map((p) => p.len);
}
