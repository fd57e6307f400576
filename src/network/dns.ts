// The embedded DNS server of Docker-style networks (dockerd's 127.0.0.11),
// served from this Node process: attach() binds a UDP socket and a TCP
// listener inside a container's namespace; queries for names in the zones
// (networks) it is attached to are answered from memory, everything else is
// forwarded to upstream servers from the process's own namespace and the
// answer relayed with the client's id. Messages are encoded and decoded
// with dns-packet; only the 2-byte TCP length prefix, the 16-bit id of
// relayed messages and the header of undecodable ones are touched directly.
//
// A socket keeps its namespace alive: detach() when the container goes away.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet';
import type { Namespace } from '../namespace.js';
import type { NamespaceServer } from '../ns-socket.js';
import { canonicalIp } from './ipam.js';
import { AF_INET, ipFamily } from '../wire/address.js';

export const DEFAULT_RESOLVER_ADDRESS = '127.0.0.11';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const FLAG_AA = dnsPacket.AUTHORITATIVE_ANSWER;
const FLAG_TC = dnsPacket.TRUNCATED_RESPONSE;
const FLAG_RD = dnsPacket.RECURSION_DESIRED;
const FLAG_RA = dnsPacket.RECURSION_AVAILABLE;
const OPCODE_MASK = 0x7800;
/** Largest UDP payload we advertise and send (DNS flag day 2020). */
const EDNS_UDP_SIZE = 1232;
const TCP_IDLE_MS = 10_000;

/** Errors of the DNS server's own making; `code` as Node's ('EEXIST', 'ENOENT', 'ESHUTDOWN', 'ECANCELED'). */
export class DnsError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DnsError';
    this.code = code;
  }
}

/** One container on a network: its name (the PTR target), aliases, and addresses. */
export interface DnsRecord {
  name: string;
  addresses: readonly string[];
  aliases?: readonly string[];
}

export interface DnsServerOptions {
  /** "1.1.1.1", "10.0.0.2:5353", "[2001:db8::1]:53", "::1". Default: the nameservers of /etc/resolv.conf, read once. */
  upstream?: readonly string[];
  /** How long to wait for each upstream server before trying the next (default 2000). */
  timeoutMs?: number;
  /** TTL of answers from the zones (default 600, as dockerd). */
  ttl?: number;
  /** Forwarded queries in flight at once; more are answered REFUSED (default 1024, as dockerd). */
  maxInflight?: number;
}

export interface AttachOptions {
  /** The zones (networks) whose names this namespace resolves, searched in order. */
  zones: readonly string[];
  /** Address to serve on inside the namespace (default 127.0.0.11, on lo). */
  address?: string;
  /** Port (default 53). 0 lets the kernel pick, separately for UDP and TCP, for a DNAT from 53 as dockerd does. */
  port?: number;
}

export interface Attached {
  address: string;
  udpPort: number;
  tcpPort: number;
}

interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

interface Entry {
  name: string;
  aliases: string[];
  v4: string[];
  v6: string[];
}

interface Attachment {
  key: string;
  zones: string[];
  udp?: dgram.Socket;
  tcp?: NamespaceServer;
  conns: Set<net.Socket>;
  closed: boolean;
}

const LABEL = /^[a-z0-9_-]{1,63}$/i;

/** A DNS name of letters, digits, '-' and '_' labels; a trailing dot is dropped. */
function checkName(value: unknown, arg: string): string {
  if (typeof value !== 'string') throw new TypeError(`${arg} must be a DNS name string, got ${typeof value}`);
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) {
    throw new TypeError(`${arg} ${JSON.stringify(value)} is not a DNS name (labels of 1-63 letters, digits, '-' or '_', at most 253 bytes)`);
  }
  return name;
}

