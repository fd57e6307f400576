// immediate (net/netfilter/nft_immediate.c): loads constant data into a
// register, or a verdict into the verdict register (accept, drop, jump ...).
import type { RawAttr } from '../netlink.js';
import { checkVerdict, NFT_REG_VERDICT, readData, writeDataValue, writeDataVerdict, type Verdict } from '../nfnetlink.js';
import { schema } from '../schema.js';
import { fieldCheck, dataBytes, register, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_immediate_attributes
export const NFTA_IMMEDIATE_DREG = 1;
export const NFTA_IMMEDIATE_DATA = 2;

export type ImmediateExpr =
  | { type: 'immediate'; dreg: Register; data: Buffer; unknown?: RawAttr[] }
  | { type: 'immediate'; dreg: typeof NFT_REG_VERDICT; verdict: Verdict; unknown?: RawAttr[] };

const attrs = schema('immediate', {
  dreg: [NFTA_IMMEDIATE_DREG, 'be32'],
  data: [NFTA_IMMEDIATE_DATA, 'binary'],
} as const);

const checkFields = fieldCheck('immediate', ['dreg', 'data', 'verdict']);

declare module './registry.js' {
  interface ExprByName {
    immediate: ImmediateExpr;
  }
}

export const immediate = registerExpr<ImmediateExpr>({
  name: 'immediate',
  encode(w, e) {
    checkFields(e);
    const dreg = register(e.dreg, 'immediate.dreg');
    w.be32(NFTA_IMMEDIATE_DREG, dreg);
    if ('verdict' in e) {
      if (dreg !== NFT_REG_VERDICT) throw new RangeError('immediate: a verdict goes to register 0 (NFT_REG_VERDICT)');
      writeDataVerdict(w, NFTA_IMMEDIATE_DATA, checkVerdict(e.verdict, 'immediate.verdict'));
    } else {
      if (dreg === NFT_REG_VERDICT) throw new RangeError('immediate: register 0 takes a verdict, not data');
      writeDataValue(w, NFTA_IMMEDIATE_DATA, dataBytes(e.data, 'immediate.data'));
    }
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const dreg = required(a.dreg, 'immediate: NFTA_IMMEDIATE_DREG');
    const d = readData(required(a.data, 'immediate: NFTA_IMMEDIATE_DATA'));
    const e: ImmediateExpr = 'verdict' in d ? { type: 'immediate', dreg: NFT_REG_VERDICT, verdict: d.verdict } : { type: 'immediate', dreg, data: d.value };
    return withUnknown(e, a.unknown);
  },
});
