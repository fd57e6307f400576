// A rule builder: fields (ip saddr, tcp dport, meta oifname, ct state ...)
// with comparisons, set lookups and statements, producing the same expression
// sequences nft generates, so `nft list` prints rules built here as if typed.
//
//   [ip.saddr.eq('172.18.0.0/16'), meta.oifname.neq('br0'), masquerade()]
//   [fib.daddr.type.eq('local'), dnat({ family: 'ip', map: { key: concat(meta.l4proto, th.dport), name: 'pub', withPort: true } })]
//
// Fields carry their dependencies: tcp dport first matches meta l4proto tcp,
// and ip saddr in an inet, bridge or netdev table first matches the network
// protocol — once per rule, as nft does. Expressions the builder reuses
// across rules (dependencies, loads) are frozen.
import { ipToBytes, networkBytes, parseCidr, prefixMask, AF_INET } from '../wire/address.js';
import { NFT_REG_1, NFT_REG_VERDICT, registerForSlot, type Verdict } from '../wire/nfnetlink.js';
import type { CmpOp, Expr, LogExpr, MetaKey, CtKey } from '../wire/nft-expr/index.js';
import {
  concatType,
  ctState,
  ctStatus,
  encodeValue,
  fibAddrType,
  ifaceIndex,
  ifname,
  inetProto,
  inetService,
  ipv4Addr,
  ipv6Addr,
  mark,
  nfProto,
  type CtState,
  type CtStatus,
  type DataType,
  type FibAddrType,
  type InetProto,
  type NfProto,
} from './datatypes.js';
import type { Family } from './family.js';

/** What a fragment needs to know about the rule it is built into. */
export interface BuildContext {
  readonly family: Family;
  /** Dependencies already matched in this rule ('ipv4', 'ipv6', or an l4 protocol number). */
  readonly done: Set<string | number>;
}

/** A piece of a rule that becomes expressions once the table family is known. */
export interface Fragment {
  build(ctx: BuildContext): Expr[];
}

/** One item of a rule: a raw expression, a builder fragment, or a list of them. */
export type RuleItem = Expr | Fragment | readonly RuleItem[];

export function isFragment(x: unknown): x is Fragment {
  return typeof x === 'object' && x !== null && typeof (x as Fragment).build === 'function';
}

/** Turns rule items into the expression list for a table of `family`. */
export function buildExprs(family: Family, items: readonly RuleItem[], arg = 'exprs'): Expr[] {
  if (!Array.isArray(items)) throw new TypeError(`${arg} must be an array of expressions`);
  const ctx: BuildContext = { family, done: new Set() };
  const out: Expr[] = [];
  const walk = (list: readonly RuleItem[], where: string) => {
    for (let i = 0; i < list.length; i++) {
      const it = list[i];
      if (Array.isArray(it)) walk(it, `${where}[${i}]`);
      else if (isFragment(it)) out.push(...it.build(ctx));
      else if (typeof it === 'object' && it !== null && typeof (it as Expr).type === 'string') out.push(it as Expr);
      else throw new TypeError(`${where}[${i}] must be an expression or a builder fragment`);
    }
  };
  walk(items, arg);
  return out;
}

const fragment = (build: (ctx: BuildContext) => Expr[]): Fragment => ({ build });

// ---- dependencies ----

interface Dep {
  /** Network protocol the field's header belongs to. */
  l3?: 'ipv4' | 'ipv6';
  /** Transport protocol number the field's header belongs to. */
  l4?: number;
}

const ETH_P = { ipv4: 0x0800, ipv6: 0x86dd };
const NFPROTO = { ipv4: 2, ipv6: 10 };

const frozen = <T extends object>(x: T): T => Object.freeze(x);

