// nat (net/netfilter/nft_nat.c): source or destination NAT to the address and
// port ranges held in registers. The kernel adds map_ips / proto_specified to
// the flags itself when address / port registers are given, and dumps them.
import type { RawAttr } from '../netlink.js';
import { NFPROTO_IPV4, NFPROTO_IPV6 } from '../nfnetlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, optRegister, required, withUnknown, writeUnknown, type Register } from './common.js';
import { natFlags, type NatFlag } from './nat-flags.js';
import { registerExpr } from './registry.js';

// enum nft_nat_attributes
export const NFTA_NAT_TYPE = 1;
export const NFTA_NAT_FAMILY = 2;
export const NFTA_NAT_REG_ADDR_MIN = 3;
export const NFTA_NAT_REG_ADDR_MAX = 4;
export const NFTA_NAT_REG_PROTO_MIN = 5;
export const NFTA_NAT_REG_PROTO_MAX = 6;
export const NFTA_NAT_FLAGS = 7;

// enum nft_nat_types
export const natTypes = new Enum('nat type', { snat: 0, dnat: 1 });
export const natFamilies = new Enum('nat family', { ip: NFPROTO_IPV4, ip6: NFPROTO_IPV6 });

export interface NatExpr {
  type: 'nat';
  kind: 'snat' | 'dnat';
  /** Address family of the address registers (required by the kernel). */
  family: 'ip' | 'ip6' | number;
  regAddrMin?: Register;
  regAddrMax?: Register;
  regProtoMin?: Register;
  regProtoMax?: Register;
  flags?: (NatFlag | number)[];
  unknown?: RawAttr[];
}

const attrs = schema('nat', {
  type: [NFTA_NAT_TYPE, 'be32'],
  family: [NFTA_NAT_FAMILY, 'be32'],
  regAddrMin: [NFTA_NAT_REG_ADDR_MIN, 'be32'],
  regAddrMax: [NFTA_NAT_REG_ADDR_MAX, 'be32'],
  regProtoMin: [NFTA_NAT_REG_PROTO_MIN, 'be32'],
  regProtoMax: [NFTA_NAT_REG_PROTO_MAX, 'be32'],
  flags: [NFTA_NAT_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('nat', ['kind', 'family', 'regAddrMin', 'regAddrMax', 'regProtoMin', 'regProtoMax', 'flags']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    nat: NatExpr;
  }
}

export const nat = registerExpr<NatExpr>({
  name: 'nat',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, {
      type: natTypes.value(e.kind, 'nat.kind'),
      family: natFamilies.value(e.family, 'nat.family'),
      regAddrMin: optRegister(e.regAddrMin, 'nat.regAddrMin'),
      regAddrMax: optRegister(e.regAddrMax, 'nat.regAddrMax'),
      regProtoMin: optRegister(e.regProtoMin, 'nat.regProtoMin'),
      regProtoMax: optRegister(e.regProtoMax, 'nat.regProtoMax'),
      flags: e.flags === undefined ? undefined : natFlags.value(e.flags, 'nat.flags'),
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: NatExpr = {
      type: 'nat',
      kind: natTypes.name(required(a.type, 'nat: NFTA_NAT_TYPE')) as NatExpr['kind'],
      family: natFamilies.name(required(a.family, 'nat: NFTA_NAT_FAMILY')) as NatExpr['family'],
    };
    if (a.regAddrMin !== undefined) e.regAddrMin = a.regAddrMin;
    if (a.regAddrMax !== undefined) e.regAddrMax = a.regAddrMax;
    if (a.regProtoMin !== undefined) e.regProtoMin = a.regProtoMin;
    if (a.regProtoMax !== undefined) e.regProtoMax = a.regProtoMax;
    if (a.flags !== undefined) e.flags = natFlags.names(a.flags);
    return withUnknown(e, a.unknown);
  },
});
