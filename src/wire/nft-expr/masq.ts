// masq (net/netfilter/nft_masq.c): source NAT to the address of the outgoing
// interface, optionally to a port range held in registers.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, optRegister, withUnknown, writeUnknown, type Register } from './common.js';
import { natFlags, type NatFlag } from './nat-flags.js';
import { registerExpr } from './registry.js';

// enum nft_masq_attributes
export const NFTA_MASQ_FLAGS = 1;
export const NFTA_MASQ_REG_PROTO_MIN = 2;
export const NFTA_MASQ_REG_PROTO_MAX = 3;

export interface MasqExpr {
  type: 'masq';
  flags?: (NatFlag | number)[];
  regProtoMin?: Register;
  regProtoMax?: Register;
  unknown?: RawAttr[];
}

const attrs = schema('masq', {
  flags: [NFTA_MASQ_FLAGS, 'be32'],
  regProtoMin: [NFTA_MASQ_REG_PROTO_MIN, 'be32'],
  regProtoMax: [NFTA_MASQ_REG_PROTO_MAX, 'be32'],
} as const);

const checkFields = fieldCheck('masq', ['flags', 'regProtoMin', 'regProtoMax']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    masq: MasqExpr;
  }
}

export const masq = registerExpr<MasqExpr>({
  name: 'masq',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, {
      flags: e.flags === undefined ? undefined : natFlags.value(e.flags, 'masq.flags'),
      regProtoMin: optRegister(e.regProtoMin, 'masq.regProtoMin'),
      regProtoMax: optRegister(e.regProtoMax, 'masq.regProtoMax'),
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: MasqExpr = { type: 'masq' };
    if (a.flags !== undefined) e.flags = natFlags.names(a.flags);
    if (a.regProtoMin !== undefined) e.regProtoMin = a.regProtoMin;
    if (a.regProtoMax !== undefined) e.regProtoMax = a.regProtoMax;
    return withUnknown(e, a.unknown);
  },
});