// Dependency matches are constant: built once, shared by every rule.
const depMatch = (key: MetaKey, data: Buffer): Expr[] => [
  frozen<Expr>({ type: 'meta', key, dreg: NFT_REG_1 }),
  frozen<Expr>({ type: 'cmp', sreg: NFT_REG_1, op: 'eq', data }),
];
const be16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
const L3_DEPS: Record<string, Record<'ipv4' | 'ipv6', Expr[]>> = {
  inet: { ipv4: depMatch('nfproto', Buffer.from([NFPROTO.ipv4])), ipv6: depMatch('nfproto', Buffer.from([NFPROTO.ipv6])) },
  bridge: { ipv4: depMatch('protocol', be16(ETH_P.ipv4)), ipv6: depMatch('protocol', be16(ETH_P.ipv6)) },
  netdev: { ipv4: depMatch('protocol', be16(ETH_P.ipv4)), ipv6: depMatch('protocol', be16(ETH_P.ipv6)) },
};
const L4_DEPS = new Map<number, Expr[]>();
const NONE: readonly Expr[] = [];

/** The dependency matches a field still needs in this rule (each at most once per rule). */
function depExprs(ctx: BuildContext, dep: Dep, what: string): readonly Expr[] {
  let out: readonly Expr[] = NONE;
  if (dep.l3 && !ctx.done.has(dep.l3)) {
    if (ctx.family === 'ip' || ctx.family === 'ip6') {
      if ((ctx.family === 'ip') !== (dep.l3 === 'ipv4')) throw new TypeError(`${what} cannot match in a table of family ${ctx.family}`);
    } else {
      const d = L3_DEPS[ctx.family]?.[dep.l3];
      if (!d) throw new TypeError(`${what} cannot match in a table of family ${ctx.family}`);
      out = d;
    }
    ctx.done.add(dep.l3);
  }
  if (dep.l4 !== undefined && !ctx.done.has(dep.l4)) {
    let d = L4_DEPS.get(dep.l4);
    if (!d) L4_DEPS.set(dep.l4, (d = depMatch('l4proto', Buffer.from([dep.l4]))));
    out = out.length ? out.concat(d) : d;
    ctx.done.add(dep.l4);
  }
  return out;
}

// ---- fields ----

/** Anything that can be loaded into registers: a field or a concatenation. */
export interface Loadable<V> {
  /** nft's text for it, for error messages ("ip saddr"). */
  readonly text: string;
  readonly type: DataType<V>;
  /** Dependencies, then the loads, into registers from `slot` (4-byte slots) on. */
  load(ctx: BuildContext, slot: number): Expr[];
  /** Matches when the value is an element of the named set. */
  in(set: string): Fragment;
  notIn(set: string): Fragment;
  /** Jumps by the verdict the named verdict map holds for the value (`vmap @m`). */
  vmap(map: string): Fragment;
}

function lookupFragment(src: Loadable<unknown>, set: string, extra: { invert?: boolean; dreg?: number }): Fragment {
  if (typeof set !== 'string' || set.length === 0) throw new TypeError(`${src.text}: set name must be a non-empty string`);
  return fragment((ctx) => [
    ...src.load(ctx, 0),
    { type: 'lookup', set, sreg: NFT_REG_1, ...(extra.dreg !== undefined ? { dreg: extra.dreg } : {}), ...(extra.invert ? { invert: true } : {}) },
  ]);
}

/** The set lookups every Loadable offers, in terms of its load. */
abstract class Lookups<V> implements Loadable<V> {
  abstract readonly text: string;
  abstract readonly type: DataType<V>;
  abstract load(ctx: BuildContext, slot: number): Expr[];

  in(set: string): Fragment {
    return lookupFragment(this, set, {});
  }
  notIn(set: string): Fragment {
    return lookupFragment(this, set, { invert: true });
  }
  vmap(map: string): Fragment {
    return lookupFragment(this, map, { dreg: NFT_REG_VERDICT });
  }
}

/** A packet or metadata field of type V; comparisons take C (e.g. CIDR strings for addresses). */
export class Field<V, C = V> extends Lookups<V> {
  /** The load expressions by register slot, built once. */
  private readonly loads: Expr[][] = [];

