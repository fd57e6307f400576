// Attribute schemas as data: each attribute is one line (name, kernel
// constant, type), and one generic encoder/decoder walks the table.
// Decoding keeps attributes the table does not know as raw bytes and never
// throws on them; encoding refuses keys the table does not know.
import { NetlinkParseError } from '../errors.js';
import { bytesToIp, bytesToMac, ipToBytes, isMac, ipFamily, macToBytes } from './address.js';
import { cString, forEachAttr, type RawAttr, type Writer } from './netlink.js';

export type Kind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 's32'
  | 'u64'
  | 'be16'
  | 'be32'
  | 'be64'
  | 'string'
  | 'binary'
  | 'ip'
  | 'mac'
  | 'flag'
  | 'nested';

interface KindValue {
  u8: number;
  u16: number;
  u32: number;
  s32: number;
  u64: bigint;
  be16: number;
  be32: number;
  be64: bigint;
  string: string;
  binary: Buffer;
  ip: string;
  mac: string;
  flag: boolean;
  nested: never;
}

export type Spec = readonly [type: number, kind: Exclude<Kind, 'nested'>] | readonly [type: number, kind: 'nested', schema: Schema<any>];
export type Defs = Record<string, Spec>;

type ValueOf<S extends Spec> = S extends readonly [number, 'nested', Schema<infer D>]
  ? Decoded<D>
  : S extends readonly [number, infer K extends Exclude<Kind, 'nested'>]
    ? KindValue[K]
    : never;

export type Decoded<D extends Defs> = { -readonly [K in keyof D]?: ValueOf<D[K]> } & { unknown?: RawAttr[] };

/** What encode() accepts: decoded values, plus number for 64-bit kinds. */
export type Encodable<D extends Defs> = {
  -readonly [K in keyof D]?: D[K] extends readonly [number, 'nested', Schema<infer N>]
    ? Encodable<N>
    : D[K] extends readonly [number, 'u64' | 'be64']
      ? bigint | number
      : ValueOf<D[K]>;
};

const RANGES: Partial<Record<Kind, [number, number]>> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  s32: [-0x80000000, 0x7fffffff],
  be16: [0, 0xffff],
  be32: [0, 0xffffffff],
};

const SIZES: Partial<Record<Kind, number>> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, be16: 2, be32: 4, be64: 8 };

export class Schema<D extends Defs> {
  readonly defs: D;
  private readonly byType: ([string, Spec] | undefined)[] = [];
  /** key → [position in the table, spec]: encode costs what the value holds, not the table's size. */
  private readonly byKey = new Map<string, readonly [number, Spec]>();

  constructor(
    readonly name: string,
    defs: D,
  ) {
    this.defs = defs;
    let pos = 0;
    for (const [key, spec] of Object.entries(defs)) {
      this.byType[spec[0]] = [key, spec];
      this.byKey.set(key, [pos++, spec]);
    }
  }

  /**
   * Writes every present key of value as an attribute, in table order (so
   * the bytes do not depend on how the caller built the object).
   */
  encode(w: Writer, value: Encodable<D>): void {
    const present: [number, Spec, unknown, string][] = [];
    let ordered = true;
    for (const key of Object.keys(value)) {
      const entry = this.byKey.get(key);
      if (!entry) {
        throw new TypeError(`${this.name}: unknown option ${JSON.stringify(key)} (known: ${[...this.byKey.keys()].join(', ')})`);
      }
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      if (present.length && present[present.length - 1][0] > entry[0]) ordered = false;
      present.push([entry[0], entry[1], v, key]);
    }
    if (!ordered) present.sort((a, b) => a[0] - b[0]);
    for (const [, spec, v, key] of present) encodeOne(w, spec, v, `${this.name}.${key}`);
  }

  decode(buf: Buffer, start = 0, end = buf.length): Decoded<D> {
    const out: Record<string, unknown> = {};
    forEachAttr(buf, start, end, (type, value) => {
      const entry = this.byType[type];
      if (!entry) {
        ((out.unknown as RawAttr[] | undefined) ?? (out.unknown = [])).push({ type, nested: false, value });
        return;
      }
      const [key, spec] = entry;
      out[key] = decodeOne(spec, value, `${this.name}.${key}`);
    });
    return out as Decoded<D>;
  }
}

function encodeOne(w: Writer, spec: Spec, v: unknown, where: string): void {
  const [type, kind] = spec;
  const range = RANGES[kind];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      throw new RangeError(`${where} must be an integer in ${range[0]}..${range[1]}, got ${String(v)}`);
    }
  }
  switch (kind) {
    case 'u8':
      return w.u8(type, v as number);
    case 'u16':
      return w.u16(type, v as number);
    case 'u32':
      return w.u32(type, v as number);
    case 's32':
      return w.s32(type, v as number);
    case 'be16':
      return w.be16(type, v as number);
    case 'be32':
      return w.be32(type, v as number);
    case 'u64':
    case 'be64': {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
        throw new RangeError(`${where} must be a non-negative integer or bigint, got ${String(v)}`);
      }
      return kind === 'u64' ? w.u64(type, v) : w.be64(type, v);
    }
    case 'string':
      if (typeof v !== 'string') throw new TypeError(`${where} must be a string`);
      return w.string(type, v);
    case 'binary':
      if (!(v instanceof Uint8Array)) throw new TypeError(`${where} must be a Buffer or Uint8Array`);
      return w.bytes(type, v);
    case 'ip':
      if (typeof v !== 'string' || !ipFamily(v)) throw new TypeError(`${where} must be an IP address, got ${JSON.stringify(v)}`);
      return w.bytes(type, ipToBytes(v));
    case 'mac':
      if (typeof v !== 'string' || !isMac(v)) throw new TypeError(`${where} must be a MAC address like 02:42:ac:11:00:02, got ${JSON.stringify(v)}`);
      return w.bytes(type, macToBytes(v));
    case 'flag':
      if (v === true) w.flag(type);
      return;
    case 'nested': {
      const at = w.nest(type);
      (spec[2] as Schema<Defs>).encode(w, v as Encodable<Defs>);
      return w.endNest(at);
    }
  }
}

function decodeOne(spec: Spec, b: Buffer, where: string): unknown {
  const kind = spec[1];
  const size = SIZES[kind];
  if (size !== undefined && b.length < size) {
    throw new NetlinkParseError(`${where}: ${kind} attribute has ${b.length} bytes`);
  }
  switch (kind) {
    case 'u8':
      return b[0];
    case 'u16':
      return b.readUInt16LE(0);
    case 'u32':
      return b.readUInt32LE(0);
    case 's32':
      return b.readInt32LE(0);
    case 'u64':
      return b.readBigUInt64LE(0);
    case 'be16':
      return b.readUInt16BE(0);
    case 'be32':
      return b.readUInt32BE(0);
    case 'be64':
      return b.readBigUInt64BE(0);
    case 'string':
      return cString(b);
    case 'binary':
      return b;
    case 'ip':
      if (b.length !== 4 && b.length !== 16) throw new NetlinkParseError(`${where}: address has ${b.length} bytes`);
      return bytesToIp(b);
    case 'mac':
      return bytesToMac(b);
    case 'flag':
      return true;
    case 'nested':
      return (spec[2] as Schema<Defs>).decode(b);
  }
}

/** Defines a schema; the table's shape becomes the decoded type. */
export function schema<D extends Defs>(name: string, defs: D): Schema<D> {
  return new Schema(name, defs);
}
