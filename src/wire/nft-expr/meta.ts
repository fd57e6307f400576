// meta (net/netfilter/nft_meta.c): loads packet metadata into a register
// (NFTA_META_DREG) or sets it from one (NFTA_META_SREG).
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, optRegister, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_meta_attributes
export const NFTA_META_DREG = 1;
export const NFTA_META_KEY = 2;
export const NFTA_META_SREG = 3;

// enum nft_meta_keys, named as nft prints them (bri_iifname → ibrname ...).
export const metaKeys = new Enum('meta key', {
  len: 0,
  protocol: 1,
  priority: 2,
  mark: 3,
  iif: 4,
  oif: 5,
  iifname: 6,
  oifname: 7,
  iiftype: 8,
  oiftype: 9,
  skuid: 10,
  skgid: 11,
  nftrace: 12,
  rtclassid: 13,
  secmark: 14,
  nfproto: 15,
  l4proto: 16,
  ibrname: 17,
  obrname: 18,
  pkttype: 19,
  cpu: 20,
  iifgroup: 21,
  oifgroup: 22,
  cgroup: 23,
  random: 24,
  secpath: 25,
  iifkind: 26,
  oifkind: 27,
  ibrpvid: 28,
  ibrvproto: 29,
  time: 30,
  day: 31,
  hour: 32,
  sdif: 33,
  sdifname: 34,
  broute: 35,
});
export type MetaKey = (typeof metaKeys.names)[number];

export interface MetaExpr {
  type: 'meta';
  key: MetaKey | number;
  /** Load into this register ... */
  dreg?: Register;
  /** ... or set the key from this one (exactly one of the two). */
  sreg?: Register;
  unknown?: RawAttr[];
}

// Attribute order as libnftnl writes it (key, dreg, sreg).
const attrs = schema('meta', {
  key: [NFTA_META_KEY, 'be32'],
  dreg: [NFTA_META_DREG, 'be32'],
  sreg: [NFTA_META_SREG, 'be32'],
} as const);

const checkFields = fieldCheck('meta', ['key', 'dreg', 'sreg']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    meta: MetaExpr;
  }
}

export const meta = registerExpr<MetaExpr>({
  name: 'meta',
  encode(w, e) {
    checkFields(e);
    if ((e.dreg === undefined) === (e.sreg === undefined)) throw new TypeError('meta expression needs exactly one of dreg (load) or sreg (set)');
    writeAttrs(w, { key: metaKeys.value(e.key, 'meta.key'), dreg: optRegister(e.dreg, 'meta.dreg'), sreg: optRegister(e.sreg, 'meta.sreg') });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: MetaExpr = { type: 'meta', key: metaKeys.name(required(a.key, 'meta: NFTA_META_KEY')) as MetaKey };
    if (a.dreg !== undefined) e.dreg = a.dreg;
    if (a.sreg !== undefined) e.sreg = a.sreg;
    return withUnknown(e, a.unknown);
  },
});