  constructor(
    readonly text: string,
    readonly type: DataType<V>,
    private readonly loadInto: (dreg: number) => Expr[],
    readonly dep: Dep = {},
  ) {
    super();
  }

  load(ctx: BuildContext, slot: number): Expr[] {
    const deps = depExprs(ctx, this.dep, this.text);
    const loads = (this.loads[slot] ??= this.loadInto(registerForSlot(slot)).map(frozen));
    return deps.length ? deps.concat(loads) : loads.slice();
  }

  protected cmp(op: CmpOp, data: Buffer): Fragment {
    const c = frozen<Expr>({ type: 'cmp', sreg: NFT_REG_1, op, data });
    return fragment((ctx) => {
      const out = this.load(ctx, 0);
      out.push(c);
      return out;
    });
  }

  protected value(v: V): Buffer {
    return encodeValue(this.type, v, this.text);
  }

  /** `<field> <value>` */
  eq(v: C): Fragment {
    return this.cmp('eq', this.value(v as unknown as V));
  }

  /** `<field> != <value>` */
  neq(v: C): Fragment {
    return this.cmp('neq', this.value(v as unknown as V));
  }

  private ordered(op: CmpOp, v: V): Fragment {
    if (!this.type.bigEndian) throw new TypeError(`${this.text}: ${op} needs a big-endian type; ${this.type.name} is host-endian`);
    return this.cmp(op, this.value(v));
  }

  lt(v: V): Fragment {
    return this.ordered('lt', v);
  }
  lte(v: V): Fragment {
    return this.ordered('lte', v);
  }
  gt(v: V): Fragment {
    return this.ordered('gt', v);
  }
  gte(v: V): Fragment {
    return this.ordered('gte', v);
  }

  /** `<field> from-to`: two comparisons, as nft emits it. */
  range(from: V, to: V): Fragment {
    if (!this.type.bigEndian) throw new TypeError(`${this.text}: ranges need a big-endian type; ${this.type.name} is host-endian`);
    const a = this.value(from);
    const b = this.value(to);
    if (Buffer.compare(a, b) > 0) throw new RangeError(`${this.text}: range start is above its end`);
    return fragment((ctx) => [...this.load(ctx, 0), { type: 'cmp', sreg: NFT_REG_1, op: 'gte', data: a }, { type: 'cmp', sreg: NFT_REG_1, op: 'lte', data: b }]);
  }

  /** `<field> != from-to`: the range expression. */
  notRange(from: V, to: V): Fragment {
    if (!this.type.bigEndian) throw new TypeError(`${this.text}: ranges need a big-endian type; ${this.type.name} is host-endian`);
    const a = this.value(from);
    const b = this.value(to);
    return fragment((ctx) => [...this.load(ctx, 0), { type: 'range', sreg: NFT_REG_1, op: 'neq', from: a, to: b }]);
  }

}

/** An address in a packet header: eq/neq take an address or a CIDR prefix. */
export class AddrField extends Field<string> {
  constructor(
    text: string,
    type: DataType<string>,
    private readonly base: 'network' | 'transport',
    private readonly offset: number,
    dep: Dep,
  ) {
    super(text, type, (dreg) => [{ type: 'payload', base, offset, len: type.len, dreg }], dep);
  }

  private prefixed(op: 'eq' | 'neq', cidr: string): Fragment {
    const c = parseCidr(cidr, this.text);
    if ((c.family === AF_INET) !== (this.type.len === 4)) throw new TypeError(`${this.text}: ${JSON.stringify(cidr)} is not an ${this.type.name}`);
    const full = this.type.len * 8;
    const net = networkBytes(ipToBytes(c.address), c.prefix);
    if (c.prefix === full) return this.cmp(op, net);
    // Byte-aligned prefixes load only the prefix bytes; others mask the whole address (nft does both).
    if (c.prefix % 8 === 0 && c.prefix > 0) {
      const n = c.prefix / 8;
      return fragment((ctx) => [
        ...depExprs(ctx, this.dep, this.text),
        { type: 'payload', base: this.base, offset: this.offset, len: n, dreg: NFT_REG_1 },
        { type: 'cmp', sreg: NFT_REG_1, op, data: net.subarray(0, n) },
      ]);
    }
    const len = this.type.len;
    return fragment((ctx) => [
      ...this.load(ctx, 0),
      { type: 'bitwise', sreg: NFT_REG_1, dreg: NFT_REG_1, len, op: 'mask_xor', mask: prefixMask(len, c.prefix), xor: Buffer.alloc(len) },
      { type: 'cmp', sreg: NFT_REG_1, op, data: net },
    ]);
  }

