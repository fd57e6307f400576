// netweave's own nftables table, as data: its chains, maps and fixed rules,
// the rules a masquerade adds, and the way back from what the kernel holds to
// what was asked (rules are recognised by rebuilding them and comparing, so a
// rule someone else edited is never mistaken for one of ours). Kernel-free.
//
// One `inet` table carries both IPv4 and IPv6: NAT in inet tables is in the
// kernel since 5.2 and every statement used here (fib, dnat with a
// concatenated map, masquerade, ct status) works there; one table means one
// transaction restores everything, one event names it, one delete removes it.
//
//   table inet netweave {
//     map pub4  { type inet_proto . inet_service : ipv4_addr . inet_service; }
//     map pub4a { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
//     map pub6  { type inet_proto . inet_service : ipv6_addr . inet_service; }
//     map pub6a { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
//     set isolate { type ifname . ifname; }
//     chain pre  { type nat hook prerouting priority dstnat;   <publish rules> }
//     chain out  { type nat hook output priority -100;         <publish rules> }
//     chain post { type nat hook postrouting priority srcnat;  <masquerades> }
//     chain fwd  { type filter hook forward priority filter;   iifname . oifname @isolate drop }
//   }
//
// publish rules, in order (a lookup that misses ends the rule, so the
// address-specific maps are consulted first):
//   fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @pub4a
//   meta nfproto ipv4 fib daddr type local dnat ip to meta l4proto . th dport map @pub4
//   (the same two for ip6 with pub6a / pub6)
import { bytesToIp } from '../wire/address.js';
import type { Expr } from '../wire/nft-expr/index.js';
import {
  buildExprs,
  concat,
  ct,
  dnat,
  drop,
  fib,
  ip,
  ip6,
  masquerade,
  meta,
  sameExprs,
  th,
  type ChainSpec,
  type RuleItem,
  type Rule,
  type SetSpec,
  type TypeName,
} from '../nft/index.js';

export const FAMILY = 'inet' as const;
export const TABLE = 'netweave';
export const TABLE_COMMENT = 'netweave: container networking (managed; changes here are overwritten)';

export type IpFamily = 4 | 6;
export type Protocol = 'tcp' | 'udp';

