// IP and MAC addresses as bytes, the way the kernel carries them
// (network byte order), and back to their usual text forms.
import { isIPv4, isIPv6 } from 'node:net';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_BRIDGE = 7;

export function ipFamily(addr: string): typeof AF_INET | typeof AF_INET6 | 0 {
  if (isIPv4(addr)) return AF_INET;
  if (isIPv6(addr)) return AF_INET6;
  return 0;
}

export function ipv4ToBytes(addr: string): Buffer {
  const parts = addr.split('.');
  const b = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) b[i] = Number(parts[i]);
  return b;
}

export function ipv6ToBytes(addr: string): Buffer {
  const b = Buffer.alloc(16);
  let text = addr;
  const pct = text.indexOf('%');
  if (pct >= 0) text = text.slice(0, pct);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBytes(tail);
    text = `${text.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  for (let i = 0; i < 8; i++) b.writeUInt16BE(parseInt(groups[i], 16), i * 2);
  return b;
}

export function ipToBytes(addr: string): Buffer {
  const fam = ipFamily(addr);
  if (fam === AF_INET) return ipv4ToBytes(addr);
  if (fam === AF_INET6) return ipv6ToBytes(addr);
  throw new TypeError(`not an IP address: ${JSON.stringify(addr)}`);
}

export function bytesToIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text: lowercase, longest run of zero groups (length >= 2) as "::". */
export function bytesToIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped addresses print their tail as dotted quad, as iproute2 does.
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return bytesToIpv4(b);
  if (b.length === 16) return bytesToIpv6(b);
  throw new TypeError(`an IP address is 4 or 16 bytes, got ${b.length}`);
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function isMac(mac: string): boolean {
  return MAC_RE.test(mac);
}

export function macToBytes(mac: string): Buffer {
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

export function bytesToMac(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ':' : '') + b[i].toString(16).padStart(2, '0');
  return s;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: typeof AF_INET | typeof AF_INET6;
}

/** "10.0.0.1/24" → { address, prefix, family }. A bare address gets the full prefix. */
export function parseCidr(text: string, arg = 'address'): Cidr {
  if (typeof text !== 'string') throw new TypeError(`${arg} must be a string in CIDR form, got ${typeof text}`);
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(address);
  if (!family) throw new TypeError(`${arg}: ${JSON.stringify(text)} is not an IP address or CIDR`);
  const max = family === AF_INET ? 32 : 128;
  if (slash < 0) return { address, prefix: max, family };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
    throw new RangeError(`${arg}: prefix length in ${JSON.stringify(text)} must be 0..${max}`);
  }
  return { address, prefix: Number(p), family };
}

/** The network address of addr/prefix, as bytes. */
export function networkBytes(addr: Uint8Array, prefix: number): Buffer {
  const b = Buffer.from(addr);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    b[i] &= (0xff << (8 - bits)) & 0xff;
  }
  return b;
}

export function prefixMask(len: number, prefix: number): Buffer {
  return networkBytes(Buffer.alloc(len, 0xff), prefix);
}