  /** `ip saddr 10.0.0.1` or `ip saddr 10.0.0.0/8` */
  override eq(v: string): Fragment {
    return typeof v === 'string' && v.includes('/') ? this.prefixed('eq', v) : super.eq(v);
  }
  override neq(v: string): Fragment {
    return typeof v === 'string' && v.includes('/') ? this.prefixed('neq', v) : super.neq(v);
  }
}

/** An interface name: eq/neq take a name, a prefix wildcard ("veth*"), or a literal "*" escaped ("a\\*"). */
export class IfnameField extends Field<string> {
  private name(v: string): Buffer {
    if (typeof v === 'string' && v.endsWith('\\*')) return this.value(`${v.slice(0, -2)}*`);
    if (typeof v === 'string' && v.endsWith('*')) {
      const prefix = Buffer.from(v.slice(0, -1), 'utf8');
      if (prefix.length === 0) throw new TypeError(`${this.text}: "*" alone matches every name; leave the match out`);
      if (prefix.length >= 16) throw new RangeError(`${this.text}: ${JSON.stringify(v)} is longer than 15 bytes`);
      return prefix;
    }
    return this.value(v);
  }
  override eq(v: string): Fragment {
    return this.cmp('eq', this.name(v));
  }
  override neq(v: string): Fragment {
    return this.cmp('neq', this.name(v));
  }
}

/** A bit set (ct state, ct status): `has` is nft's `ct state established,related`. */
export class BitsField<N extends string> extends Field<(N | number)[]> {
  private mask(flags: readonly (N | number)[]): Buffer {
    if (flags.length === 0) throw new TypeError(`${this.text}: name at least one flag`);
    return this.value([...flags]);
  }

  private test(op: 'eq' | 'neq', flags: readonly (N | number)[]): Fragment {
    const mask = this.mask(flags);
    const len = this.type.len;
    return fragment((ctx) => [
      ...this.load(ctx, 0),
      { type: 'bitwise', sreg: NFT_REG_1, dreg: NFT_REG_1, len, op: 'mask_xor', mask, xor: Buffer.alloc(len) },
      { type: 'cmp', sreg: NFT_REG_1, op, data: Buffer.alloc(len) },
    ]);
  }

  /** Any of the flags is set: `ct state established,related`. */
  has(...flags: (N | number)[]): Fragment {
    return this.test('neq', flags);
  }

  /** None of the flags is set: `ct state != established,related`. */
  hasNone(...flags: (N | number)[]): Fragment {
    return this.test('eq', flags);
  }
}

/** A field a statement can set: `meta mark set 0x10`, `ct mark set 1`. */
export class SettableField<V> extends Field<V> {
  constructor(
    text: string,
    type: DataType<V>,
    loadInto: (dreg: number) => Expr[],
    private readonly storeFrom: (sreg: number) => Expr,
  ) {
    super(text, type, loadInto);
  }

  /** `<field> set <value>` */
  set(v: V): Expr[] {
    return [{ type: 'immediate', dreg: NFT_REG_1, data: this.value(v) }, this.storeFrom(NFT_REG_1)];
  }
}

