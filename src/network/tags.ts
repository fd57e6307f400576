// What netweave writes into the kernel so that the kernel alone describes
// its networks: a compact text tag in a link's IFLA_IFALIAS (≤ 255 bytes),
// link names derived from ids, and interface groups (IFLA_GROUP) per
// network. No kernel access here.
//
// Tags are `nw1<kind>` followed by `key=value` fields, values escaped with
// %XX for anything outside a safe set:
//
//   nw1n i=<net id> n=<name> d=<driver> s=<subnet> g=<gateway> r=<ip range> f=<flags> o.<key>=<value>…
//        on the network's own link: its bridge, or the anchor of a macvlan/ipvlan network
//   nw1e i=<endpoint id> N=<net id> a=<ip> n=<name> A=<alias,alias> if=<ifname> ns=<netns name>|pid=<pid> m=<mac>
//        on an endpoint's host-side veth (or its macvlan/ipvlan link): the endpoint is complete —
//        written by the last step of connect, the commit marker
//   nw1p …same fields…
//        a macvlan/ipvlan endpoint's link while connect is still running; never reported as
//        an endpoint. A veth endpoint's host end has no tag until connect's last step: in the
//        network's endpoints group, untagged, it is a connect under way or one cut short
//        (pending tags cost the kernel a NETDEV_CHANGE round, ~50 µs a connect)
//   nw1x N=<net id> r=<role>
//        an auxiliary link of a network (the overlay's vxlan device)
//
// Interface groups: each network owns four consecutive groups from
// GROUP_BASE — its endpoints, its infrastructure (bridge, vxlan, anchor), a
// scratch group that bulk disconnects move links into before deleting them
// in one request, and one prune uses the same way (reap). A link in one of these groups without a valid tag is a
// leftover of a crash; pruneNetworks() removes it.
import { randomBytes } from 'node:crypto';
import { NetworkError } from './errors.js';

export const TAG_PREFIX = 'nw1';
/** IFALIASZ is 256 including the NUL. */
export const TAG_MAX_BYTES = 255;

/** Interface groups 0x6e770000… ("nw"): 16,384 networks × 4 groups. */
export const GROUP_BASE = 0x6e770000;
export const GROUP_SLOTS = 16384;
export const GROUP_ROLES = { endpoints: 0, infra: 1, scratch: 2, reap: 3 } as const;
export type GroupRole = keyof typeof GROUP_ROLES;

export function groupOf(slot: number, role: GroupRole): number {
  return GROUP_BASE + slot * 4 + GROUP_ROLES[role];
}

/** The slot and role of a group in netweave's range, else undefined. */
export function slotOfGroup(group: number): { slot: number; role: GroupRole } | undefined {
  const off = group - GROUP_BASE;
  if (!Number.isInteger(off) || off < 0 || off >= GROUP_SLOTS * 4) return undefined;
  const r = off % 4;
  return { slot: Math.floor(off / 4), role: (Object.keys(GROUP_ROLES) as GroupRole[]).find((k) => GROUP_ROLES[k] === r)! };
}

/** The preferred slot for a network id (its first hex digits); free slots are probed from there. */
export function preferredSlot(id: string): number {
  return parseInt(id.slice(0, 4), 16) % GROUP_SLOTS;
}

// Ids come from a pool of random bytes filled 4 KiB at a time (one
// randomBytes call costs ~15 µs; connect makes one id).
let entropy = Buffer.alloc(0);
let entropyAt = 0;

/** 16 random hex digits (64 bits). */
export function randomId(): string {
  if (entropyAt + 8 > entropy.length) {
    entropy = randomBytes(4096);
    entropyAt = 0;
  }
  entropyAt += 8;
  return entropy.toString('hex', entropyAt - 8, entropyAt);
}

export function isId(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{16}$/.test(v);
}

