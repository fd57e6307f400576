// Helpers shared by the expression files: registers, enums and bit sets
// mapped to names, nft_data values, and re-emitting attributes a decoder did
// not know (so a decoded expression encodes back to the same bytes).
import { NetlinkParseError } from '../../errors.js';
import { NLA_F_NESTED, type RawAttr, type Writer } from '../netlink.js';
import { NFTA_DATA_VALUE, NFT_DATA_VALUE_MAXLEN, NFT_REG32_00, NFT_REG32_15, NFT_REG_4, NFT_REG_VERDICT } from '../nfnetlink.js';
import { schema } from '../schema.js';

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
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
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

/** Rejects keys a typed expression does not have (typos would otherwise vanish silently). */
export function checkKeys(e: object, known: readonly string[], what: string): void {
  for (const k of Object.keys(e)) {
    if (k !== 'type' && k !== 'unknown' && !known.includes(k)) {
      throw new TypeError(`${what} expression: unknown field ${JSON.stringify(k)} (known: ${known.join(', ')})`);
    }
  }
}