const payload = (base: 'network' | 'transport', offset: number, len: number) => (dreg: number): Expr[] => [{ type: 'payload', base, offset, len, dreg }];
const metaLoad = (key: MetaKey) => (dreg: number): Expr[] => [{ type: 'meta', key, dreg }];
const ctLoad = (key: CtKey) => (dreg: number): Expr[] => [{ type: 'ct', key, dreg }];

/** IPv4 header fields. */
export const ip = {
  saddr: new AddrField('ip saddr', ipv4Addr, 'network', 12, { l3: 'ipv4' }),
  daddr: new AddrField('ip daddr', ipv4Addr, 'network', 16, { l3: 'ipv4' }),
  protocol: new Field<InetProto>('ip protocol', inetProto, payload('network', 9, 1), { l3: 'ipv4' }),
};

/** IPv6 header fields. */
export const ip6 = {
  saddr: new AddrField('ip6 saddr', ipv6Addr, 'network', 8, { l3: 'ipv6' }),
  daddr: new AddrField('ip6 daddr', ipv6Addr, 'network', 24, { l3: 'ipv6' }),
  nexthdr: new Field<InetProto>('ip6 nexthdr', inetProto, payload('network', 6, 1), { l3: 'ipv6' }),
};

const ports = (proto: string, l4: number | undefined) => ({
  sport: new Field<number>(`${proto} sport`, inetService, payload('transport', 0, 2), l4 === undefined ? {} : { l4 }),
  dport: new Field<number>(`${proto} dport`, inetService, payload('transport', 2, 2), l4 === undefined ? {} : { l4 }),
});

/** TCP ports (match meta l4proto tcp first). */
export const tcp = ports('tcp', 6);
/** UDP ports (match meta l4proto udp first). */
export const udp = ports('udp', 17);
/** Transport header ports of any protocol with ports at the usual offsets (`th dport`). */
export const th = ports('th', undefined);

/** Packet metadata. */
export const meta = {
  iifname: new IfnameField('meta iifname', ifname, metaLoad('iifname')),
  oifname: new IfnameField('meta oifname', ifname, metaLoad('oifname')),
  iif: new Field<number>('meta iif', ifaceIndex, metaLoad('iif')),
  oif: new Field<number>('meta oif', ifaceIndex, metaLoad('oif')),
  l4proto: new Field<InetProto>('meta l4proto', inetProto, metaLoad('l4proto')),
  nfproto: new Field<NfProto>('meta nfproto', nfProto, metaLoad('nfproto')),
  mark: new SettableField<number>('meta mark', mark, metaLoad('mark'), (sreg) => ({ type: 'meta', key: 'mark', sreg })),
};

/** Connection tracking. */
export const ct = {
  state: new BitsField<CtState>('ct state', ctState, ctLoad('state')),
  status: new BitsField<CtStatus>('ct status', ctStatus, ctLoad('status')),
  mark: new SettableField<number>('ct mark', mark, ctLoad('mark'), (sreg) => ({ type: 'ct', key: 'mark', sreg })),
};

const fibField = (text: string, flag: 'saddr' | 'daddr') =>
  new Field<FibAddrType>(text, fibAddrType, (dreg) => [{ type: 'fib', result: 'addrtype', flags: [flag], dreg }]);

/** Route lookups: `fib daddr type local`. */
export const fib = {
  daddr: { type: fibField('fib daddr type', 'daddr') },
  saddr: { type: fibField('fib saddr type', 'saddr') },
};

/** A concatenation (`meta l4proto . th dport`): each part in its own 4-byte register slots. */
export class Concat<V extends unknown[] = unknown[]> extends Lookups<V> {
  readonly text: string;
  readonly type: DataType<V>;

  constructor(readonly parts: readonly Loadable<unknown>[]) {
    super();
    if (parts.length < 2) throw new TypeError('concat needs at least two fields');
    this.text = parts.map((p) => p.text).join(' . ');
    this.type = concatTypeOf(parts) as DataType<V>;
  }

