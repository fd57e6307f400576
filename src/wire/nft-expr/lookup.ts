// lookup (net/netfilter/nft_lookup.c): looks the key in sreg up in a named
// set; the rule stops on a miss (or a hit, inverted). With dreg the set is a
// map and the element's data lands in dreg (register 0: a verdict map).
import type { RawAttr } from '../netlink.js';
import { NFT_NAME_MAXLEN } from '../nfnetlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, optRegister, register, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_lookup_attributes
export const NFTA_LOOKUP_SET = 1;
export const NFTA_LOOKUP_SREG = 2;
export const NFTA_LOOKUP_DREG = 3;
export const NFTA_LOOKUP_SET_ID = 4;
export const NFTA_LOOKUP_FLAGS = 5;
// enum nft_lookup_flags
export const NFT_LOOKUP_F_INV = 1 << 0;

export interface LookupExpr {
  type: 'lookup';
  /** Set name (a set added earlier in the same transaction is found by name too). */
  set: string;
  /** NFTA_SET_ID of a set added in the same transaction (anonymous sets). */
  setId?: number;
  sreg: Register;
  dreg?: Register;
  /** Match when the key is NOT in the set. */
  invert?: boolean;
  unknown?: RawAttr[];
}

// libnftnl order: sreg, dreg, set, set id, flags.
const attrs = schema('lookup', {
  sreg: [NFTA_LOOKUP_SREG, 'be32'],
  dreg: [NFTA_LOOKUP_DREG, 'be32'],
  set: [NFTA_LOOKUP_SET, 'string'],
  setId: [NFTA_LOOKUP_SET_ID, 'be32'],
  flags: [NFTA_LOOKUP_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('lookup', ['set', 'setId', 'sreg', 'dreg', 'invert']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    lookup: LookupExpr;
  }
}

export const lookup = registerExpr<LookupExpr>({
  name: 'lookup',
  encode(w, e) {
    checkFields(e);
    if (typeof e.set !== 'string' || e.set.length === 0 || Buffer.byteLength(e.set) >= NFT_NAME_MAXLEN) {
      throw new TypeError(`lookup.set must be a set name of 1..${NFT_NAME_MAXLEN - 1} bytes`);
    }
    writeAttrs(w, {
      sreg: register(e.sreg, 'lookup.sreg'),
      dreg: optRegister(e.dreg, 'lookup.dreg'),
      set: e.set,
      setId: e.setId,
      // The kernel dumps flags 0 too; libnftnl sends the attribute only when set.
      flags: e.invert ? NFT_LOOKUP_F_INV : undefined,
    });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: LookupExpr = { type: 'lookup', set: required(a.set, 'lookup: NFTA_LOOKUP_SET'), sreg: required(a.sreg, 'lookup: NFTA_LOOKUP_SREG') };
    if (a.setId !== undefined) e.setId = a.setId;
    if (a.dreg !== undefined) e.dreg = a.dreg;
    if (a.flags !== undefined && a.flags & NFT_LOOKUP_F_INV) e.invert = true;
    return withUnknown(e, a.unknown);
  },
});
