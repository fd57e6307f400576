// range (net/netfilter/nft_range.c): from <= sreg <= to (or its negation),
// compared as big-endian numbers of the data's length.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, dataBytes, dataValue, Enum, register, required, valueOf, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_range_attributes
export const NFTA_RANGE_SREG = 1;
export const NFTA_RANGE_OP = 2;
export const NFTA_RANGE_FROM_DATA = 3;
export const NFTA_RANGE_TO_DATA = 4;

// enum nft_range_ops
export const rangeOps = new Enum('range op', { eq: 0, neq: 1 });

export interface RangeExpr {
  type: 'range';
  sreg: Register;
  op: 'eq' | 'neq';
  from: Buffer;
  to: Buffer;
  unknown?: RawAttr[];
}

const attrs = schema('range', {
  sreg: [NFTA_RANGE_SREG, 'be32'],
  op: [NFTA_RANGE_OP, 'be32'],
  from: [NFTA_RANGE_FROM_DATA, 'nested', dataValue],
  to: [NFTA_RANGE_TO_DATA, 'nested', dataValue],
} as const);

const checkFields = fieldCheck('range', ['sreg', 'op', 'from', 'to']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    range: RangeExpr;
  }
}

export const range = registerExpr<RangeExpr>({
  name: 'range',
  encode(w, e) {
    checkFields(e);
    const from = dataBytes(e.from, 'range.from');
    const to = dataBytes(e.to, 'range.to');
    if (from.length !== to.length) throw new RangeError('range.from and range.to must have the same length');
    writeAttrs(w, { sreg: register(e.sreg, 'range.sreg'), op: rangeOps.value(e.op, 'range.op'), from: { value: from }, to: { value: to } });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    return withUnknown<RangeExpr>(
      {
        type: 'range',
        sreg: required(a.sreg, 'range: NFTA_RANGE_SREG'),
        op: rangeOps.name(required(a.op, 'range: NFTA_RANGE_OP')) as RangeExpr['op'],
        from: valueOf(a.from, 'range: NFTA_RANGE_FROM_DATA'),
        to: valueOf(a.to, 'range: NFTA_RANGE_TO_DATA'),
      },
      a.unknown,
    );
  },
});