  load(ctx: BuildContext, slot: number): Expr[] {
    // Every field loads with one expression after its dependencies.
    const deps: Expr[] = [];
    const loads: Expr[] = [];
    let s = slot;
    for (const p of this.parts) {
      // Dependencies of every part come first, then the loads (they share register 1).
      const exprs = p.load(ctx, s);
      const n = exprs.length - 1;
      deps.push(...exprs.slice(0, n));
      loads.push(exprs[n]);
      s += Math.ceil(p.type.len / 4);
    }
    if (s > 16) throw new RangeError(`${this.text} needs ${s * 4} bytes of registers; there are 64`);
    return [...deps, ...loads];
  }

}

function concatTypeOf(parts: readonly Loadable<unknown>[]): DataType<unknown[]> {
  return concatType(parts.map((p) => p.type));
}

/** `a . b [. c]` */
export function concat<A, B>(a: Loadable<A>, b: Loadable<B>): Concat<[A, B]>;
export function concat<A, B, C>(a: Loadable<A>, b: Loadable<B>, c: Loadable<C>): Concat<[A, B, C]>;
export function concat(...parts: Loadable<unknown>[]): Concat;
export function concat(...parts: Loadable<unknown>[]): Concat {
  return new Concat(parts);
}

// ---- statements ----

const verdictExpr = (v: Verdict): Expr => ({ type: 'immediate', dreg: NFT_REG_VERDICT, verdict: v });

export const accept = (): Expr => verdictExpr({ code: 'accept' });
export const drop = (): Expr => verdictExpr({ code: 'drop' });
export const jump = (chain: string): Expr => verdictExpr({ code: 'jump', chain });
export const goto = (chain: string): Expr => verdictExpr({ code: 'goto', chain });
/** All verdicts, including `return` and `continue` (reserved words as bare names). */
export const verdict = {
  accept,
  drop,
  jump,
  goto,
  return: (): Expr => verdictExpr({ code: 'return' }),
  continue: (): Expr => verdictExpr({ code: 'continue' }),
};

/** `counter` (starts at zero, as nft adds it). */
export const counter = (): Expr => ({ type: 'counter', bytes: 0n, packets: 0n });

export const notrack = (): Expr => ({ type: 'notrack' });

/** `log [prefix "…"] [level …] [group n]` */
export function log(opts: Omit<LogExpr, 'type' | 'unknown'> = {}): Expr {
  return { type: 'log', ...opts };
}

const UNITS = { second: 1n, minute: 60n, hour: 3600n, day: 86400n, week: 604800n };

/** `limit rate [over] N/unit [burst B packets|bytes]` */
export function limit(opts: { rate: number; per: keyof typeof UNITS; burst?: number; bytes?: boolean; over?: boolean }): Expr {
  const unit = UNITS[opts.per];
  if (unit === undefined) throw new TypeError(`limit.per must be one of ${Object.keys(UNITS).join(', ')}`);
  if (!Number.isSafeInteger(opts.rate) || opts.rate <= 0) throw new RangeError('limit.rate must be a positive integer');
  return {
    type: 'limit',
    rate: BigInt(opts.rate),
    unit,
    // nft's default burst: 5 packets, or 0 bytes.
    burst: opts.burst ?? (opts.bytes ? 0 : 5),
    kind: opts.bytes ? 'bytes' : 'packets',
    ...(opts.over ? { invert: true } : {}),
  };
}

const ICMP_PORT_UNREACH = 3;
const ICMPV6_PORT_UNREACH = 4;

/**
 * `reject [with tcp reset | with icmpx <code>]`. Without options: ICMP port
 * unreachable, as icmp, icmpv6 or icmpx by table family (like nft).
 */
export function reject(opts: { with?: 'tcp reset' | 'icmpx'; code?: number } = {}): Fragment {
  return fragment((ctx) => {
    if (opts.with === 'tcp reset') return [{ type: 'reject', kind: 'tcp_rst', code: 0 }];
    if (opts.with === 'icmpx' || ctx.family === 'inet' || ctx.family === 'bridge' || ctx.family === 'netdev') {
      return [{ type: 'reject', kind: 'icmpx_unreach', code: opts.code ?? 1 }];
    }
    return [{ type: 'reject', kind: 'icmp_unreach', code: opts.code ?? (ctx.family === 'ip6' ? ICMPV6_PORT_UNREACH : ICMP_PORT_UNREACH) }];
  });
}

