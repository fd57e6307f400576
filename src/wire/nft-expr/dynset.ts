// dynset (net/netfilter/nft_dynset.c): adds, updates or deletes the element
// keyed by sreg_key in a set from the packet path (`update @s { ip saddr }`),
// optionally with per-element expressions (a limit, a counter).
import type { RawAttr } from '../netlink.js';
import { NFT_NAME_MAXLEN } from '../nfnetlink.js';
import { schema } from '../schema.js';
import { compileEncoder, fieldCheck, Enum, optRegister, register, required, withUnknown, writeUnknown, type Register } from './common.js';
import { decodeExpr, decodeExprList, encodeExprAttrs, encodeExprList, registerExpr, type Expr } from './registry.js';

// enum nft_dynset_attributes
export const NFTA_DYNSET_SET_NAME = 1;
export const NFTA_DYNSET_SET_ID = 2;
export const NFTA_DYNSET_OP = 3;
export const NFTA_DYNSET_SREG_KEY = 4;
export const NFTA_DYNSET_SREG_DATA = 5;
export const NFTA_DYNSET_TIMEOUT = 6;
export const NFTA_DYNSET_EXPR = 7;
export const NFTA_DYNSET_PAD = 8;
export const NFTA_DYNSET_FLAGS = 9;
export const NFTA_DYNSET_EXPRESSIONS = 10;
// enum nft_dynset_flags
export const NFT_DYNSET_F_INV = 1 << 0;
export const NFT_DYNSET_F_EXPR = 1 << 1;

// enum nft_dynset_ops
export const dynsetOps = new Enum('dynset op', { add: 0, update: 1, delete: 2 });

export interface DynsetExpr {
  type: 'dynset';
  set: string;
  setId?: number;
  op: 'add' | 'update' | 'delete' | number;
  sregKey: Register;
  sregData?: Register;
  /** Element timeout in milliseconds. */
  timeout?: bigint;
  /** Expressions attached to each element this creates. */
  exprs?: Expr[];
  /** NFT_DYNSET_F_INV; F_EXPR follows from exprs. */
  flags?: number;
  unknown?: RawAttr[];
}

// libnftnl order: sreg key, sreg data, op, timeout, set name, set id, expr(s), flags.
const attrs = schema('dynset', {
  sregKey: [NFTA_DYNSET_SREG_KEY, 'be32'],
  sregData: [NFTA_DYNSET_SREG_DATA, 'be32'],
  op: [NFTA_DYNSET_OP, 'be32'],
  timeout: [NFTA_DYNSET_TIMEOUT, 'be64'],
  set: [NFTA_DYNSET_SET_NAME, 'string'],
  setId: [NFTA_DYNSET_SET_ID, 'be32'],
  expr: [NFTA_DYNSET_EXPR, 'binary'],
  exprs: [NFTA_DYNSET_EXPRESSIONS, 'binary'],
  flags: [NFTA_DYNSET_FLAGS, 'be32'],
} as const);

const checkFields = fieldCheck('dynset', ['set', 'setId', 'op', 'sregKey', 'sregData', 'timeout', 'exprs', 'flags']);

const writeAttrs = compileEncoder(attrs);

declare module './registry.js' {
  interface ExprByName {
    dynset: DynsetExpr;
  }
}

export const dynset = registerExpr<DynsetExpr>({
  name: 'dynset',
  encode(w, e) {
    checkFields(e);
    if (typeof e.set !== 'string' || e.set.length === 0 || Buffer.byteLength(e.set) >= NFT_NAME_MAXLEN) {
      throw new TypeError(`dynset.set must be a set name of 1..${NFT_NAME_MAXLEN - 1} bytes`);
    }
    const exprs = e.exprs ?? [];
    writeAttrs(w, {
      sregKey: register(e.sregKey, 'dynset.sregKey'),
      sregData: optRegister(e.sregData, 'dynset.sregData'),
      op: dynsetOps.value(e.op, 'dynset.op'),
      timeout: e.timeout,
      set: e.set,
      setId: e.setId,
    });
    // One expression goes in NFTA_DYNSET_EXPR, several in NFTA_DYNSET_EXPRESSIONS (Linux 5.11+).
    if (exprs.length === 1) {
      // NFTA_DYNSET_EXPR holds the expression's attributes directly, not a list element.
      const at = w.nest(NFTA_DYNSET_EXPR);
      encodeExprAttrs(w, exprs[0]);
      w.endNest(at);
    } else if (exprs.length > 1) {
      encodeExprList(w, NFTA_DYNSET_EXPRESSIONS, exprs);
    }
    const flags = (e.flags ?? 0) | (exprs.length > 1 ? NFT_DYNSET_F_EXPR : 0);
    if (flags) w.be32(NFTA_DYNSET_FLAGS, flags >>> 0);
    writeUnknown(w, e.unknown);
  },
  decode(b) {
    const a = attrs.decode(b);
    const e: DynsetExpr = {
      type: 'dynset',
      set: required(a.set, 'dynset: NFTA_DYNSET_SET_NAME'),
      op: dynsetOps.name(required(a.op, 'dynset: NFTA_DYNSET_OP')) as DynsetExpr['op'],
      sregKey: required(a.sregKey, 'dynset: NFTA_DYNSET_SREG_KEY'),
    };
    if (a.setId !== undefined) e.setId = a.setId;
    if (a.sregData !== undefined) e.sregData = a.sregData;
    if (a.timeout !== undefined) e.timeout = a.timeout;
    if (a.expr) e.exprs = [decodeExpr(a.expr)];
    else if (a.exprs) e.exprs = decodeExprList(a.exprs);
    const flags = (a.flags ?? 0) & ~NFT_DYNSET_F_EXPR;
    if (flags) e.flags = flags;
    return withUnknown(e, a.unknown);
  },
});
