// fib (net/netfilter/nft_fib.c): a route lookup for the packet; the result
// (output interface, its name, or the address type) goes into a register.
import type { RawAttr } from '../netlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, Flags, register, required, withUnknown, writeUnknown, type Register } from './common.js';
import { registerExpr } from './registry.js';

// enum nft_fib_attributes
export const NFTA_FIB_DREG = 1;
export const NFTA_FIB_RESULT = 2;
export const NFTA_FIB_FLAGS = 3;

// enum nft_fib_result
export const fibResults = new Enum('fib result', { oif: 1, oifname: 2, addrtype: 3 });
export type FibResult = (typeof fibResults.names)[number];
// enum nft_fib_flags (NFTA_FIB_F_*)
export const fibFlags = new Flags('fib flag', { saddr: 1 << 0, daddr: 1 << 1, mark: 1 << 2, iif: 1 << 3, oif: 1 << 4, present: 1 << 5 });
export type FibFlag = 'saddr' | 'daddr' | 'mark' | 'iif' | 'oif' | 'present';

export interface FibExpr {
  type: 'fib';
  result: FibResult | number;
  /** Which packet fields key the lookup: exactly one of saddr/daddr, plus mark/iif/oif. */
  flags: (FibFlag | number)[];
  dreg: Register;
  unknown?: RawAttr[];
}

// libnftnl order: flags, result, dreg.
const attrs = schema('fib', {
  flags: [NFTA_FIB_FLAGS, 'be32'],
  result: [NFTA_FIB_RESULT, 'be32'],
  dreg: [NFTA_FIB_DREG, 'be32'],
} as const);

const checkFields = fieldCheck('fib', ['result', 'flags', 'dreg']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    fib: FibExpr;
  }
}

export const fib = registerExpr<FibExpr>({
  name: 'fib',
  encode(w, e) {
    checkFields(e);
    writeAttrs(w, { flags: fibFlags.value(e.flags, 'fib.flags'), result: fibResults.value(e.result, 'fib.result'), dreg: register(e.dreg, 'fib.dreg') });
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    return withUnknown<FibExpr>(
      {
        type: 'fib',
        result: fibResults.name(required(a.result, 'fib: NFTA_FIB_RESULT')) as FibResult,
        flags: fibFlags.names(a.flags ?? 0),
        dreg: required(a.dreg, 'fib: NFTA_FIB_DREG'),
      },
      a.unknown,
    );
  },
});