export interface NatOptions {
  /** Address family of the translation; defaults to the table's (required in inet tables). */
  family?: 'ip' | 'ip6';
  /** Translate to this address (snat/dnat), or a range [first, last]. */
  addr?: string | readonly [string, string];
  /** Translate to this port, or a range [first, last]. */
  port?: number | readonly [number, number];
  /**
   * Translate to what a map holds for a key (`dnat ip to meta l4proto . th dport map @pub`).
   * The map's data is the address, then the port when withPort is set.
   */
  map?: { key: Loadable<unknown>; name: string; withPort?: boolean };
  random?: boolean;
  fullyRandom?: boolean;
  persistent?: boolean;
}

type NatFlagName = 'random' | 'fully_random' | 'persistent' | 'proto_specified';

function natFlagList(o: { random?: boolean; fullyRandom?: boolean; persistent?: boolean }, portGiven: boolean): NatFlagName[] | undefined {
  const f: NatFlagName[] = [];
  if (portGiven) f.push('proto_specified');
  if (o.random) f.push('random');
  if (o.persistent) f.push('persistent');
  if (o.fullyRandom) f.push('fully_random');
  return f.length ? f : undefined;
}

function portBytes(p: number, arg: string): Buffer {
  return encodeValue(inetService, p, arg);
}

