// redir (net/netfilter/nft_redir.c): destination NAT to the local host
// (the incoming interface's primary address), optionally to other ports.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, optRegister, withUnknown, writeUnknown, type Register } from './common.js';
import { natFlags, type NatFlag } from './nat-flags.js';
import { registerExpr } from './registry.js';

// enum nft_redir_attributes
export const NFTA_REDIR_REG_PROTO_MIN = 1;
export const NFTA_REDIR_REG_PROTO_MAX = 2;
export const NFTA_REDIR_FLAGS = 3;

export interface RedirExpr {
  type: 'redir';
  regProtoMin?: Register;
  regProtoMax?: Register;
  flags?: (NatFlag | number)[];
  unknown?: RawAttr[];
}

const attrs = schema('redir', {
  regProtoMin: [NFTA_REDIR_REG_PROTO_MIN, 'be32'],
  regProtoMax: [NFTA_REDIR_REG_PROTO_MAX, 'be32'],
  flags: [NFTA_REDIR_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('redir', ['flags', 'regProtoMin', 'regProtoMax']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    redir: RedirExpr;
  }
}

export const redir = registerExpr<RedirExpr>({
  name: 'redir',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, {
      regProtoMin: optRegister(e.regProtoMin, 'redir.regProtoMin'),
      regProtoMax: optRegister(e.regProtoMax, 'redir.regProtoMax'),
      flags: e.flags === undefined ? undefined : natFlags.value(e.flags, 'redir.flags'),
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: RedirExpr = { type: 'redir' };
    if (a.regProtoMin !== undefined) e.regProtoMin = a.regProtoMin;
    if (a.regProtoMax !== undefined) e.regProtoMax = a.regProtoMax;
    if (a.flags !== undefined) e.flags = natFlags.names(a.flags);
    return withUnknown(e, a.unknown);
  },
});
