// ct (net/netfilter/nft_ct.c): loads conntrack state of the packet's
// connection into a register, or sets a conntrack field (mark, ...) from one.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, optRegister, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_ct_attributes
export const NFTA_CT_DREG = 1;
export const NFTA_CT_KEY = 2;
export const NFTA_CT_DIRECTION = 3;
export const NFTA_CT_SREG = 4;

// enum nft_ct_keys
export const ctKeys = new Enum('ct key', {
  state: 0,
  direction: 1,
  status: 2,
  mark: 3,
  secmark: 4,
  expiration: 5,
  helper: 6,
  l3protocol: 7,
  src: 8,
  dst: 9,
  protocol: 10,
  proto_src: 11,
  proto_dst: 12,
  labels: 13,
  pkts: 14,
  bytes: 15,
  avgpkt: 16,
  zone: 17,
  eventmask: 18,
  src_ip: 19,
  dst_ip: 20,
  src_ip6: 21,
  dst_ip6: 22,
  id: 23,
});
export type CtKey = (typeof ctKeys.names)[number];
// enum ip_conntrack_dir
export const ctDirections = new Enum('ct direction', { original: 0, reply: 1 });

// Bits of `ct state` (NF_CT_STATE_BIT(ctinfo) = 1 << (ctinfo + 1), linux/netfilter/nf_conntrack_common.h).
export const NF_CT_STATE_INVALID_BIT = 1 << 0;
export const NF_CT_STATE_ESTABLISHED_BIT = 1 << 1;
export const NF_CT_STATE_RELATED_BIT = 1 << 2;
export const NF_CT_STATE_NEW_BIT = 1 << 3;
export const NF_CT_STATE_UNTRACKED_BIT = 1 << 6;

export interface CtExpr {
  type: 'ct';
  key: CtKey | number;
  dreg?: Register;
  sreg?: Register;
  /** For per-direction keys (src, dst, proto_src, ...). */
  direction?: 'original' | 'reply' | number;
  unknown?: RawAttr[];
}

// libnftnl order: key, dreg, direction (u8), sreg.
const attrs = schema('ct', {
  key: [NFTA_CT_KEY, 'be32'],
  dreg: [NFTA_CT_DREG, 'be32'],
  direction: [NFTA_CT_DIRECTION, 'u8'],
  sreg: [NFTA_CT_SREG, 'be32'],
} as const);

const checkFields = fieldCheck('ct', ['key', 'dreg', 'sreg', 'direction']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    ct: CtExpr;
  }
}

export const ct = registerExpr<CtExpr>({
  name: 'ct',
  encode(w, e) {
    checkFields(e);
    if ((e.dreg === undefined) === (e.sreg === undefined)) throw new TypeError('ct expression needs exactly one of dreg (load) or sreg (set)');
    writeAttrs(w, {
      key: ctKeys.value(e.key, 'ct.key'),
      dreg: optRegister(e.dreg, 'ct.dreg'),
      direction: e.direction === undefined ? undefined : ctDirections.value(e.direction, 'ct.direction'),
      sreg: optRegister(e.sreg, 'ct.sreg'),
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: CtExpr = { type: 'ct', key: ctKeys.name(required(a.key, 'ct: NFTA_CT_KEY')) as CtKey };
    if (a.dreg !== undefined) e.dreg = a.dreg;
    if (a.sreg !== undefined) e.sreg = a.sreg;
    if (a.direction !== undefined) e.direction = ctDirections.name(a.direction) as CtExpr['direction'];
    return withUnknown(e, a.unknown);
  },
});