function checkRecord(r: DnsRecord, arg: string): Entry {
  if (typeof r !== 'object' || r === null) throw new TypeError(`${arg} must be a record { name, addresses, aliases? }`);
  const name = checkName(r.name, `${arg}.name`);
  if (r.aliases !== undefined && !Array.isArray(r.aliases)) throw new TypeError(`${arg}.aliases must be an array of names`);
  const aliases = (r.aliases ?? []).map((a, i) => checkName(a, `${arg}.aliases[${i}]`));
  if (!Array.isArray(r.addresses)) throw new TypeError(`${arg}.addresses must be an array of IP addresses`);
  const entry: Entry = { name, aliases, v4: [], v6: [] };
  for (const [i, a] of r.addresses.entries()) {
    const ip = canonicalIp(a, `${arg}.addresses[${i}]`);
    (ipFamily(ip) === AF_INET ? entry.v4 : entry.v6).push(ip);
  }
  return entry;
}

/** The names of one network, indexed by lowercase name and alias. */
class Zone {
  readonly entries = new Map<string, Entry>();
  private readonly index = new Map<string, Set<Entry>>();

  add(e: Entry, zone: string): void {
    const key = e.name.toLowerCase();
    if (this.entries.has(key)) throw new DnsError('EEXIST', `zone ${zone} already has a record named ${e.name}`);
    this.entries.set(key, e);
    for (const n of [e.name, ...e.aliases]) {
      const k = n.toLowerCase();
      let set = this.index.get(k);
      if (!set) this.index.set(k, (set = new Set()));
      set.add(e);
    }
  }

  remove(name: string): boolean {
    const key = name.toLowerCase();
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    for (const n of [e.name, ...e.aliases]) {
      const k = n.toLowerCase();
      const set = this.index.get(k);
      set?.delete(e);
      if (set?.size === 0) this.index.delete(k);
    }
    return true;
  }

  lookup(lowerName: string): Iterable<Entry> {
    return this.index.get(lowerName) ?? [];
  }

  /** The first record (in insertion order) holding ip. */
  byAddress(ip: string): Entry | undefined {
    for (const e of this.entries.values()) if (e.v4.includes(ip) || e.v6.includes(ip)) return e;
    return undefined;
  }
}

/** "4.3.2.1.in-addr.arpa" / 32-nibble ".ip6.arpa" names → canonical IP, else undefined. */
export function reverseNameToIp(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const l = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (l.length !== 4 || !l.every((x) => /^(0|[1-9]\d{0,2})$/.test(x) && Number(x) <= 255)) return undefined;
    return l.reverse().join('.');
  }
  if (n.endsWith('.ip6.arpa')) {
    const l = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (l.length !== 32 || !l.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = l.reverse().join('');
    return canonicalIp(hex.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

/** "1.1.1.1", "1.1.1.1:5353", "[::1]:53", "::1" → host, port, family. */
export function parseUpstream(value: string, arg = 'upstream'): Upstream {
  if (typeof value !== 'string') throw new TypeError(`${arg} must be an address string, got ${typeof value}`);
  let host = value;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  const v4port = /^([\d.]+):(\d{1,5})$/.exec(value);
  if (bracketed) {
    host = bracketed[1];
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (v4port) {
    host = v4port[1];
    port = Number(v4port[2]);
  }
  const fam = ipFamily(host);
  if (!fam) throw new TypeError(`${arg} ${JSON.stringify(value)} must be an IP address with an optional port ("1.1.1.1:53", "[::1]:53")`);
  if (port < 1 || port > 65535) throw new RangeError(`${arg} ${JSON.stringify(value)}: port must be in 1..65535`);
  return { host, port, family: fam === AF_INET ? 4 : 6 };
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** Reads resolv.conf text: nameserver lines (valid addresses only), the last search/domain line, and options. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...args] = line.split(/\s+/);
    if (key === 'nameserver' && args[0] && ipFamily(args[0].split('%')[0])) out.nameservers.push(args[0]);
    else if (key === 'search' || key === 'domain') out.search = args;
    else if (key === 'options') out.options.push(...args);
  }
  return out;
}

/** The nameservers of the host's resolv.conf; none if it is missing. */
export function hostNameservers(path = '/etc/resolv.conf'): string[] {
  try {
    return parseResolvConf(readFileSync(path, 'utf8')).nameservers;
  } catch {
    return [];
  }
}

/**
 * resolv.conf text for a container using the embedded server, as dockerd
 * writes it: `nameserver 127.0.0.11`, the given search domains, and
 * `options ndots:0` unless the options set ndots themselves. Text only.
 */
export function containerResolvConf(opts: { nameserver?: string; search?: readonly string[]; options?: readonly string[] } = {}): string {
  const ns = canonicalIp(opts.nameserver ?? DEFAULT_RESOLVER_ADDRESS, 'nameserver');
  const search = (opts.search ?? []).map((s, i) => checkName(s, `search[${i}]`));
  const options = [...(opts.options ?? [])];
  for (const [i, o] of options.entries()) {
    if (typeof o !== 'string' || o === '' || /\s/.test(o)) throw new TypeError(`options[${i}] must be a resolv.conf option like "ndots:1", got ${JSON.stringify(o)}`);
  }
  if (!options.some((o) => o.startsWith('ndots:'))) options.unshift('ndots:0');
  let text = `nameserver ${ns}\n`;
  if (search.length) text += `search ${search.join(' ')}\n`;
  return `${text}options ${options.join(' ')}\n`;
}

/** Splits a TCP byte stream into DNS messages (RFC 1035 4.2.2: 2-byte length prefix). */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const n = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + n) break;
      out.push(this.buf.subarray(2, 2 + n));
      this.buf = this.buf.subarray(2 + n);
    }
    return out;
  }
}

