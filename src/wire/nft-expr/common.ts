// Helpers shared by the expression files: registers, enums and bit sets
// mapped to names, nft_data values, and re-emitting attributes a decoder did
// not know (so a decoded expression encodes back to the same bytes).
import { NetlinkParseError } from '../../errors.js';
import { NLA_F_NESTED, type RawAttr, type Writer } from '../netlink.js';
import { NFTA_DATA_VALUE, NFT_DATA_VALUE_MAXLEN, NFT_REG32_00, NFT_REG32_15, NFT_REG_4, NFT_REG_VERDICT, writeName } from '../nfnetlink.js';
import { schema, type Defs, type Encodable, type Schema } from '../schema.js';

/** A register number as the kernel takes it (enum nft_registers). */
export type Register = number;

export function register(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || !((v >= NFT_REG_VERDICT && v <= NFT_REG_4) || (v >= NFT_REG32_00 && v <= NFT_REG32_15))) {
    throw new RangeError(`${where} must be a register (0..4 or 8..23), got ${String(v)}`);
  }
  return v;
}

export function optRegister(v: unknown, where: string): number | undefined {
  return v === undefined ? undefined : register(v, where);
}

/** A kernel enum as names; numbers the table does not name pass through both ways. */
export class Enum<N extends string> {
  private readonly byName: Record<string, number>;
  private readonly byValue = new Map<number, N>();

  constructor(
    readonly what: string,
    table: Record<N, number>,
  ) {
    this.byName = table;
    for (const [k, v] of Object.entries(table) as [N, number][]) if (!this.byValue.has(v)) this.byValue.set(v, k);
  }

