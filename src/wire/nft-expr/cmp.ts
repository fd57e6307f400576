// cmp (net/netfilter/nft_cmp.c): compares a register with constant data;
// the rule stops here when the comparison fails.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, dataBytes, dataValue, Enum, register, required, valueOf, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_cmp_attributes
export const NFTA_CMP_SREG = 1;
export const NFTA_CMP_OP = 2;
export const NFTA_CMP_DATA = 3;

// enum nft_cmp_ops
export const cmpOps = new Enum('cmp op', { eq: 0, neq: 1, lt: 2, lte: 3, gt: 4, gte: 5 });
export type CmpOp = (typeof cmpOps.names)[number];

export interface CmpExpr {
  type: 'cmp';
  sreg: Register;
  op: CmpOp;
  /** Compared bytewise (lt/gt compare as a big-endian number of data.length bytes). */
  data: Buffer;
  unknown?: RawAttr[];
}

const attrs = schema('cmp', {
  sreg: [NFTA_CMP_SREG, 'be32'],
  op: [NFTA_CMP_OP, 'be32'],
  data: [NFTA_CMP_DATA, 'nested', dataValue],
} as const);

const checkFields = fieldCheck('cmp', ['sreg', 'op', 'data']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    cmp: CmpExpr;
  }
}

export const cmp = registerExpr<CmpExpr>({
  name: 'cmp',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, { sreg: register(e.sreg, 'cmp.sreg'), op: cmpOps.value(e.op, 'cmp.op'), data: { value: dataBytes(e.data, 'cmp.data') } });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    return withUnknown<CmpExpr>(
      {
        type: 'cmp',
        sreg: required(a.sreg, 'cmp: NFTA_CMP_SREG'),
        op: cmpOps.name(required(a.op, 'cmp: NFTA_CMP_OP')) as CmpOp,
        data: valueOf(a.data, 'cmp: NFTA_CMP_DATA'),
      },
      a.unknown,
    );
  },
});