function natFragment(kind: 'snat' | 'dnat', o: NatOptions): Fragment {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${kind} needs options`);
  if (!o.addr && !o.map) throw new TypeError(`${kind} needs addr or map`);
  if (o.addr && o.map) throw new TypeError(`${kind}: give addr or map, not both`);
  // Validate now, so a bad address throws where the rule is written.
  const addrs = o.addr === undefined ? [] : (typeof o.addr === 'string' ? [o.addr] : [...o.addr]).map((a, i) => ipToBytes(checkAddr(a, `${kind}.addr${i ? '[1]' : ''}`)));
  const ports = o.port === undefined ? [] : (typeof o.port === 'number' ? [o.port] : [...o.port]).map((p) => portBytes(p, `${kind}.port`));
  if (addrs.length === 2 && addrs[0].length !== addrs[1].length) throw new TypeError(`${kind}.addr: both ends of the range must be the same family`);
  return fragment((ctx) => {
    const family = o.family ?? (ctx.family === 'ip' || ctx.family === 'ip6' ? ctx.family : undefined);
    if (!family) throw new TypeError(`${kind}: family ('ip' or 'ip6') is required in a ${ctx.family} table`);
    const alen = family === 'ip' ? 4 : 16;
    if (o.map) {
      const exprs = o.map.key.load(ctx, 0);
      exprs.push({ type: 'lookup', set: o.map.name, sreg: NFT_REG_1, dreg: NFT_REG_1 });
      exprs.push({
        type: 'nat',
        kind,
        family,
        regAddrMin: NFT_REG_1,
        ...(o.map.withPort ? { regProtoMin: registerForSlot(alen / 4) } : {}),
        ...(natFlagList(o, false) ? { flags: natFlagList(o, false) } : {}),
      });
      return exprs;
    }
    for (const a of addrs) if (a.length !== alen) throw new TypeError(`${kind}: address family does not match ${family}`);
    // One 16-byte register per value, in order: address min/max, port min/max.
    const exprs: Expr[] = [];
    const regs: Record<string, number> = {};
    let reg = NFT_REG_1;
    const put = (name: string, data: Buffer) => {
      exprs.push({ type: 'immediate', dreg: reg, data });
      regs[name] = reg++;
    };
    put('regAddrMin', addrs[0]);
    if (addrs[1]) put('regAddrMax', addrs[1]);
    if (ports[0]) put('regProtoMin', ports[0]);
    if (ports[1]) put('regProtoMax', ports[1]);
    const flags = natFlagList(o, ports.length > 0);
    exprs.push({ type: 'nat', kind, family, ...regs, ...(flags ? { flags } : {}) });
    return exprs;
  });
}

function checkAddr(a: unknown, arg: string): string {
  if (typeof a !== 'string') throw new TypeError(`${arg} must be an IP address string`);
  ipToBytes(a);
  return a;
}

/** `snat [ip|ip6] to <addr>[:<port>]` or `snat ip to <key> map @m` */
export const snat = (o: NatOptions): Fragment => natFragment('snat', o);
/** `dnat [ip|ip6] to <addr>[:<port>]` or `dnat ip to <key> map @m` */
export const dnat = (o: NatOptions): Fragment => natFragment('dnat', o);

/** `masquerade [to :port[-port]] [random] [persistent] [fully-random]` */
export function masquerade(o: { port?: number | readonly [number, number]; random?: boolean; fullyRandom?: boolean; persistent?: boolean } = {}): Expr[] {
  const ports = o.port === undefined ? [] : (typeof o.port === 'number' ? [o.port] : [...o.port]).map((p) => portBytes(p, 'masquerade.port'));
  const exprs: Expr[] = ports.map((data, i) => ({ type: 'immediate', dreg: NFT_REG_1 + i, data }));
  const flags = natFlagList(o, ports.length > 0);
  exprs.push({
    type: 'masq',
    ...(flags ? { flags } : {}),
    ...(ports[0] ? { regProtoMin: NFT_REG_1 } : {}),
    ...(ports[1] ? { regProtoMax: NFT_REG_1 + 1 } : {}),
  });
  return exprs;
}

/** `redirect [to :port[-port]]` */
export function redirect(o: { port?: number | readonly [number, number]; random?: boolean; fullyRandom?: boolean; persistent?: boolean } = {}): Expr[] {
  const ports = o.port === undefined ? [] : (typeof o.port === 'number' ? [o.port] : [...o.port]).map((p) => portBytes(p, 'redirect.port'));
  const exprs: Expr[] = ports.map((data, i) => ({ type: 'immediate', dreg: NFT_REG_1 + i, data }));
  const flags = natFlagList(o, ports.length > 0);
  exprs.push({
    type: 'redir',
    ...(ports[0] ? { regProtoMin: NFT_REG_1 } : {}),
    ...(ports[1] ? { regProtoMax: NFT_REG_1 + 1 } : {}),
    ...(flags ? { flags } : {}),
  });
  return exprs;
}

function dynsetFragment(op: 'add' | 'update' | 'delete', set: string, key: Loadable<unknown>, timeout?: number): Fragment {
  if (typeof set !== 'string' || set.length === 0) throw new TypeError(`${op} set: set name must be a non-empty string`);
  if (timeout !== undefined && (!Number.isSafeInteger(timeout) || timeout <= 0)) throw new RangeError('timeout must be a positive number of milliseconds');
  return fragment((ctx) => [
    ...key.load(ctx, 0),
    { type: 'dynset', set, op, sregKey: NFT_REG_1, ...(timeout !== undefined ? { timeout: BigInt(timeout) } : {}) },
  ]);
}

/** `add @set { <key> [timeout <ms>] }`: adds the packet's key to a dynamic set. */
export const addToSet = (set: string, key: Loadable<unknown>, opts: { timeout?: number } = {}): Fragment => dynsetFragment('add', set, key, opts.timeout);
/** `update @set { <key> [timeout <ms>] }`: adds it, or refreshes its timeout. */
export const updateSet = (set: string, key: Loadable<unknown>, opts: { timeout?: number } = {}): Fragment => dynsetFragment('update', set, key, opts.timeout);
/** `delete @set { <key> }` */
export const deleteFromSet = (set: string, key: Loadable<unknown>): Fragment => dynsetFragment('delete', set, key);