/** Link names derived from ids (≤ 15 bytes). */
export const linkNames = {
  bridge: (netId: string) => `nw-${netId.slice(0, 12)}`,
  vxlan: (netId: string) => `nwx-${netId.slice(0, 11)}`,
  anchor: (netId: string) => `nwm-${netId.slice(0, 11)}`,
  hostVeth: (epId: string) => `nwe${epId.slice(0, 12)}`,
  /** Temporary name of a macvlan/ipvlan endpoint beside its parent before it moves (see KERNEL-FACTS quirks). */
  stackedTemp: (epId: string) => `nwt${epId.slice(0, 12)}`,
};

/** The names the host namespace's links of these endpoints take while they connect (veth host end, stacked link before it moves). */
export function endpointLinkNames(epIds: Iterable<string>): Set<string> {
  return new Set([...epIds].flatMap((id) => [linkNames.hostVeth(id), linkNames.stackedTemp(id)]));
}

/** Docker's classic endpoint MAC: 02:42 followed by the IPv4 address. */
export function macFromIp(ip: string): string {
  const m = IPV4.exec(ip);
  let mac = '02:42';
  for (let i = 1; m && i <= 4; i++) {
    const p = Number(m[i]);
    if (p > 255) break;
    mac += `:${HEX[p]}`;
  }
  if (mac.length !== 17) throw new TypeError(`macFromIp: ${ip} is not an IPv4 address`);
  return mac;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A random locally administered unicast MAC (for bridges, so their address never follows their ports). */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface NetworkTag {
  kind: 'n';
  id: string;
  name: string;
  driver: string;
  subnet?: string;
  /** Absent: the network has no gateway (overlay, or gateway: null). */
  gateway?: string;
  ipRange?: string;
  internal: boolean;
  /** The default network (`bridge`): no DNS, like Docker's. */
  isDefault: boolean;
  /** Driver options as stored (strings). */
  options: Record<string, string>;
}

export interface EndpointTag {
  /** 'e' complete (committed), 'p' still being connected. */
  kind: 'e' | 'p';
  id: string;
  network: string;
  ip?: string;
  name: string;
  aliases: string[];
  ifname: string;
  /** How a new process reopens the namespace: its /run/netns name, or a pid. */
  nsName?: string;
  pid?: number;
  /** Only when not derived from the IP (macFromIp). */
  mac?: string;
}

export interface AuxTag {
  kind: 'x';
  network: string;
  role: string;
}

export type Tag = NetworkTag | EndpointTag | AuxTag;

const SAFE = /[^A-Za-z0-9._:/@+\-[\]]/g;
const UNSAFE = /[^A-Za-z0-9._:/@+\-[\]]/;

function esc(v: string): string {
  if (!UNSAFE.test(v)) return v;
  return v.replace(SAFE, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
}

function unesc(v: string): string {
  if (!v.includes('%')) return v;
  return Buffer.from(
    v.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

function fields(pairs: [string, string | undefined][]): string {
  let out = '';
  for (const [k, v] of pairs) if (v !== undefined && v !== '') out += `${out ? ' ' : ''}${k}=${esc(v)}`;
  return out;
}

/** Encodes a tag; NetworkError EINVAL when it would not fit IFLA_IFALIAS (names and aliases too long). */
export function encodeTag(t: Tag, operation = 'encodeTag'): string {
  let body: string;
  if (t.kind === 'n') {
    const flags = `${t.internal ? 'i' : ''}${t.isDefault ? 'd' : ''}`;
    body = fields([
      ['i', t.id],
      ['n', t.name],
      ['d', t.driver],
      ['s', t.subnet],
      ['g', t.gateway],
      ['r', t.ipRange],
      ['f', flags],
      ...Object.entries(t.options)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]): [string, string] => [`o.${esc(k)}`, v]),
    ]);
  } else if (t.kind === 'x') {
    body = fields([
      ['N', t.network],
      ['r', t.role],
    ]);
  } else {
    body = fields([
      ['i', t.id],
      ['N', t.network],
      ['a', t.ip],
      ['n', t.name],
      ['A', t.aliases.length ? t.aliases.join(',') : undefined],
      ['if', t.ifname],
      ['ns', t.nsName],
      ['pid', t.pid === undefined ? undefined : String(t.pid)],
      ['m', t.mac],
    ]);
  }
  const text = `${TAG_PREFIX}${t.kind} ${body}`;
  const len = Buffer.byteLength(text);
  if (len > TAG_MAX_BYTES) {
    throw new NetworkError(
      'EINVAL',
      operation,
      `the facts to record in the kernel take ${len} bytes, more than the ${TAG_MAX_BYTES} of an interface alias (IFLA_IFALIAS): use shorter names, aliases or options`,
    );
  }
  return text;
}

/** The pending form (`nw1p`) of an encoded complete endpoint tag: the same bytes but the marker. */
export function pendingOf(tagText: string): string {
  if (!tagText.startsWith(`${TAG_PREFIX}e `)) throw new TypeError('pendingOf: not an encoded endpoint tag');
  return `${TAG_PREFIX}p${tagText.slice(TAG_PREFIX.length + 1)}`;
}

/** Decodes an alias written by encodeTag; undefined for anything else (never throws). */
export function decodeTag(alias: string | undefined): Tag | undefined {
  if (!alias || !alias.startsWith(TAG_PREFIX) || alias.length < TAG_PREFIX.length + 1) return undefined;
  const kind = alias[TAG_PREFIX.length];
  if (alias.length > TAG_PREFIX.length + 1 && alias[TAG_PREFIX.length + 1] !== ' ') return undefined;
  const f = new Map<string, string>();
  for (const tok of alias.slice(TAG_PREFIX.length + 2).split(' ')) {
    if (!tok) continue;
    const eq = tok.indexOf('=');
    if (eq <= 0) return undefined;
    try {
      f.set(unesc(tok.slice(0, eq)), unesc(tok.slice(eq + 1)));
    } catch {
      return undefined;
    }
  }
  if (kind === 'n') {
    const id = f.get('i');
    const name = f.get('n');
    const driver = f.get('d');
    if (!isId(id) || !name || !driver) return undefined;
    const flags = f.get('f') ?? '';
    const options: Record<string, string> = {};
    for (const [k, v] of f) if (k.startsWith('o.') && k.length > 2) options[k.slice(2)] = v;
    const t: NetworkTag = { kind: 'n', id, name, driver, internal: flags.includes('i'), isDefault: flags.includes('d'), options };
    if (f.has('s')) t.subnet = f.get('s');
    if (f.has('g')) t.gateway = f.get('g');
    if (f.has('r')) t.ipRange = f.get('r');
    return t;
  }
  if (kind === 'x') {
    const network = f.get('N');
    if (!isId(network)) return undefined;
    return { kind: 'x', network, role: f.get('r') ?? '' };
  }
  if (kind === 'e' || kind === 'p') {
    const id = f.get('i');
    const network = f.get('N');
    const name = f.get('n');
    const ifname = f.get('if');
    if (!isId(id) || !isId(network) || !name || !ifname) return undefined;
    const t: EndpointTag = { kind, id, network, name, ifname, aliases: f.get('A')?.split(',').filter(Boolean) ?? [] };
    if (f.has('a')) t.ip = f.get('a');
    if (f.has('ns')) t.nsName = f.get('ns');
    const pid = f.get('pid');
    if (pid !== undefined && /^\d+$/.test(pid)) t.pid = Number(pid);
    if (f.has('m')) t.mac = f.get('m');
    return t;
  }
  return undefined;
}

/** Firewall tags (≤ 128 bytes): a network's masquerade `nw:<net id>`, an endpoint's published port `nw:<net id>:<endpoint id>`. */
export const firewallTags = {
  network: (netId: string) => `nw:${netId}`,
  port: (netId: string, epId: string) => `nw:${netId}:${epId}`,
  parse(tag: string | undefined): { network: string; endpoint?: string } | undefined {
    const m = tag === undefined ? null : /^nw:([0-9a-f]{16})(?::([0-9a-f]{16}))?$/.exec(tag);
    return m ? { network: m[1], ...(m[2] ? { endpoint: m[2] } : {}) } : undefined;
  },
};
