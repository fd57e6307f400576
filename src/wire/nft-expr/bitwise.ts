// bitwise (net/netfilter/nft_bitwise.c): dreg = (sreg & mask) ^ xor, or a
// shift of sreg by `data` bits; since Linux 6.13 also and/or/xor of two
// registers (sreg2).
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, dataBytes, dataValue, Enum, optRegister, register, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_bitwise_attributes
export const NFTA_BITWISE_SREG = 1;
export const NFTA_BITWISE_DREG = 2;
export const NFTA_BITWISE_LEN = 3;
export const NFTA_BITWISE_MASK = 4;
export const NFTA_BITWISE_XOR = 5;
export const NFTA_BITWISE_OP = 6;
export const NFTA_BITWISE_DATA = 7;
export const NFTA_BITWISE_SREG2 = 8;

// enum nft_bitwise_ops (mask_xor is NFT_BITWISE_BOOL)
export const bitwiseOps = new Enum('bitwise op', { mask_xor: 0, lshift: 1, rshift: 2, and: 3, or: 4, xor: 5 });
export type BitwiseOp = (typeof bitwiseOps.names)[number];

export interface BitwiseExpr {
  type: 'bitwise';
  sreg: Register;
  dreg: Register;
  len: number;
  op: BitwiseOp | number;
  /** mask_xor: both, each `len` bytes. */
  mask?: Buffer;
  xor?: Buffer;
  /** lshift/rshift: the shift amount (a host-endian u32). */
  data?: Buffer;
  /** and/or/xor: the second register. */
  sreg2?: Register;
  unknown?: RawAttr[];
}

// libnftnl order: sreg, dreg, op, len, mask, xor, data.
const attrs = schema('bitwise', {
  sreg: [NFTA_BITWISE_SREG, 'be32'],
  dreg: [NFTA_BITWISE_DREG, 'be32'],
  op: [NFTA_BITWISE_OP, 'be32'],
  len: [NFTA_BITWISE_LEN, 'be32'],
  mask: [NFTA_BITWISE_MASK, 'nested', dataValue],
  xor: [NFTA_BITWISE_XOR, 'nested', dataValue],
  data: [NFTA_BITWISE_DATA, 'nested', dataValue],
  sreg2: [NFTA_BITWISE_SREG2, 'be32'],
} as const);

const checkFields = fieldCheck('bitwise', ['sreg', 'dreg', 'len', 'op', 'mask', 'xor', 'data', 'sreg2']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    bitwise: BitwiseExpr;
  }
}

const wrap = (b: Buffer | undefined, where: string) => (b === undefined ? undefined : { value: dataBytes(b, where) });

export const bitwise = registerExpr<BitwiseExpr>({
  name: 'bitwise',
  encode(w, e) {
    checkFields(e);
    const op = bitwiseOps.value(e.op, 'bitwise.op');
    if (op === 0 && (!e.mask || !e.xor)) throw new TypeError('bitwise mask_xor needs mask and xor');
    if (op === 0 && (e.mask!.length !== e.len || e.xor!.length !== e.len)) throw new RangeError(`bitwise mask and xor must be len (${e.len}) bytes`);
    writeAttrs(w, {
      sreg: register(e.sreg, 'bitwise.sreg'),
      dreg: register(e.dreg, 'bitwise.dreg'),
      // Absent means mask_xor (NFT_BITWISE_BOOL), as nft usually sends it; the kernel dumps it always.
      op: op === 0 ? undefined : op,
      len: e.len,
      mask: wrap(e.mask, 'bitwise.mask'),
      xor: wrap(e.xor, 'bitwise.xor'),
      data: wrap(e.data, 'bitwise.data'),
      sreg2: optRegister(e.sreg2, 'bitwise.sreg2'),
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: BitwiseExpr = {
      type: 'bitwise',
      sreg: required(a.sreg, 'bitwise: NFTA_BITWISE_SREG'),
      dreg: required(a.dreg, 'bitwise: NFTA_BITWISE_DREG'),
      len: required(a.len, 'bitwise: NFTA_BITWISE_LEN'),
      // Kernels before 5.6 had no NFTA_BITWISE_OP: mask/xor was the only operation.
      op: bitwiseOps.name(a.op ?? 0) as BitwiseOp,
    };
    if (a.mask?.value) e.mask = a.mask.value;
    if (a.xor?.value) e.xor = a.xor.value;
    if (a.data?.value) e.data = a.data.value;
    if (a.sreg2 !== undefined) e.sreg2 = a.sreg2;
    return withUnknown(e, a.unknown);
  },
});
