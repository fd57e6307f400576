// Which ports sockets of a namespace hold, in one sock_diag dump per
// protocol and family (what `ss -tuan` reads): the probe for publishing many
// ports at once, where binding a socket per port would cost a namespace
// switch each. Over NETLINK_SOCK_DIAG with SOCK_DIAG_BY_FAMILY.
import { NetlinkSocket } from '../engine.js';
import type { Namespace } from '../namespace.js';
import { bytesToIp } from '../wire/address.js';
import { NLM_F_DUMP, NLM_F_REQUEST, Writer } from '../wire/netlink.js';
import type { IpFamily, Protocol } from './layout.js';

const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO = { tcp: 6, udp: 17 } as const;
const TCP_TIME_WAIT = 6;

/** A socket holding a local port. */
export interface BoundSocket {
  family: IpFamily;
  protocol: Protocol;
  address: string;
  port: number;
}

// struct inet_diag_req_v2 { u8 family, protocol, ext, pad; u32 states; struct inet_diag_sockid id (48 bytes) }
function request(family: number, protocol: number): Buffer {
  const w = new Writer(96);
  const m = w.begin(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
  const at = w.struct(56);
  w.buf[at] = family;
  w.buf[at + 1] = protocol;
  w.buf.writeUInt32LE(0xffffffff, at + 4);
  w.end(m);
  return w.finish();
}

/**
 * Every TCP socket but those in TIME_WAIT (which a bind with SO_REUSEADDR
 * ignores) and every UDP socket of the namespace, IPv4 and IPv6.
 */
export async function boundSockets(ns: Namespace, protocols: readonly Protocol[]): Promise<BoundSocket[]> {
  const sock = new NetlinkSocket(NETLINK_SOCK_DIAG, ns.nsFd);
  try {
    const dumps = protocols.flatMap((protocol) =>
      ([AF_INET, AF_INET6] as const).map(async (family) => {
        const msgs = await sock.call(request(family, IPPROTO[protocol]), { operation: 'sock_diag', subject: protocol, dump: true });
        const out: BoundSocket[] = [];
        for (const m of msgs) {
          // struct inet_diag_msg: family, state, timer, retrans; id { sport be16 @4, dport @6, src @8 (16 bytes) … }
          if (m.type !== SOCK_DIAG_BY_FAMILY || m.payload.length < 72) continue;
          const p = m.payload;
          if (protocol === 'tcp' && p[1] === TCP_TIME_WAIT) continue;
          const port = p.readUInt16BE(4);
          if (port === 0) continue;
          out.push({ family: p[0] === AF_INET6 ? 6 : 4, protocol, address: bytesToIp(p.subarray(8, p[0] === AF_INET6 ? 24 : 12)), port });
        }
        return out;
      }),
    );
    return (await Promise.all(dumps)).flat();
  } finally {
    sock.close();
  }
}

/** Indexes sockets by "protocol|port". */
export function byPort(sockets: readonly BoundSocket[]): Map<string, BoundSocket[]> {
  const m = new Map<string, BoundSocket[]>();
  for (const s of sockets) {
    const k = `${s.protocol}|${s.port}`;
    const l = m.get(k);
    if (l) l.push(s);
    else m.set(k, [s]);
  }
  return m;
}

/**
 * Whether a bind of (family, address or any) would meet this socket: the
 * same address, or either side the unspecified one; an IPv6 socket on `::`
 * also holds the IPv4 port (dual-stack, the default), and a v4-mapped one
 * its IPv4 address. Conservative where sock_diag cannot tell (IPV6_V6ONLY,
 * SO_REUSEADDR on the other socket): then it counts as taken.
 */
export function overlaps(s: BoundSocket, family: IpFamily, address: string | undefined): boolean {
  const any = s.address === '0.0.0.0' || s.address === '::';
  if (s.family === family) return any || address === undefined || s.address === address;
  if (family === 4) return s.address === '::' || (address === undefined ? s.address.startsWith('::ffff:') : s.address === `::ffff:${address}`);
  // An IPv6 bind to `::` is dual-stack and meets every IPv4 socket on the port.
  return address === undefined;
}
