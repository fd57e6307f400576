// notrack (net/netfilter/nft_ct.c): exempts the packet from connection
// tracking. No attributes.
import type { RawAttr } from '../netlink.js';
import { attrs } from '../netlink.js';
import { fieldCheck, writeUnknown } from './common.js';
import { registerExpr } from './registry.js';

export interface NotrackExpr {
  type: 'notrack';
  unknown?: RawAttr[];
}

const checkFields = fieldCheck('notrack', []);

declare module './registry.js' {
  interface ExprByName {
    notrack: NotrackExpr;
  }
}

export const notrack = registerExpr<NotrackExpr>({
  name: 'notrack',
  noData: true,
  encode(w, e) {
    checkFields(e);
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const unknown = attrs(b);
    return unknown.length ? { type: 'notrack', unknown } : { type: 'notrack' };
  },
});