  value(v: N | number, where: string): number {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${where} must be a ${this.what} name or a u32, got ${v}`);
      return v;
    }
    const n = this.byName[v];
    if (n === undefined) throw new TypeError(`${where} must be one of ${Object.keys(this.byName).join(', ')}, got ${JSON.stringify(v)}`);
    return n;
  }

  name(n: number): N | number {
    return this.byValue.get(n) ?? n;
  }

  get names(): N[] {
    return Object.keys(this.byName) as N[];
  }
}

/** A bit set as a list of names; bits without a name stay as numbers. */
export class Flags<N extends string> {
  constructor(
    readonly what: string,
    private readonly table: Record<N, number>,
  ) {}

  value(list: readonly (N | number)[] | undefined, where: string): number {
    if (list === undefined) return 0;
    if (!Array.isArray(list)) throw new TypeError(`${where} must be an array of ${this.what} names`);
    let v = 0;
    for (const f of list) {
      if (typeof f === 'number') {
        if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) throw new RangeError(`${where}: ${f} is not a u32 bit mask`);
        v |= f;
        continue;
      }
      const bit = (this.table as Record<string, number>)[f as string];
      if (bit === undefined) throw new TypeError(`${where}: unknown ${this.what} ${JSON.stringify(f)} (known: ${Object.keys(this.table).join(', ')})`);
      v |= bit;
    }
    return v >>> 0;
  }

  names(v: number): (N | number)[] {
    const out: (N | number)[] = [];
    let rest = v >>> 0;
    for (const [name, bit] of Object.entries(this.table) as [N, number][]) {
      if (bit && (rest & bit) === bit) {
        out.push(name);
        rest = (rest & ~bit) >>> 0;
      }
    }
    if (rest) out.push(rest);
    return out;
  }
}

/** nft_data holding a value: { NFTA_DATA_VALUE: bytes }. */
export const dataValue = schema('nft_data', {
  value: [NFTA_DATA_VALUE, 'binary'],
} as const);

export function dataBytes(v: unknown, where: string): Buffer {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${where} must be a Buffer`);
  if (v.length === 0 || v.length > NFT_DATA_VALUE_MAXLEN) throw new RangeError(`${where} must be 1..${NFT_DATA_VALUE_MAXLEN} bytes, got ${v.length}`);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The value inside a decoded nft_data, or a parse error naming the attribute. */
export function valueOf(d: { value?: Buffer } | undefined, where: string): Buffer {
  if (!d?.value) throw new NetlinkParseError(`${where}: missing NFTA_DATA_VALUE`);
  return d.value;
}

export function required<T>(v: T | undefined, where: string): T {
  if (v === undefined) throw new NetlinkParseError(`${where} is missing`);
  return v;
}

/** Writes back attributes a decoder kept raw. */
export function writeUnknown(w: Writer, unknown: readonly RawAttr[] | undefined): void {
  if (!unknown) return;
  for (const a of unknown) w.bytes(a.nested ? a.type | NLA_F_NESTED : a.type, a.value);
}

/** Copies `unknown` onto a decoded expression only when there is something to keep. */
export function withUnknown<T extends object>(e: T, unknown: RawAttr[] | undefined): T {
  if (unknown?.length) (e as T & { unknown: RawAttr[] }).unknown = unknown;
  return e;
}

/**
 * A check that rejects fields a typed expression does not have (a typo would
 * otherwise vanish silently).
 */
export function fieldCheck(what: string, known: readonly string[]): (e: object) => void {
  const allowed = new Set(['type', 'unknown', ...known]);
  return (e) => {
    for (const k in e) {
      if (!allowed.has(k)) throw new TypeError(`${what} expression: unknown field ${JSON.stringify(k)} (known: ${known.join(', ')})`);
    }
  };
}

const RANGE: Record<string, number> = { u8: 0xff, u16: 0xffff, be16: 0xffff, u32: 0xffffffff, be32: 0xffffffff };

type AttrWriter = (w: Writer, x: unknown) => void;

function attrWriter(type: number, kind: string, where: string, sub?: Schema<Defs>): AttrWriter {
  const max = RANGE[kind];
  const int = (x: unknown): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) throw new RangeError(`${where} must be an integer in 0..${max}, got ${String(x)}`);
    return x;
  };
  const u64 = (x: unknown): bigint | number => {
    if (typeof x === 'bigint' ? x < 0n || x > 0xffffffffffffffffn : !(typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
      throw new RangeError(`${where} must be a non-negative 64-bit integer or bigint, got ${String(x)}`);
    }
    return x as bigint | number;
  };
  switch (kind) {
    case 'u8':
      return (w, x) => w.u8(type, int(x));
    case 'u16':
      return (w, x) => w.u16(type, int(x));
    case 'be16':
      return (w, x) => w.be16(type, int(x));
    case 'u32':
      return (w, x) => w.u32(type, int(x));
    case 'be32':
      return (w, x) => w.be32(type, int(x));
    case 'u64':
      return (w, x) => w.u64(type, u64(x));
    case 'be64':
      return (w, x) => w.be64(type, u64(x));
    case 'string':
      return (w, x) => {
        if (typeof x !== 'string') throw new TypeError(`${where} must be a string`);
        writeName(w, type, x);
      };
    case 'binary':
      return (w, x) => {
        if (!(x instanceof Uint8Array)) throw new TypeError(`${where} must be a Buffer`);
        w.bytes(type, x);
      };
    case 'flag':
      return (w, x) => {
        if (x === true) w.flag(type);
      };
    case 'nested': {
      const enc = compileEncoder(sub!);
      return (w, x) => {
        const at = w.nest(type);
        enc(w, x as Encodable<Defs>);
        w.endNest(at);
      };
    }
    default:
      throw new TypeError(`${where}: kind ${kind} is not supported here`);
  }
}

/**
 * The schema's encoder without its per-call key checks (the typed
 * expression was checked already): the same table, one writer per entry,
 * walked in table order. Names go through writeName.
 */
export function compileEncoder<D extends Defs>(s: Schema<D>): (w: Writer, v: Encodable<D>) => void {
  const entries = Object.entries(s.defs).map(([key, spec]) => ({ key, write: attrWriter(spec[0], spec[1], `${s.name}.${key}`, spec[2] as Schema<Defs> | undefined) }));
  return (w, v) => {
    const o = v as Record<string, unknown>;
    for (let i = 0; i < entries.length; i++) {
      const x = o[entries[i].key];
      if (x !== undefined) entries[i].write(w, x);
    }
  };
}
