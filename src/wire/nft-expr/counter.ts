// counter (net/netfilter/nft_counter.c): counts packets and bytes that reach it.
import type { RawAttr } from '../netlink.js';
import { NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS } from '../nfnetlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, withUnknown, writeUnknown } from './common.js';
import { registerExpr } from './registry.js';

export { NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS };

export interface CounterExpr {
  type: 'counter';
  /** Initial values when adding; the current ones when read back. */
  bytes?: bigint;
  packets?: bigint;
  unknown?: RawAttr[];
}

const attrs = schema('counter', {
  bytes: [NFTA_COUNTER_BYTES, 'be64'],
  packets: [NFTA_COUNTER_PACKETS, 'be64'],
} as const);

const checkFields = fieldCheck('counter', ['bytes', 'packets']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    counter: CounterExpr;
  }
}

export const counter = registerExpr<CounterExpr>({
  name: 'counter',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, { bytes: e.bytes, packets: e.packets });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: CounterExpr = { type: 'counter' };
    if (a.bytes !== undefined) e.bytes = a.bytes;
    if (a.packets !== undefined) e.packets = a.packets;
    return withUnknown(e, a.unknown);
  },
});