function frame(msg: Buffer): Buffer {
  const b = Buffer.allocUnsafe(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  msg.copy(b, 2);
  return b;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function sameQuestion(a: Question, b: Question): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.type === b.type && (a.class ?? 'IN') === (b.class ?? 'IN');
}

/** The rcode of a response to (id, question), or undefined if msg is not that response. */
function matchResponse(msg: Buffer, id: number, q: Question): number | undefined {
  let r: DecodedPacket;
  try {
    r = dnsPacket.decode(msg);
  } catch {
    return undefined;
  }
  if (r.type !== 'response' || r.id !== id || r.questions?.length !== 1 || !sameQuestion(r.questions[0], q)) return undefined;
  return (r.flags ?? 0) & 0x0f;
}

function identityKey(ns: Namespace): string {
  return ns.identity().join(':');
}

/**
 * dockerd's embedded resolver for namespaces this process manages.
 *
 *   const dns = new DnsServer();
 *   dns.addRecord('appnet', { name: 'web', aliases: ['www'], addresses: ['172.18.0.2'] });
 *   await dns.attach(containerNs, { zones: ['appnet'] });
 *   // write containerResolvConf() as the container's /etc/resolv.conf
 */
export class DnsServer {
  readonly upstream: readonly string[];
  readonly timeoutMs: number;
  readonly ttl: number;
  readonly maxInflight: number;
  private readonly upstreams: Upstream[];
  private readonly zones = new Map<string, Zone>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly keys = new WeakMap<Namespace, string>();
  /** Finishers of upstream exchanges in flight, called with undefined on close(). */
  private readonly exchanges = new Set<(r: undefined) => void>();
  private inflight = 0;
  private closed = false;

  constructor(opts: DnsServerOptions = {}) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
    if (opts.upstream !== undefined && !Array.isArray(opts.upstream)) throw new TypeError('upstream must be an array of addresses');
    this.upstream = [...(opts.upstream ?? hostNameservers())];
    this.upstreams = this.upstream.map((u, i) => parseUpstream(u, `upstream[${i}]`));
    this.timeoutMs = positiveInt(opts.timeoutMs ?? 2000, 'timeoutMs', 600_000);
    this.ttl = positiveInt(opts.ttl ?? 600, 'ttl', 0x7fffffff, 0);
    this.maxInflight = positiveInt(opts.maxInflight ?? 1024, 'maxInflight', 1 << 20);
  }

  /** Replaces all records of a zone (a network's name table). */
  setRecords(zone: string, records: readonly DnsRecord[]): void {
    const name = checkName(zone, 'zone');
    if (!Array.isArray(records)) throw new TypeError('records must be an array of { name, addresses, aliases? }');
    const z = new Zone();
    records.forEach((r, i) => z.add(checkRecord(r, `records[${i}]`), name));
    this.zones.set(name, z);
  }

  /** Adds a container's record to a zone; EEXIST if the zone has a record of that name (remove it first to change it). */
  addRecord(zone: string, record: DnsRecord): void {
    const name = checkName(zone, 'zone');
    const entry = checkRecord(record, 'record');
    let z = this.zones.get(name);
    if (!z) this.zones.set(name, (z = new Zone()));
    z.add(entry, name);
  }

  /** Removes the record named `name` (with its aliases) from a zone; false if there was none. */
  removeRecord(zone: string, name: string): boolean {
    return this.zones.get(checkName(zone, 'zone'))?.remove(checkName(name, 'name')) ?? false;
  }

  /** The records of a zone, as given (addresses canonical). */
  records(zone: string): DnsRecord[] {
    const z = this.zones.get(checkName(zone, 'zone'));
    return z ? [...z.entries.values()].map((e) => ({ name: e.name, aliases: [...e.aliases], addresses: [...e.v4, ...e.v6] })) : [];
  }

  /** Drops a zone and its records; attached namespaces that list it simply find nothing there. */
  deleteZone(zone: string): boolean {
    return this.zones.delete(checkName(zone, 'zone'));
  }

  /**
   * Starts serving inside ns: binds UDP and TCP on address:port there
   * (127.0.0.11:53 by default). The address must be reachable there (for
   * 127.0.0.11: lo up), else ENETUNREACH. One attachment per namespace.
   */
  async attach(ns: Namespace, opts: AttachOptions): Promise<Attached> {
    if (this.closed) throw new DnsError('ESHUTDOWN', 'DnsServer is closed');
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object with zones');
    const zones = this.checkZones(opts.zones);
    const address = canonicalIp(opts.address ?? DEFAULT_RESOLVER_ADDRESS, 'address');
    const port = opts.port ?? 53;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${String(opts.port)}`);
    const key = identityKey(ns);
    if (this.attachments.has(key)) throw new DnsError('EEXIST', `DNS is already served in namespace ${ns.name ?? key}`);
    const att: Attachment = { key, zones, conns: new Set(), closed: false };
    this.attachments.set(key, att);
    this.keys.set(ns, key);
    try {
      const udp = (att.udp = await ns.createDgram({ address, port }));
      udp.on('error', () => {});
      // An empty datagram to ourselves proves the address is reachable in
      // the namespace (a bind succeeds even with lo down); it is ignored.
      await new Promise<void>((resolve, reject) => udp.send(Buffer.alloc(0), udp.address().port, address, (err) => (err ? reject(err) : resolve())));
      att.udp.on('message', (msg, rinfo) => {
        void this.answer(msg, att, 'udp').then((r) => {
          if (r && !att.closed) att.udp!.send(r, rinfo.port, rinfo.address);
        });
      });
      att.tcp = ns.createServer((conn) => this.serveTcp(conn, att));
      await att.tcp.listenAsync({ host: address, port });
      if (att.closed) throw new DnsError('ECANCELED', `detached from namespace ${ns.name ?? key} while attaching`);
      return { address, udpPort: att.udp.address().port, tcpPort: (att.tcp.address() as net.AddressInfo).port };
    } catch (err) {
      if (this.attachments.get(key) === att) this.attachments.delete(key);
      await this.shut(att);
      const code = (err as { code?: string }).code;
      const where = `namespace ${ns.name ?? key}`;
      if (code === 'ENETUNREACH') {
        const hint = address.startsWith('127.') || address === '::1' ? ': is lo up there?' : '';
        throw new DnsError(code, `${address} is unreachable in ${where}${hint}`, { cause: err });
      }
      if (code === 'EADDRNOTAVAIL') throw new DnsError(code, `${address} is not an address of ${where}`, { cause: err });
      throw err;
    }
  }

  /** Changes which zones an attached namespace resolves (a container joined or left a network). */
  setZones(ns: Namespace, zones: readonly string[]): void {
    const checked = this.checkZones(zones);
    const att = this.attachments.get(this.keys.get(ns) ?? identityKey(ns));
    if (!att) throw new DnsError('ENOENT', `DNS is not served in namespace ${ns.name ?? ''}`.trim());
    att.zones = checked;
  }

  /** Stops serving inside ns and closes its sockets (releasing the namespace); false if not attached. */
  async detach(ns: Namespace): Promise<boolean> {
    const key = this.keys.get(ns) ?? identityKey(ns);
    const att = this.attachments.get(key);
    if (!att) return false;
    this.attachments.delete(key);
    await this.shut(att);
    return true;
  }

  /** Detaches everywhere and drops upstream exchanges in flight (their clients get no answer). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.attachments.values()];
    this.attachments.clear();
    for (const finish of [...this.exchanges]) finish(undefined);
    await Promise.all(all.map((a) => this.shut(a)));
  }

  private checkZones(zones: readonly string[]): string[] {
    if (!Array.isArray(zones)) throw new TypeError('zones must be an array of zone names');
    return zones.map((z, i) => checkName(z, `zones[${i}]`));
  }

  private async shut(att: Attachment): Promise<void> {
    att.closed = true;
    for (const c of att.conns) c.destroy();
    if (att.udp) {
      try {
        att.udp.close();
      } catch {
        // already closed
      }
    }
    const tcp = att.tcp;
    if (tcp?.listening) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  private serveTcp(conn: net.Socket, att: Attachment): void {
    if (att.closed) return void conn.destroy();
    att.conns.add(conn);
    conn.on('close', () => att.conns.delete(conn));
    conn.on('error', () => {});
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    const reader = new FrameReader();
    conn.on('data', (chunk: Buffer) => {
      for (const msg of reader.push(chunk)) {
        void this.answer(msg, att, 'tcp').then((r) => {
          if (r && !conn.destroyed) conn.write(frame(r));
        });
      }
    });
  }

  /** The response to one message, or undefined to stay silent. Never rejects. */
  private async answer(msg: Buffer, att: Attachment, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Unparseable: FORMERR if it at least has a query header, else silence.
      if (msg.length < 12 || msg[2] & 0x80) return undefined;
      return dnsPacket.encode({ id: msg.readUInt16BE(0), type: 'response', flags: (msg.readUInt16BE(2) & OPCODE_MASK) | RCODE.FORMERR });
    }
    try {
      if (query.type !== 'query') return undefined;
      if ((query as { opcode?: string }).opcode !== 'QUERY') return this.reply(query, RCODE.NOTIMP);
      if (query.questions?.length !== 1) return this.reply(query, RCODE.FORMERR);
      const q = query.questions[0];
      const local = this.lookup(q, att.zones);
      if (local) return this.localReply(query, q, local, transport);
      return await this.forward(msg, query, q, transport);
    } catch {
      return this.reply(query, RCODE.SERVFAIL);
    }
  }

  private reply(query: DecodedPacket, rcode: number): Buffer {
    return dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: ((query.flags ?? 0) & (OPCODE_MASK | FLAG_RD)) | FLAG_RA | rcode,
      questions: query.questions ?? [],
    });
  }

  /** Authoritative answer from the zones; over UDP, records that do not fit the client's size are dropped and TC set. */
  private localReply(query: DecodedPacket, q: Question, answers: Answer[], transport: 'udp' | 'tcp'): Buffer {
    const edns = query.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    const limit = transport === 'tcp' ? 0xffff : Math.min(Math.max(512, edns?.udpPayloadSize ?? 512), EDNS_UDP_SIZE);
    const packet: Packet = {
      id: query.id,
      type: 'response',
      flags: ((query.flags ?? 0) & (OPCODE_MASK | FLAG_RD)) | FLAG_AA | FLAG_RA | RCODE.NOERROR,
      questions: [q],
      answers,
      additionals: edns
        ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
        : [],
    };
    let buf = dnsPacket.encode(packet);
    while (buf.length > limit && answers.length > 0) {
      answers.pop();
      packet.flags! |= FLAG_TC;
      buf = dnsPacket.encode(packet);
    }
    return buf;
  }

  /** Records for q from the zones, [] for a known name without records of that type, undefined if not ours. */
  private lookup(q: Question, zones: readonly string[]): Answer[] | undefined {
    if ((q.class ?? 'IN') !== 'IN') return undefined;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    if (q.type === 'PTR') {
      const ip = reverseNameToIp(name);
      if (!ip) return undefined;
      for (const z of zones) {
        const e = this.zones.get(z)?.byAddress(ip);
        if (e) return [{ type: 'PTR', name: q.name, ttl: this.ttl, data: `${e.name}.${z}` }];
      }
      return undefined;
    }
    const entries = new Set<Entry>();
    for (const z of zones) {
      const zone = this.zones.get(z);
      if (!zone) continue;
      for (const e of zone.lookup(name)) entries.add(e);
      // "web.appnet" resolves "web" in zone appnet, as dockerd's container.network names.
      const suffix = `.${z.toLowerCase()}`;
      if (name.endsWith(suffix)) for (const e of zone.lookup(name.slice(0, -suffix.length))) entries.add(e);
    }
    if (entries.size === 0) return undefined;
    if (q.type !== 'A' && q.type !== 'AAAA') return [];
    const addrs = new Set<string>();
    for (const e of entries) for (const a of q.type === 'A' ? e.v4 : e.v6) addrs.add(a);
    return shuffle([...addrs]).map((data) => ({ type: q.type as 'A' | 'AAAA', name: q.name, ttl: this.ttl, data }));
  }

  /**
   * Tries each upstream in turn over the client's transport; a SERVFAIL or
   * REFUSED answer moves on to the next. Relays the upstream's bytes with
   * the client's id; SERVFAIL if nobody answered in time.
   */
  private async forward(msg: Buffer, query: DecodedPacket, q: Question, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (this.inflight >= this.maxInflight) return this.reply(query, RCODE.REFUSED);
    this.inflight++;
    try {
      let fallback: Buffer | undefined;
      for (const up of this.upstreams) {
        const r = await this.exchange(msg, q, up, transport);
        if (this.closed) return undefined;
        if (!r) continue;
        r.raw.writeUInt16BE(query.id ?? 0, 0);
        if (r.rcode === RCODE.SERVFAIL || r.rcode === RCODE.REFUSED) {
          fallback = r.raw;
          continue;
        }
        return r.raw;
      }
      return fallback ?? this.reply(query, RCODE.SERVFAIL);
    } finally {
      this.inflight--;
    }
  }

  /** One query to one upstream under a fresh random id, from a fresh socket (random source port). */
  private exchange(msg: Buffer, q: Question, up: Upstream, transport: 'udp' | 'tcp'): Promise<{ raw: Buffer; rcode: number } | undefined> {
    const id = randomInt(0x10000);
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      let cleanup = (): void => {};
      const finish = (r: { raw: Buffer; rcode: number } | undefined): void => {
        if (!this.exchanges.delete(finish)) return;
        clearTimeout(timer);
        cleanup();
        resolve(r);
      };
      this.exchanges.add(finish);
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      const onMessage = (m: Buffer): void => {
        const rcode = matchResponse(m, id, q);
        if (rcode !== undefined) finish({ raw: m, rcode });
      };
      if (transport === 'udp') {
        const sock = dgram.createSocket(up.family === 6 ? 'udp6' : 'udp4');
        cleanup = () => {
          try {
            sock.close();
          } catch {
            // already closed
          }
        };
        sock.on('error', () => finish(undefined));
        sock.on('message', onMessage);
        sock.connect(up.port, up.host, () => sock.send(out, (err) => err && finish(undefined)));
      } else {
        const sock = net.connect({ host: up.host, port: up.port });
        cleanup = () => sock.destroy();
        const reader = new FrameReader();
        sock.on('error', () => finish(undefined));
        sock.on('close', () => finish(undefined));
        sock.on('connect', () => sock.write(frame(out)));
        sock.on('data', (chunk: Buffer) => reader.push(chunk).forEach(onMessage));
      }
    });
  }
}

function positiveInt(value: unknown, arg: string, max: number, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${arg} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}