export const CHAINS: readonly ChainSpec[] = [
  { family: FAMILY, table: TABLE, name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' },
  { family: FAMILY, table: TABLE, name: 'out', type: 'nat', hook: 'output', priority: -100, policy: 'accept' },
  { family: FAMILY, table: TABLE, name: 'post', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' },
  { family: FAMILY, table: TABLE, name: 'fwd', type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' },
];

/** The published-port maps: per address family, any host address or one. */
export interface PortMap {
  name: 'pub4' | 'pub4a' | 'pub6' | 'pub6a';
  family: IpFamily;
  /** Keyed by host address too. */
  byAddress: boolean;
}

export const PORT_MAPS: readonly PortMap[] = [
  { name: 'pub4a', family: 4, byAddress: true },
  { name: 'pub4', family: 4, byAddress: false },
  { name: 'pub6a', family: 6, byAddress: true },
  { name: 'pub6', family: 6, byAddress: false },
];

export function portMap(family: IpFamily, byAddress: boolean): PortMap {
  return PORT_MAPS.find((m) => m.family === family && m.byAddress === byAddress)!;
}

const addrType = (f: IpFamily): TypeName => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

/** The map's SetSpec (key and data types), as created and as used to encode elements; one frozen object per map. */
export function portMapSpec(m: PortMap): SetSpec {
  let spec = specs.get(m);
  if (!spec) {
    const key: TypeName[] = m.byAddress ? [addrType(m.family), 'inet_proto', 'inet_service'] : ['inet_proto', 'inet_service'];
    const data: TypeName[] = [addrType(m.family), 'inet_service'];
    spec = deepFreeze<SetSpec>({ family: FAMILY, table: TABLE, name: m.name, key, data });
    specs.set(m, spec);
  }
  return spec;
}

const specs = new Map<PortMap, SetSpec>();

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(o);
}

export const ISOLATE_SET: SetSpec = { family: FAMILY, table: TABLE, name: 'isolate', key: ['ifname', 'ifname'] };

/** The rules every netweave table has, by chain, in order. */
export function fixedRules(): { chain: string; exprs: RuleItem[] }[] {
  const publish = (m: PortMap): RuleItem[] => {
    const natFamily = m.family === 4 ? 'ip' : 'ip6';
    const daddr = m.family === 4 ? ip.daddr : ip6.daddr;
    if (m.byAddress) {
      // `ip daddr` in the key brings the nfproto match with it.
      return [fib.daddr.type.eq('local'), dnat({ family: natFamily, map: { key: concat(daddr, meta.l4proto, th.dport), name: m.name, withPort: true } })];
    }
    return [
      meta.nfproto.eq(m.family === 4 ? 'ipv4' : 'ipv6'),
      fib.daddr.type.eq('local'),
      dnat({ family: natFamily, map: { key: concat(meta.l4proto, th.dport), name: m.name, withPort: true } }),
    ];
  };
  const out: { chain: string; exprs: RuleItem[] }[] = [];
  for (const chain of ['pre', 'out']) for (const m of PORT_MAPS) out.push({ chain, exprs: publish(m) });
  out.push({ chain: 'fwd', exprs: [concat(meta.iifname, meta.oifname).in(ISOLATE_SET.name), drop()] });
  return out;
}

// ---- masquerade rules ----

/**
 * One rule of the post chain. A masquerade of SOURCE (except through BR)
 * owns up to three:
 *   masq:    ip saddr SOURCE [oifname != BR] masquerade          (leaving the network)
 *   hairpin: ct status dnat ip saddr SOURCE oifname BR masquerade (published port reached from the same bridge)
 *   local:   ip saddr 127.0.0.0/8 oifname BR masquerade          (published port reached from the host's 127.0.0.1; IPv4 only, shared by every source on BR)
 */
export type PostRule =
  | { kind: 'masq'; family: IpFamily; source: string; exceptOutInterface?: string }
  | { kind: 'hairpin'; family: IpFamily; source: string; iface: string }
  | { kind: 'local'; family: 4; iface: string };

export const LOOPBACK4 = '127.0.0.0/8';

export function postRuleExprs(r: PostRule): RuleItem[] {
  const saddr = r.family === 4 ? ip.saddr : ip6.saddr;
  switch (r.kind) {
    case 'masq':
      return r.exceptOutInterface === undefined
        ? [saddr.eq(r.source), masquerade()]
        : [saddr.eq(r.source), meta.oifname.neq(r.exceptOutInterface), masquerade()];
    case 'hairpin':
      return [ct.status.has('dnat'), saddr.eq(r.source), meta.oifname.eq(r.iface), masquerade()];
    case 'local':
      return [ip.saddr.eq(LOOPBACK4), meta.oifname.eq(r.iface), masquerade()];
  }
}

/** The post rules one masquerade needs (hairpin and local only when it names its bridge). */
export function masqueradeRules(m: { family: IpFamily; source: string; exceptOutInterface?: string }): PostRule[] {
  const out: PostRule[] = [{ kind: 'masq', family: m.family, source: m.source, exceptOutInterface: m.exceptOutInterface }];
  if (m.exceptOutInterface !== undefined) {
    out.push({ kind: 'hairpin', family: m.family, source: m.source, iface: m.exceptOutInterface });
    if (m.family === 4) out.push({ kind: 'local', family: 4, iface: m.exceptOutInterface });
  }
  return out;
}

export function postRuleKey(r: PostRule): string {
  switch (r.kind) {
    case 'masq':
      return `masq ${r.source} ${r.exceptOutInterface ?? ''}`;
    case 'hairpin':
      return `hairpin ${r.source} ${r.iface}`;
    case 'local':
      return `local ${r.iface}`;
  }
}

function popcount(b: Buffer): number {
  let n = 0;
  for (const byte of b) for (let v = byte; v; v >>= 1) n += v & 1;
  return n;
}

/** An interface name as a cmp holds it: NUL-padded to 16 bytes, or a bare prefix (a wildcard). */
function ifnameOf(data: Buffer): string {
  const nul = data.indexOf(0);
  if (data.length < 16 && nul < 0) return `${data.toString('utf8')}*`;
  return data.subarray(0, nul < 0 ? data.length : nul).toString('utf8');
}

/**
 * What a post-chain rule is, when it is exactly one netweave writes (its
 * expressions rebuilt from the fields found must equal the kernel's).
 */
export function decodePostRule(exprs: readonly Expr[]): PostRule | undefined {
  let family: IpFamily | undefined;
  let source: string | undefined;
  let iface: string | undefined;
  let ifaceOp: string | undefined;
  let ctStatus = false;
  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    const next = exprs[i + 1];
    if (e.type === 'meta' && e.key === 'nfproto' && next?.type === 'cmp' && next.data.length === 1) {
      family = next.data[0] === 2 ? 4 : next.data[0] === 10 ? 6 : undefined;
    } else if (e.type === 'ct' && e.key === 'status') {
      ctStatus = true;
    } else if (e.type === 'payload' && e.base === 'network' && family !== undefined && e.offset === (family === 4 ? 12 : 8)) {
      const full = family === 4 ? 4 : 16;
      let j = i + 1;
      let mask: Buffer | undefined;
      const bw = exprs[j];
      if (bw?.type === 'bitwise' && bw.mask) {
        mask = bw.mask;
        j++;
      }
      const c = exprs[j];
      if (c?.type !== 'cmp' || c.op !== 'eq') return undefined;
      const addr = Buffer.alloc(full);
      c.data.copy(addr, 0, 0, Math.min(full, c.data.length));
      const prefix = mask ? popcount(mask) : e.len * 8;
      source = `${bytesToIp(addr)}/${prefix}`;
    } else if (e.type === 'meta' && e.key === 'oifname' && next?.type === 'cmp') {
      iface = ifnameOf(next.data);
      ifaceOp = next.op;
    }
  }
  // netweave never writes wildcards (exceptOutInterface is an exact name).
  if (family === undefined || source === undefined || iface?.endsWith('*')) return undefined;
  let r: PostRule | undefined;
  if (ctStatus) {
    if (iface !== undefined && ifaceOp === 'eq') r = { kind: 'hairpin', family, source, iface };
  } else if (family === 4 && source === LOOPBACK4 && iface !== undefined && ifaceOp === 'eq') {
    r = { kind: 'local', family: 4, iface };
  } else if (iface === undefined || ifaceOp === 'neq') {
    r = { kind: 'masq', family, source, ...(iface !== undefined ? { exceptOutInterface: iface } : {}) };
  }
  if (!r) return undefined;
  try {
    return sameExprs(buildExprs(FAMILY, postRuleExprs(r)), exprs) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the rules read back from a chain are exactly the fixed rules netweave put there. */
export function fixedRulesIntact(rules: readonly Rule[]): boolean {
  for (const chain of ['pre', 'out', 'fwd']) {
    const want = fixedRules().filter((r) => r.chain === chain);
    const have = rules.filter((r) => r.chain === chain);
    if (have.length !== want.length) return false;
    for (let i = 0; i < want.length; i++) if (!sameExprs(buildExprs(FAMILY, want[i].exprs), have[i].exprs)) return false;
  }
  return true;
}
